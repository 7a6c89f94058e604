"""Plan the mail an outcome causes; nothing is sent here (the outbox and dispatcher do that)."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpdesk.gateway.ground.message import ParsedAttachment
from helpdesk.gateway.pipeline.apply import Disposition, Outcome


@dataclass(frozen=True)
class OutboundIntent:
    kind: str                 # also the template name: "acknowledgement", "reopened"
    ticket_number: int
    to_address: str
    to_name: str
    locale: str | None
    in_reply_to: str | None   # Message-ID we answer, for the client's threading
    references: tuple[str, ...] = ()
    context: dict = field(default_factory=dict)
    cc: tuple[tuple[str, str], ...] = ()        # (address, name) of further recipients
    from_name: str | None = None                # display name on From; the support name when None
    attachments: tuple[ParsedAttachment, ...] = ()
    # RFC 3834 marking: "auto-replied" (answers to a sender, limited per hour), "auto-generated"
    # (notifications to staff), None for mail a person wrote (a technician's reply).
    auto_submitted: str | None = "auto-replied"


def _reply_to_sender(kind: str, outcome: Outcome) -> OutboundIntent:
    mail = outcome.mail
    is_requester = mail.sender == outcome.requester_email
    return OutboundIntent(
        kind=kind, ticket_number=outcome.ticket_number,
        to_address=mail.sender, to_name=mail.sender_name,
        locale=outcome.locale if is_requester else None,
        in_reply_to=mail.message_id, references=mail.references + (mail.message_id,),
        context={"subject": outcome.ticket_subject, "requester_name": mail.sender_name},
    )


def plan_notifications(outcome: Outcome) -> list[OutboundIntent]:
    if outcome.no_reply_reason or outcome.disposition in (Disposition.DUPLICATE, Disposition.APPENDED):
        return []
    if outcome.disposition == Disposition.CREATED:
        return [_reply_to_sender(outcome.acknowledgement, outcome)]
    if outcome.disposition == Disposition.REOPENED:
        return [_reply_to_sender("reopened", outcome)]
    return []
