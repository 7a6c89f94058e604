"""Plan the mail an outcome causes; nothing is sent here (the outbox and dispatcher do that)."""

from __future__ import annotations

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import Disposition


def answer_thread(mail: InboundMail) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References of an answer to `mail`. Mail that came without a Message-ID gets an
    answer without them: referring to the id the parser made up would point at nothing the sender has."""
    if mail.message_id_synthesized:
        return None, ()
    return mail.message_id, mail.references + (mail.message_id,)


def _reply_to_sender(kind: str, outcome: Outcome) -> OutboundIntent:
    mail = outcome.mail
    is_requester = mail.sender == outcome.requester_email
    in_reply_to, references = answer_thread(mail)
    return OutboundIntent(
        kind=kind, ticket_number=outcome.ticket_number,
        to_address=mail.sender, to_name=mail.sender_name,
        locale=outcome.locale if is_requester else None,
        in_reply_to=in_reply_to, references=references,
        context={"subject": outcome.ticket_subject, "requester_name": mail.sender_name,
                 **salutation(mail.sender_name)},
    )


def _text_to_sender(outcome: Outcome) -> OutboundIntent:
    """An SMS ticket is acknowledged by SMS, in the requester's language, with its number."""
    return OutboundIntent(kind="sms_acknowledgement", ticket_number=outcome.ticket_number,
                          to_address=outcome.mail.sender, to_name="", locale=outcome.locale, in_reply_to=None,
                          context={"subject": outcome.ticket_subject}, channel="sms")


def plan_notifications(outcome: Outcome) -> list[OutboundIntent]:
    if outcome.no_reply_reason or outcome.disposition in (Disposition.DUPLICATE, Disposition.APPENDED):
        return []
    if outcome.mail.channel == "sms":
        created = outcome.disposition in (Disposition.CREATED, Disposition.REOPENED)
        return [_text_to_sender(outcome)] if created else []
    if outcome.disposition == Disposition.CREATED:
        return [_reply_to_sender(outcome.acknowledgement, outcome)]
    if outcome.disposition == Disposition.REOPENED:
        return [_reply_to_sender("reopened", outcome)]
    return []
