"""Mail about a client's object: a document for it (`[OBJ SRV-01]` in the subject), a request for
its list of documents (`#docs SRV-01`), a technician's `#inspected SRV-01` with the report."""

from __future__ import annotations

from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.pipeline.context import MessageInProcess


def object_mail(m: MessageInProcess) -> Outcome | None:
    """The outcome when the mail is about an object rather than a ticket; None for every other mail."""
    return None


def machine_fault(m: MessageInProcess) -> Outcome | None:
    """The outcome when a monitoring system's mail repeats or recovers a known fault; None otherwise."""
    return None
