"""The scheduler's look at due SLA clocks: warn, announce a breach, repeat and widen the escalation.

Only tickets whose stored `sla_next_at` has come are read (an index finds them; no calendar is
computed for the others). Each is handled in the pass's transaction with its row locked (SKIP
LOCKED on PostgreSQL: two schedulers never take the same ticket), and what was sent is recorded
on the ticket with the alert, so a restart neither repeats nor loses one: a gateway that was down
finds the missed moments due and catches up once (a breach that came meanwhile is announced
without the warning that would have preceded it).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session

from helpdesk.gateway.alerts.audience import circle
from helpdesk.gateway.alerts.fanout import AlertNotice, raise_alert
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.sla.clock import TARGET_NAMES, Clock, Escalated, Step, step
from helpdesk.gateway.sla.durations import say_duration, say_moment
from helpdesk.gateway.sla.keeper import clock_columns, clock_of, done_of, still_true, targets_of
from helpdesk.gateway.sla.profiles import Targets
from helpdesk.store import workflow as q
from helpdesk.store.sla_clock import clock_row, due_tickets, set_clock
from helpdesk.store.tickets import record_event

log = logging.getLogger("helpdesk.sla")


def _names(bits: int) -> list[str]:
    return [name for bit, name in TARGET_NAMES.items() if bits & bit]


def _shortest(bits: int, targets: Targets) -> int:
    values = {1: targets.first_response, 2: targets.resolution}
    return min(v for bit, v in values.items() if bits & bit and v is not None)


def _context(conn, state: q.TicketState, clock: Clock, targets: Targets, bits: int, event: str, level: int,
             share: float, row: dict) -> dict:
    """What the sla_alert templates say about the ticket and its clock."""
    target = _shortest(bits, targets)
    due_column = "first_response_due_at" if bits & 1 and not clock.responded else "resolution_due_at"
    assignee = q.person(conn, state.assignee_id) if state.assignee_id else None
    requester = q.person(conn, state.requester_id)
    return {"event": event, "targets": _names(bits), "subject": state.subject, "queue": state.queue,
            "priority": state.priority, "assignee_name": (assignee.name or assignee.email) if assignee else "",
            "requester_name": requester.name if requester else "",
            "requester_email": requester.email if requester else "", "due": say_moment(row.get(due_column)),
            "overdue": say_duration(clock.used - target) if clock.used > target else "",
            "used": say_duration(clock.used), "target": say_duration(target), "share": round(share * 100),
            "level": level, "alert_text": ""}


def _act(session: Session, ctx: PipelineContext, number: int, clock: Clock, targets: Targets, done: Escalated,
         todo: Step, row: dict, now: datetime) -> Escalated:
    conn, esc = session.connection(), ctx.rules().sla.escalation
    state = q.ticket_state(conn, number)
    if todo.warn and not todo.breach:
        words = ("assignee",) if state.assignee_id else ("queue", "dispatchers")
        context = _context(conn, state, clock, targets, todo.warn, "warning", 0, esc.warn_share, row)
        raise_alert(session, ctx, AlertNotice("sla-warning", esc.warning_level, "internal-service", state,
                                              f"SLA warning: {', '.join(context['targets'])} of ticket {number}",
                                              context=context), circle(conn, words, state, now.date()))
        record_event(conn, number, "sla-warning", f"{' and '.join(context['targets'])}: {context['used']} of "
                     f"{context['target']} working time used", now)
    done = replace(done, warned=done.warned | todo.warn | todo.breach)
    if not (todo.breach or todo.repeat):
        return done
    level, bits = done.level + 1, todo.breach or done.breached
    event = "breach" if todo.breach else "escalation"
    context = _context(conn, state, clock, targets, bits, event, level, esc.warn_share, row)
    words = esc.circles[min(level, len(esc.circles)) - 1]
    alert_level = esc.breach_level.get(state.priority, "important")
    raise_alert(session, ctx, AlertNotice("sla-breach" if todo.breach else "escalation", alert_level,
                                          "internal-service", state,
                                          f"SLA {event} (level {level}): {', '.join(context['targets'])} of ticket "
                                          f"{number}", escalation_level=level, context=context),
                circle(conn, words, state, now.date()))
    record_event(conn, number, "sla-breach" if todo.breach else "escalated",
                 f"{' and '.join(context['targets'])} overdue by {context['overdue']}; escalation level {level} "
                 f"to {', '.join(words)} ({alert_level})", now)
    log.info("ticket %s: SLA %s, escalation level %d to %s", number, event, level, ", ".join(words))
    # A new breach is new news: an acknowledgement of the earlier one does not silence its repeats.
    return replace(done, breached=done.breached | todo.breach, level=level, at=now,
                   acked=done.acked and not todo.breach)


def look_at(session: Session, ctx: PipelineContext, number: int, now: datetime) -> None:
    config, conn = ctx.rules().sla, session.connection()
    row = clock_row(conn, number)
    profile = config.profile(row["sla_profile"])
    clock = clock_of(row, now).advanced(profile.calendar, now)
    targets, esc = targets_of(profile, row["priority"]), config.escalation
    # Under the rules as they are now: a reload may have lengthened a target or removed it.
    done = still_true(done_of(row), clock, targets, esc.warn_share)
    todo = step(clock, targets, done, esc.warn_share, esc.repeat_every, now)
    if todo:
        done = _act(session, ctx, number, clock, targets, done, todo, row, now)
    set_clock(conn, number, clock_columns(clock, profile, row["priority"], done, config))


def check_clocks(session: Session, ctx: PipelineContext, now: datetime, limit: int = 500) -> int:
    """Handle up to `limit` due clocks in the caller's transaction; returns how many were looked at."""
    numbers = due_tickets(session.connection(), now, limit)
    for number in numbers:
        try:
            with session.begin_nested():  # one ticket's failure must not hold back everyone's escalation
                look_at(session, ctx, number, now)
        except Exception:
            log.exception("ticket %s: SLA look failed; its clock is left as it was and tried at the next pass",
                          number)
            _postpone(session, number, now)
    return len(numbers)


def _postpone(session: Session, number: int, now: datetime) -> None:
    """A ticket whose look failed waits a pass, so the same batch does not stop at it every minute."""
    set_clock(session.connection(), number, {"sla_next_at": now + timedelta(minutes=5)})
