"""Raise an alert: store it, and deliver it to its people on the channels its level asks for.

Everything is written in the caller's transaction (the outbox rows with the alert), so an alert
exists exactly when the change that raised it does. Each recipient's delivery is recorded per
channel: "web" always (shown after login), "email" from important on, "sms" for urgent (an
outbox row the SMS dispatcher sends). A person without a phone number is recorded as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from helpdesk.gateway.alerts.levels import channels_for
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.processing_log import ProcessingLog
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.pipeline.sms_out import queue_sms
from helpdesk.gateway.staff_mailbox.staff_notify import notification_for
from helpdesk.store import alerts as store
from helpdesk.store import workflow as q

MAIL_KIND, SMS_KIND = "sla_alert", "alert_sms"


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


def _unique(people: list[q.Person]) -> list[q.Person]:
    seen, found = set(), []
    for person in people:
        if person.user_id not in seen and person.email:
            seen.add(person.user_id)
            found.append(person)
    return found


def _mail(session: Session, ctx: PipelineContext, notice: AlertNotice, people: list[q.Person],
          context: dict) -> dict[str, int]:
    """address -> outbox id of the alert mail each person got, threaded with the ticket's staff mail."""
    earlier = q.staff_notification_ids(session.connection(), notice.ticket.number) if notice.ticket else {}
    intents = [notification_for(p, MAIL_KIND, notice.ticket, context, earlier) for p in people]
    rows: list = []
    queue_mail(session, intents, ctx, queued_rows=rows)
    return {address: row_id for _, address, row_id in rows}


def _sms(session: Session, ctx: PipelineContext, notice: AlertNotice, person: q.Person, number: str,
         context: dict) -> int | None:
    """The outbox id of the alert's SMS, queued like every SMS (rendered, fitted into the segment
    limit); None when the number opted out."""
    intent = OutboundIntent(kind=SMS_KIND, ticket_number=notice.ticket.number if notice.ticket else 0,
                            to_address=number, to_name=person.name, locale=person.locale, in_reply_to=None,
                            context=context, auto_submitted="auto-generated", channel="sms")
    return queue_sms(session, intent, ctx, ProcessingLog())


def raise_alert(session: Session, ctx: PipelineContext, notice: AlertNotice, people: list[q.Person],
                already_mailed: dict[str, int] | None = None) -> int:
    """Store the alert and deliver it; returns its id. `already_mailed`: address -> outbox id of
    mail about the same news the person got anyway (a new ticket's notification): not sent twice."""
    conn, people = session.connection(), _unique(people)
    alert_id = store.insert_alert(conn, kind=notice.kind, level=notice.level, initiator=notice.initiator,
                                  ticket_id=notice.ticket.number if notice.ticket else None,
                                  subject=notice.subject, text=notice.text, now=ctx.clock(),
                                  escalation_level=notice.escalation_level)
    channels = channels_for(notice.level)
    context = {**notice.context, "alert_id": alert_id, "alert_level": notice.level}
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
