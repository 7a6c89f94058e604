"""The daily inspection reminders: before an object's inspection is due (settings.reminder_days, e.g.
30 and 7 days) and once when it is overdue, an alert to the object's responsible people.

Each step goes once per due date: its inspection_reminder row is inserted first (ON CONFLICT DO
NOTHING) and only the transaction whose insert took sends, so a second run, a restart or a second
instance sends nothing again. When several steps are due at once (an object added 5 days before its
date) only the most urgent is sent and the earlier ones are recorded as passed, unsent.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from helpdesk.gateway.alerts.audience import object_audience
from helpdesk.gateway.alerts.fanout import AlertNotice, object_alert_context, raise_alert
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store.object_tables import ClientObject, InspectionReminder
from helpdesk.store.objects import ObjectRow, get_object

OVERDUE = "overdue"
_object, _reminder = ClientObject.__table__, InspectionReminder.__table__
# Objects whose earliest reminder day has come; the index on next_inspection_on finds them.
DUE_OBJECTS = (select(_object.c.id).where(_object.c.next_inspection_on.is_not(None),
                                          _object.c.next_inspection_on <= bindparam("horizon"))
               .order_by(_object.c.next_inspection_on, _object.c.id))
SENT_STEPS = select(_reminder.c.step).where(_reminder.c.object_id == bindparam("object_id"),
                                            _reminder.c.due_on == bindparam("due_on"))
LINK_ALERT = update(_reminder).where(_reminder.c.object_id == bindparam("b_object_id"),
                                     _reminder.c.due_on == bindparam("b_due_on"),
                                     _reminder.c.step == bindparam("b_step")).values(alert_id=bindparam("b_alert_id"))


def due_steps(due_on: date, today: date, reminder_days: tuple[int, ...]) -> list[str]:
    """The steps whose day has come, earliest first (e.g. ["30", "7"], or [..., "overdue"])."""
    steps = [str(days) for days in sorted(reminder_days, reverse=True) if (due_on - today).days <= days]
    return steps + [OVERDUE] if today > due_on else steps


def _claim(session: Session, object_id: int, due_on: date, step: str, now) -> bool:
    """Insert the step's row; True only for the one transaction whose insert took."""
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_reminder).values(object_id=object_id, due_on=due_on, step=step, sent_at=now)
    # RETURNING rather than rowcount, which psycopg reports as -1 for INSERT ... ON CONFLICT.
    statement = statement.on_conflict_do_nothing(index_elements=["object_id", "due_on", "step"])
    return conn.execute(statement.returning(_reminder.c.step)).first() is not None


def _notice(obj: ObjectRow, step: str, today: date) -> AlertNotice:
    due = obj.next_inspection_on.isoformat()
    overdue = step == OVERDUE
    subject = (f"inspection of {obj.identifier} overdue since {due}" if overdue
               else f"inspection of {obj.identifier} due {due}")
    context = object_alert_context(obj, OVERDUE if overdue else "reminder", subject, subject, due,
                                   (obj.next_inspection_on - today).days)
    return AlertNotice("inspection-overdue" if overdue else "inspection-reminder", "important", "internal-service",
                       None, subject, subject, context=context, object_id=obj.id)


def remind_object(session: Session, ctx: PipelineContext, obj: ObjectRow, today: date) -> int:
    """Send the object's most urgent due step if nobody has; returns how many alerts were raised (0 or 1)."""
    steps = due_steps(obj.next_inspection_on, today, ctx.settings.reminder_days)
    conn = session.connection()
    sent = set(conn.execute(SENT_STEPS, {"object_id": obj.id, "due_on": obj.next_inspection_on}).scalars())
    if not steps or steps[-1] in sent:
        return 0
    now = ctx.clock()
    for passed in steps[:-1]:  # earlier steps are over: recorded so they never go late
        _claim(session, obj.id, obj.next_inspection_on, passed, now)
    if not _claim(session, obj.id, obj.next_inspection_on, steps[-1], now):
        return 0  # another instance sent it meanwhile
    alert_id = raise_alert(session, ctx, _notice(obj, steps[-1], today), object_audience(conn, obj.id))
    conn.execute(LINK_ALERT, {"b_object_id": obj.id, "b_due_on": obj.next_inspection_on, "b_step": steps[-1],
                              "b_alert_id": alert_id})
    return 1


def due_object_ids(session: Session, ctx: PipelineContext, today: date) -> list[int]:
    """The objects whose earliest reminder day has come (whether or not it was sent)."""
    horizon = date.fromordinal(min(today.toordinal() + max(ctx.settings.reminder_days, default=0),
                                   date.max.toordinal()))
    return list(session.connection().execute(DUE_OBJECTS, {"horizon": horizon}).scalars())


def remind_one(session: Session, ctx: PipelineContext, object_id: int, today: date) -> int:
    obj = get_object(session.connection(), object_id)
    if obj is None or obj.next_inspection_on is None:  # removed or inspected meanwhile
        return 0
    return remind_object(session, ctx, obj, today)


def remind_inspections(session: Session, ctx: PipelineContext, today: date) -> int:
    """One daily pass over every object with an inspection date in one transaction; returns how many
    reminders went. (The scheduled job takes one transaction per object: due_object_ids, remind_one.)"""
    return sum(remind_one(session, ctx, object_id, today) for object_id in due_object_ids(session, ctx, today))
