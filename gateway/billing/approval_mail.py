"""A financial administrator's answer to an invoice mail: `#approve` or `#reject <reason>`."""

from __future__ import annotations

from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.pipeline.context import MessageInProcess


def invoice_reply(m: MessageInProcess) -> Outcome | None:
    """The outcome when the mail answers an invoice; None for every other mail."""
    return None
