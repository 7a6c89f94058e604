"""Turn outbound intents into outbox rows: render in the recipient's locale, compose, enqueue.

Runs inside the transaction of the change that caused the mail, so the mail exists exactly
when the change does. Automatic replies to a sender are limited per address and hour. Every
recipient gets a copy of their own whose Reply-To is their signed reply address.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from helpdesk.gateway.conversation.ticket_tag import format_tag
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.processing_log import ProcessingLog
from helpdesk.gateway.hygiene.bounce_records import blocked_reason
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.sms_out import queue_sms
from helpdesk.store.outbox import enqueue, recent_mail_to
from helpdesk.store.tickets import TicketStore
from helpdesk.store.workflow import reply_identities


def _over_limit(session: Session, intent: OutboundIntent, limit: int, now: datetime) -> str | None:
    if intent.auto_submitted != "auto-replied":  # only answers to a sender can start a loop
        return None
    if recent_mail_to(session.connection(), intent.to_address, now - timedelta(hours=1)) < limit:
        return None
    return f"more than {limit} automatic replies to this address in the last hour"


def _blocked(session: Session, intent: OutboundIntent, writer: str, now: datetime) -> str | None:
    # A person's answer still goes; only automatic mail is held back. The writer of the mail being
    # handled has just shown their address works (which lifted any block), so no look-up for them;
    # an SMS goes to a number, which bounces have never blocked.
    if intent.auto_submitted is None or intent.to_address == writer or intent.channel == "sms":
        return None
    return blocked_reason(session.connection(), intent.to_address, now)


def _suppressed(session: Session, intent: OutboundIntent, limit: int, writer: str, now: datetime) -> str | None:
    """Why this mail must not go out, recorded on the ticket; None when it may."""
    no_address = intent.channel == "email" and "@" not in intent.to_address
    reason = ("the recipient has no mail address (they only texted)" if no_address else None) \
        or _over_limit(session, intent, limit, now) or _blocked(session, intent, writer, now)
    if reason and intent.ticket_number:
        TicketStore(session).record_event(intent.ticket_number, "reply-suppressed",
                                          f"{intent.kind} to {intent.to_address} not sent: {reason}")
    return reason


def _recipients(intent: OutboundIntent) -> tuple[str, ...]:
    return (intent.to_address,) + tuple(address for address, _ in intent.cc)


def _copies(intent: OutboundIntent, rendered, ctx: PipelineContext, identities: dict[str, tuple[int, int]],
            tag: str, now: datetime) -> list:
    """One composed copy per recipient, alike but for the Reply-To (only its recipient may know
    theirs: signed for their user; the support address for one no user has) and the envelope;
    one Message-ID for all, as a mailing list does."""
    s = ctx.settings
    message_id = ctx.signer.new(intent.ticket_number)
    copies = []
    for address in _recipients(intent):
        identity = identities.get(address.lower())
        reply_to = ctx.replies.address_for(*identity, intent.ticket_number) if identity else None
        copies.append(ctx.compose(intent, rendered, tag=tag, support_name=s.support_name,
                                  support_address=s.support_address, message_id=message_id, now=now,
                                  reply_to=reply_to, rcpt_to=(address,)))
    return copies


def queue_mail(session: Session, intents: list[OutboundIntent], ctx: PipelineContext,
               trace: ProcessingLog | None = None, writer: str = "", queued_rows: list | None = None) -> int:
    """Enqueue the mail of `intents`; returns how many outbox rows were queued.
    `writer` is the sender of the message being handled, if any; `queued_rows`, when given,
    receives (kind, address, outbox id) of every row (alerts record who was told)."""
    s, now = ctx.settings, ctx.clock()
    trace = trace or ProcessingLog()
    sending = []
    for intent in intents:
        if reason := _suppressed(session, intent, s.auto_reply_limit_per_hour, writer, now):
            trace.add("mail", f"{intent.kind} to {intent.to_address} suppressed: {reason}")
        else:
            sending.append(intent)
    texts = [i for i in sending if i.channel == "sms"]
    sending = [i for i in sending if i.channel != "sms"]
    queued = 0
    for intent in texts:
        if (row_id := queue_sms(session, intent, ctx, trace)) is not None:
            queued += 1
            if queued_rows is not None:
                queued_rows.append((intent.kind, intent.to_address, row_id))
    # Every recipient's user and reply generation in one look-up for the whole message.
    identities = reply_identities(session.connection(), [a for i in sending for a in _recipients(i)]) \
        if sending else {}
    for intent in sending:
        tag = format_tag(s.ticket_tag, intent.ticket_number)
        rendered = ctx.renderer.render(intent.kind, intent.locale, {
            **intent.context, "tag": tag, "number": intent.ticket_number,
            "support_name": s.support_name, "support_address": s.support_address,
        })
        for index, composed in enumerate(_copies(intent, rendered, ctx, identities, tag, now)):
            row_id = enqueue(session, composed, intent.kind, intent.ticket_number, thread_ref=index == 0)
            trace.add("mail", f"{intent.kind} to {', '.join(composed.rcpt_to)} queued as outbox {row_id}")
            if queued_rows is not None:
                queued_rows.append((intent.kind, composed.rcpt_to[0].lower(), row_id))
            queued += 1
    return queued
