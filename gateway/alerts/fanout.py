"""Raise an alert: store it, and deliver it to its people on the channels its level asks for.

Everything is written in the caller's transaction (the outbox rows with the alert), so an alert
exists exactly when the change that raised it does. Each recipient's delivery is recorded per
channel: "web" always (shown after login), "email" from important on, "sms" for urgent (an
outbox row the SMS dispatcher sends). A person without a phone number is recorded as such.

An alert about a client's object (an inspection reminder, an announcement of planned work) may have
no ticket: its mail is rendered from its own template (`object_alert`) and carries no ticket tag,
signed Message-ID or signed Reply-To (there is no ticket a reply could continue), so an answer
to it reaches the support address as new mail. An alert about a critical object is at least urgent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlmodel import Session

from helpdesk.gateway.alerts.levels import channels_for, louder
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.processing_log import ProcessingLog
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.mailer import _suppressed, queue_mail
from helpdesk.gateway.pipeline.sms_out import queue_sms
from helpdesk.gateway.staff_mailbox.staff_notify import notification_for
from helpdesk.store import alerts as store
from helpdesk.store import workflow as q
from helpdesk.store.objects import ObjectRow, get_object
from helpdesk.store.outbox import enqueue

MAIL_KIND, SMS_KIND, OBJECT_MAIL_KIND = "sla_alert", "alert_sms", "object_alert"


@dataclass(frozen=True)
class AlertNotice:
    kind: str                 # sla-warning, sla-breach, escalation, ticket-alert, ...
    level: str                # standard, important, urgent
    initiator: str            # gateway/alerts/levels.INITIATORS
    ticket: q.TicketState | None
    subject: str              # one line for lists
    text: str = ""
    escalation_level: int | None = None
    context: dict = field(default_factory=dict)  # what the templates say (see templates/sla_alert)
    object_id: int | None = None  # the client's object it is about (templates/object_alert without a ticket)


def object_alert_context(obj: ObjectRow, event: str, subject: str, text: str, due: str = "", days: int = 0) -> dict:
    """What templates/object_alert reads: event is reminder, overdue, announcement or alert."""
    return {"event": event, "object_identifier": obj.identifier, "object_name": obj.name, "due": due,
            "days": days, "subject": subject, "alert_text": text}


def _unique(people: list[q.Person]) -> list[q.Person]:
    seen, found = set(), []
    for person in people:
        if person.user_id not in seen and person.email:
            seen.add(person.user_id)
            found.append(person)
    return found


def _object_mail(session: Session, ctx: PipelineContext, people: list[q.Person], context: dict) -> dict[str, int]:
    """address -> outbox id of the mail of an alert without a ticket. queue_mail cannot queue it (it
    tags, signs and threads every mail for a ticket), so the same steps are taken here without one:
    the same suppression (bounce blocks, the hourly limit), rendering and header checks."""
    s, now, found = ctx.settings, ctx.clock(), {}
    for person in people:
        intent = OutboundIntent(kind=OBJECT_MAIL_KIND, ticket_number=0, to_address=person.email,
                                to_name=person.name, locale=person.locale, in_reply_to=None, context=context,
                                auto_submitted="auto-generated")
        if _suppressed(session, intent, s.auto_reply_limit_per_hour, "", now):
            continue
        rendered = ctx.renderer.render(intent.kind, intent.locale, {
            **context, "tag": "", "number": 0, "support_name": s.support_name, "support_address": s.support_address})
        message_id = f"object{context['alert_id']}.{secrets.token_hex(8)}@{ctx.signer.domain}"
        composed = ctx.compose(intent, rendered, tag="", support_name=s.support_name,
                               support_address=s.support_address, message_id=message_id, now=now,
                               reply_to=None, rcpt_to=(person.email,))
        found[person.email.lower()] = enqueue(session, composed, intent.kind, None, thread_ref=False)
    return found


def _mail(session: Session, ctx: PipelineContext, notice: AlertNotice, people: list[q.Person],
          context: dict) -> dict[str, int]:
    """address -> outbox id of the alert mail each person got, threaded with the ticket's staff mail."""
    if notice.ticket is None:
        return _object_mail(session, ctx, people, context)
    earlier = q.staff_notification_ids(session.connection(), notice.ticket.number)
    intents = [notification_for(p, MAIL_KIND, notice.ticket, context, earlier) for p in people]
    rows: list = []
    queue_mail(session, intents, ctx, queued_rows=rows)
    return {address: row_id for _, address, row_id in rows}


def _sms(session: Session, ctx: PipelineContext, notice: AlertNotice, person: q.Person, number: str,
         context: dict) -> int | None:
    """The outbox id of the alert's SMS, queued like every SMS (rendered, fitted into the segment
    limit); None when the number opted out."""
    # Without a ticket there is no ticket tag to start the SMS with: the object's template says it instead.
    kind, context = (SMS_KIND, context) if notice.ticket else (OBJECT_MAIL_KIND, {**context, "sms": True})
    intent = OutboundIntent(kind=kind, ticket_number=notice.ticket.number if notice.ticket else 0,
                            to_address=number, to_name=person.name, locale=person.locale, in_reply_to=None,
                            context=context, auto_submitted="auto-generated", channel="sms")
    return queue_sms(session, intent, ctx, ProcessingLog())


def raise_alert(session: Session, ctx: PipelineContext, notice: AlertNotice, people: list[q.Person],
                already_mailed: dict[str, int] | None = None) -> int:
    """Store the alert and deliver it; returns its id. `already_mailed`: address -> outbox id of
    mail about the same news the person got anyway (a new ticket's notification): not sent twice."""
    conn, people = session.connection(), _unique(people)
    obj = get_object(conn, notice.object_id) if notice.object_id is not None else None
    level = louder(notice.level, "urgent") if obj is not None and obj.critical else notice.level
    alert_id = store.insert_alert(conn, kind=notice.kind, level=level, initiator=notice.initiator,
                                  ticket_id=notice.ticket.number if notice.ticket else None,
                                  subject=notice.subject, text=notice.text, now=ctx.clock(),
                                  escalation_level=notice.escalation_level, object_id=notice.object_id)
    channels = channels_for(level)
    context = {**notice.context, "alert_id": alert_id, "alert_level": level}
    rows = [{"alert_id": alert_id, "user_id": p.user_id, "channel": "web", "address": p.email, "detail": ""}
            for p in people]
    if "email" in channels and people:
        mailed = dict(already_mailed or {})
        unmailed = [p for p in people if p.email.lower() not in mailed]
        mailed.update(_mail(session, ctx, notice, unmailed, context) if unmailed else {})
        rows += [{"alert_id": alert_id, "user_id": p.user_id, "channel": "email", "address": p.email,
                  "outbox_id": mailed.get(p.email.lower()),
                  "detail": "" if p.email.lower() in mailed else "not sent (see the ticket's events)"}
                 for p in people]
    if "sms" in channels and people:
        numbers = store.phones(conn, [p.user_id for p in people])
        for p in people:
            number = numbers.get(p.user_id)
            row_id = _sms(session, ctx, notice, p, number, context) if number else None
            rows.append({"alert_id": alert_id, "user_id": p.user_id, "channel": "sms", "address": number or "",
                         "outbox_id": row_id,
                         "detail": "" if row_id else "opted out of SMS" if number else "no phone number"})
    store.insert_deliveries(conn, [{"outbox_id": None, **r} for r in rows])
    return alert_id
