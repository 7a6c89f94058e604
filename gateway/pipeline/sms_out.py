"""Queue an SMS intent: render it in the recipient's language, fit it into the segment limit, and
write it to the outbox (channel "sms") in the caller's transaction, unless the number opted out."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from helpdesk.gateway.conversation.ticket_tag import format_tag
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.processing_log import ProcessingLog
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.sms.segments import fit
from helpdesk.store.outbox import enqueue_sms
from helpdesk.store.sms_people import is_opted_out
from helpdesk.store.tickets import record_event


def sms_text(ctx: PipelineContext, intent: OutboundIntent) -> tuple[str, int, str]:
    """(text, segments, encoding) of the intent as it will be sent."""
    s = ctx.settings
    context = {**intent.context, "tag": format_tag(s.ticket_tag, intent.ticket_number), "number": intent.ticket_number,
               "support_name": s.support_name, "support_address": s.support_address}
    body = ctx.renderer.render(intent.kind, intent.locale, context).body.strip()
    return fit(body, s.sms_max_segments, s.sms_transliterate, intent.sms_note)


def queue_sms(session: Session, intent: OutboundIntent, ctx: PipelineContext, trace: ProcessingLog) -> int | None:
    """The outbox row's id; None when the number opted out (recorded on the ticket)."""
    conn, now = session.connection(), ctx.clock()
    if is_opted_out(conn, intent.to_address):
        trace.add("sms", f"{intent.kind} to {intent.to_address} not sent: the number opted out of SMS")
        if intent.ticket_number:
            record_event(conn, intent.ticket_number, "reply-suppressed",
                         f"{intent.kind} SMS to {intent.to_address} not sent: opted out", now)
        return None
    text, segments, encoding = sms_text(ctx, intent)
    message_id = f"sms-{uuid.uuid4().hex}@{ctx.settings.message_id_domain}"
    row_id = enqueue_sms(conn, intent.kind, intent.ticket_number or None, intent.to_address, text, message_id, now)
    trace.add("sms", f"{intent.kind} to {intent.to_address} queued as outbox {row_id} ({segments} segment(s), "
              f"{encoding})")
    return row_id
