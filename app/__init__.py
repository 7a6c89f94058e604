"""The composition root: the running service and the CLI, which wire the deciding code to the adapters."""
