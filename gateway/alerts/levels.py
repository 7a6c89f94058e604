"""The alert levels and initiators of the providers' design, and which channels each level uses.

standard: stored and visible to those it concerns (the CLI; the web view after login);
important: standard plus email to them; urgent: important plus SMS.
"""

from __future__ import annotations

LEVELS = ("standard", "important", "urgent")
INITIATORS = {
    "external-client": "a client's request",
    "external-service": "a technician informing a client of planned or taken actions",
    "internal-service": "the system's own automation (SLA warnings and breaches, inspection reminders)",
    "internal-client": "a client's IT system registering a fault automatically",
}
_CHANNELS = {"standard": ("web",), "important": ("web", "email"), "urgent": ("web", "email", "sms")}


def channels_for(level: str) -> tuple[str, ...]:
    return _CHANNELS[level]


def louder(a: str, b: str) -> str:
    """The louder of two levels (a critical object's alert is at least urgent, say)."""
    return max(a, b, key=LEVELS.index)
