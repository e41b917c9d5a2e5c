"""Importing this package registers every check family."""

from ocitool.check.rules import kernel, paths, process, resources, seccomp  # noqa: F401
