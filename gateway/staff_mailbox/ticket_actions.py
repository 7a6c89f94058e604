"""Carry out technicians' commands on a ticket: check all of them first, then apply all.

A mail whose commands cannot all be carried out changes nothing (the technician is told
why): half-applied mail would leave a ticket in a state nobody asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from helpdesk.gateway.accounts.permissions import Actor, decide
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, TicketStatus
from helpdesk.gateway.objects.problems import link_to_problem, why_not_link
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.gateway.staff_mailbox.mail_commands import Command, parse_cc, parse_duration
from helpdesk.store import workflow as q
from helpdesk.store.alerts import acknowledge_ticket
from helpdesk.store.tickets import PARTICIPANTS, TicketStore

_STATUS_COMMANDS = ("pending", "resolve", "close", "reopen")


@dataclass
class Applied:
    """What the commands changed, for the caller's mail and the ticket's history."""

    status: str
    assigned_to: q.Person | None = None      # a new assignee other than the sender, to be told
    resolved: bool = False
    moved_to_queue: str | None = None
    events: list[str] = field(default_factory=list)


def _person_ref(conn: Connection, ref: str) -> q.Person | None:
    ref = ref.strip().strip("<>")
    return q.person(conn, int(ref)) if ref.isdigit() and len(ref) < 10 else q.person_by_address(conn, ref)


def _check_one(conn: Connection, staff: q.Person, state: q.TicketState, cmd: Command, queues) -> str | None:
    if cmd.name == "problem":  # linking incidents is a technician's judgement of their common cause
        if "technician" not in staff.roles:
            return "#problem: not allowed (only technicians link incidents to a problem)"
        return why_not_link(conn, state.number, cmd.argument)
    allowed = decide(Actor(staff.user_id, None, staff.roles, staff.active), f"ticket.command.{cmd.name}")
    if not allowed:
        return f"#{cmd.name}: not allowed ({allowed.reason})"
    if cmd.name == "take" and state.assignee_id not in (None, staff.user_id):
        owner = q.person(conn, state.assignee_id)
        return f"#take: ticket is already taken by {owner.name or owner.email}"
    if cmd.name == "assign":
        target = _person_ref(conn, cmd.argument)
        if target is None or "technician" not in target.roles or not target.active:
            return f"#assign: {cmd.argument!r} is not an active technician"
    if cmd.name == "queue" and cmd.argument not in queues:
        # The running rules' queues, the same list routing uses and `queues list` shows.
        return (f"#queue: unknown queue {cmd.argument!r} (one of {', '.join(sorted(queues))}; "
                "queues are declared in rules.yaml)")
    if cmd.name == "priority" and cmd.argument.lower() not in PRIORITIES:
        return f"#priority: unknown level {cmd.argument!r} (one of {', '.join(PRIORITIES)})"
    if cmd.name == "category" and len(cmd.argument) > 64:
        return "#category: at most 64 characters"
    if cmd.name == "cc":
        return _check_cc(conn, state, cmd)
    finished = state.status in FINISHED_STATUSES
    if cmd.name in ("pending", "resolve") and finished:
        return f"#{cmd.name}: the ticket is {state.status}; #reopen it first"
    if cmd.name == "close" and state.status == TicketStatus.CLOSED:
        return "#close: the ticket is already closed"
    if cmd.name == "reopen" and not finished:
        return f"#reopen: the ticket is {state.status}, not resolved or closed"
    return None


def _check_cc(conn: Connection, state: q.TicketState, cmd: Command) -> str | None:
    action, address = parse_cc(cmd.argument)
    if len(address) > 320:
        return "#cc: an address has at most 320 characters"
    person = q.person_by_address(conn, address)
    if action == "add" and person is not None and person.is_staff:
        return f"#cc: {address} is staff; staff hear of tickets through their queues"
    if action == "remove" and address not in set(conn.execute(PARTICIPANTS, {"number": state.number}).scalars()):
        return f"#cc: {address} is not a participant of the ticket"
    return None


def check_commands(conn: Connection, staff: q.Person, state: q.TicketState, commands: tuple[Command, ...],
                   queues: set[str]) -> list[str]:
    """Every reason the commands cannot be carried out; empty when all can."""
    errors = [e for cmd in commands if (e := _check_one(conn, staff, state, cmd, queues))]
    status_commands = [c.name for c in commands if c.name in _STATUS_COMMANDS]
    if len(status_commands) > 1:
        errors.append("only one of #pending, #resolve, #close, #reopen at a time, got "
                      + ", ".join("#" + c for c in status_commands))
    if {"take", "assign"} <= {c.name for c in commands}:
        errors.append("#take and #assign contradict each other")
    return errors


def _assign(store: TicketStore, staff: q.Person, state: q.TicketState, cmd: Command, applied: Applied,
            now: datetime) -> None:
    conn = store.conn
    if cmd.name == "take":
        if state.assignee_id != staff.user_id and not q.take(conn, state.number, staff.user_id, now):
            raise TakenMeanwhile(state.number)
        applied.events.append(f"taken by {staff.email}")
    else:
        target = _person_ref(conn, cmd.argument)
        store.update_ticket(state.number, assignee_id=target.user_id)
        applied.events.append(f"assigned to {target.email} by {staff.email}")
        applied.assigned_to = target if target.user_id != staff.user_id else None
    if applied.status == TicketStatus.NEW:  # somebody has it now: it is being worked on
        store.update_ticket(state.number, status=TicketStatus.OPEN)
        applied.status = TicketStatus.OPEN


class TakenMeanwhile(Exception):
    """Another technician's #take committed first; the message is processed again and told so."""


def apply_commands(store: TicketStore, staff: q.Person, state: q.TicketState, commands: tuple[Command, ...],
                   now: datetime) -> Applied:
    """Apply checked commands in a fixed order: who has it, where it is, then its status."""
    applied = Applied(status=state.status)
    by_name = {c.name: c for c in commands}
    for name in ("take", "assign"):
        if name in by_name:
            _assign(store, staff, state, by_name[name], applied, now)
    fields = {}
    if "queue" in by_name:
        fields["queue"] = applied.moved_to_queue = by_name["queue"].argument
    if "priority" in by_name:
        fields["priority"] = by_name["priority"].argument.lower()
    if "category" in by_name:
        fields["category"] = by_name["category"].argument
    if fields:
        store.update_ticket(state.number, **fields)
        applied.events.append(", ".join(f"{k} set to {v}" for k, v in fields.items()) + f" by {staff.email}")
    for cmd in (c for c in commands if c.name == "cc"):
        _change_participant(store, staff, state, cmd, applied)
    if "problem" in by_name:
        applied.events.append(link_to_problem(store, state.number, int(by_name["problem"].argument), staff.email))
    if "ack" in by_name:
        count = acknowledge_ticket(store.conn, state.number, staff.user_id, now)
        applied.events.append(f"{count} alert(s) acknowledged by {staff.email}; escalation stops repeating")
    if "time" in by_name:
        minutes = parse_duration(by_name["time"].argument)
        q.record_time(store.conn, state.number, staff.user_id, minutes, now)
        applied.events.append(f"{minutes} min recorded by {staff.email}")
    _set_status(store, staff, state, by_name, applied, now)
    return applied


def _change_participant(store: TicketStore, staff: q.Person, state: q.TicketState, cmd: Command,
                        applied: Applied) -> None:
    action, address = parse_cc(cmd.argument)
    if action == "add":
        store.add_participants(state.number, {address})
        applied.events.append(f"{address} added as a participant by {staff.email}")
    elif store.remove_participant(state.number, address):
        applied.events.append(f"{address} removed as a participant by {staff.email}")


def _set_status(store: TicketStore, staff: q.Person, state: q.TicketState, by_name: dict, applied: Applied,
                now: datetime) -> None:
    if "reopen" in by_name:
        store.update_ticket(state.number, status=TicketStatus.OPEN, closed_at=None, resolved_at=None)
        applied.status = TicketStatus.OPEN
    elif "pending" in by_name:
        store.update_ticket(state.number, status=TicketStatus.PENDING)
        applied.status = TicketStatus.PENDING
    elif "resolve" in by_name:
        store.update_ticket(state.number, status=TicketStatus.RESOLVED, resolved_at=now)
        applied.status, applied.resolved = TicketStatus.RESOLVED, True
    elif "close" in by_name:
        store.update_ticket(state.number, status=TicketStatus.CLOSED, closed_at=now)
        applied.status = TicketStatus.CLOSED
    else:
        return
    applied.events.append(f"status {state.status} -> {applied.status} by {staff.email}")
