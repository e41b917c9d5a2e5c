"""Run the OCI runtime-tools validation suite against a runtime (see docs/conformance.md)."""
