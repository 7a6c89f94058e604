"""Address helpers shared by the listener and the pipeline."""

from __future__ import annotations


def base_address(address: str) -> str:
    """support+printers@example.com -> support@example.com (RFC 5233 subaddressing)."""
    local, sep, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}{sep}{domain}" if sep else address.lower()
