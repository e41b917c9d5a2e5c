"""Lint rules for OCI bundle configs: a registry of coded rules, an engine and reporters.

Rule codes are stable and grouped in three families: ``OCR1xx`` correctness,
``OCS2xx`` security, ``OCP3xx`` portability. ``ocitool lint`` (the CI step)
is built on :func:`ocitool.lint.engine.lint_document` and the reporters in
``ocitool.lint.report``; the registry is :mod:`ocitool.lint.registry`.

The package itself imports nothing: ``ocitool check`` uses lint's reporters
without loading lint's rules.
"""
