"""ocitool: compile an OCI bundle's config.json into a Plan of system calls, show it, run it."""

__version__ = "0.1.0"
