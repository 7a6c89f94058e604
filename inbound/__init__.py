"""Adapters that take mail in (SMTP listener, pipe) and store it before anything else happens."""
