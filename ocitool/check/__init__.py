"""Preflight: will this bundle start on this host, and if not, why.

The third consumer of the Plan (after the printer and the executor): the
config is lowered for the detected host and each op's preconditions are
checked against the machine, reading only (stat, readlink, a few /proc and
/sys files, the headers of the executable). ``ocitool check`` reports the
findings; ``ocitool lint --host-specific`` includes them; ``ocitool exec
--check`` refuses to start on them; and after a failed start the CLI asks
:mod:`ocitool.check.explain` for the finding behind the failed op.
"""
