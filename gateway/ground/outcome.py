"""What processing one message decided: the outcome the pipeline records and notifies from."""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.records import ContactRow, TicketState
from helpdesk.gateway.ground.statuses import Disposition


@dataclass(frozen=True)
class Refusal:
    """A message named a ticket its sender may not continue."""

    number: int
    reason: str


@dataclass(frozen=True)
class Outcome:
    disposition: Disposition
    mail: InboundMail
    ticket_number: int | None = None
    ticket_subject: str = ""
    requester: ContactRow | None = None
    no_reply_reason: str | None = None
    acknowledgement: str = "acknowledgement"  # template kind, chosen by the routing rule
    log: tuple[str, ...] = ()  # the processing log (ground/processing_log.py), filled in by the pipeline
    state: TicketState | None = None  # a new ticket as created, so notifying staff needs no re-read

    @property
    def requester_email(self) -> str:
        return self.requester.email if self.requester else ""

    @property
    def locale(self) -> str | None:
        return self.requester.locale if self.requester else None
