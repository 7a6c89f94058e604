"""Incidents and problems: a technician links incident tickets to the problem ticket of their common
cause; resolving the problem resolves its open incidents, and each incident's requester gets the
usual confirmation request (templates/resolved) in their language, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.store import problems as p
from helpdesk.store import workflow as q
from helpdesk.store.tickets import TicketStore


def why_not_link(conn, incident: int, problem_ref: str) -> str | None:
    """Why `incident` cannot be linked to the problem ticket `problem_ref` names; None when it can."""
    if not problem_ref.isdigit() or len(problem_ref) > 9:
        return f"#problem: expected a ticket number, got {problem_ref!r}"
    problem = int(problem_ref)
    if problem == incident:
        return "#problem: a ticket cannot be its own problem"
    target = p.linked_ticket(conn, problem)
    if target is None:
        return f"#problem: there is no ticket {problem}"
    if target.problem_id is not None:
        return f"#problem: ticket {problem} is itself an incident of problem {target.problem_id}"
    if p.incidents_of(conn, incident):
        return f"#problem: ticket {incident} is a problem with incidents of its own"
    return None


def link_to_problem(store: TicketStore, incident: int, problem: int, by: str) -> str:
    """Link and record it on both tickets; returns the event text."""
    p.link_incident(store.conn, incident, problem)
    store.record_event(problem, "problem", f"ticket {incident} linked as an incident by {by}")
    text = f"linked to problem {problem} by {by}"
    store.record_event(incident, "problem", text)
    return text


def confirmation(store: TicketStore, number: int, support_name: str, confirm_days: int) -> OutboundIntent | None:
    state = q.ticket_state(store.conn, number)
    requester = store.get_contact(state.requester_id)
    if not requester.email:  # a requester who only texted has no address to mail
        return None
    thread = q.client_message_ids(store.conn, number)
    return OutboundIntent(
        kind="resolved", ticket_number=number, to_address=requester.email, to_name=requester.display_name,
        locale=requester.locale, in_reply_to=thread[-1] if thread else None, references=tuple(thread[-3:]),
        context={"subject": state.subject, "requester_name": requester.display_name,
                 **salutation(requester.display_name), "author_name": support_name, "text": "",
                 "author_signed": False, "confirm_days": confirm_days},
        auto_submitted="auto-generated")


def resolve_incidents(store: TicketStore, problem: int, now: datetime, *, support_name: str, confirm_days: int,
                      is_machine: Callable[[str], bool]) -> list[OutboundIntent]:
    """Resolve the problem's open incidents (the problem itself is the caller's); the mail asking
    each requester to confirm. `is_machine(address)`: a monitoring system, never written to."""
    intents = []
    for number in p.open_incidents(store.conn, problem):
        store.update_ticket(number, status=TicketStatus.RESOLVED, resolved_at=now)
        store.record_event(number, "resolved", f"resolved with its problem {problem}", at=now)
        intent = confirmation(store, number, support_name, confirm_days)
        if intent is not None and not is_machine(intent.to_address):
            intents.append(intent)
    return intents


def is_problem(conn, number: int) -> bool:
    ticket = p.linked_ticket(conn, number)
    return ticket is not None and ticket.kind == "problem"


def resolve_from_cli(store: TicketStore, number: int, now: datetime, *, support_name: str, confirm_days: int,
                     is_machine: Callable[[str], bool]) -> list[OutboundIntent]:
    """`helpdesk tickets resolve`: as a technician's #resolve does (the requester is asked to
    confirm), and a problem's open incidents with it."""
    store.update_ticket(number, status=TicketStatus.RESOLVED, resolved_at=now)
    store.record_event(number, "resolved", "resolved from the CLI", at=now)
    mine = confirmation(store, number, support_name, confirm_days)
    intents = [mine] if mine is not None and not is_machine(mine.to_address) else []
    if is_problem(store.conn, number):
        intents += resolve_incidents(store, number, now, support_name=support_name, confirm_days=confirm_days,
                                     is_machine=is_machine)
    return intents


def problem_view(conn, number: int) -> dict:
    """What `tickets show` says of a ticket's incidents and problem, and of the faults it counts."""
    ticket = p.linked_ticket(conn, number)
    incidents = [{"number": i.number, "subject": i.subject, "status": i.status} for i in p.incidents_of(conn, number)]
    return {"kind": ticket.kind if ticket else "incident", "problem": ticket.problem_id if ticket else None,
            "incidents": incidents}
