"""Pick the assignee of a new ticket by the strategy its rule chose.

dispatcher and broadcast leave the ticket unassigned (dispatchers assign; the first technician
to #take it gets it); guarantor takes the technician named on the requester's contract, member
of the queue or not (they answer for that client), unless they cannot take it now;
round-robin and least-loaded choose among the queue's available technicians. When nobody
fits, the ticket stays unassigned for the dispatchers, and the reason says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Connection

from helpdesk.store import assignment as q


@dataclass(frozen=True)
class Assignment:
    assignee_id: int | None
    reason: str


def _round_robin(conn: Connection, queue: str, candidates: list[int], remember: bool) -> Assignment:
    last = q.last_round_robin(conn, queue)
    chosen = next((u for u in candidates if last is None or u > last), candidates[0])
    if remember:
        q.remember_round_robin(conn, queue, chosen)
    return Assignment(chosen, f"round-robin in {queue}")


def _least_loaded(conn: Connection, queue: str, candidates: list[int]) -> Assignment:
    load = q.open_ticket_counts(conn, candidates)
    chosen = min(candidates, key=lambda u: (load.get(u, 0), u))
    return Assignment(chosen, f"least loaded in {queue} ({load.get(chosen, 0)} open tickets)")


def _why_not(guarantor: q.Guarantor, queue: str) -> str | None:
    """Why the guarantor cannot take a ticket now; None when they can. Availability is marked per
    queue: their mark in this queue counts, else (not a member here) being away from every queue
    they belong to does."""
    if not guarantor.active:
        return "is disabled"
    if not guarantor.technician:
        return "is not a technician"
    if guarantor.memberships.get(queue) is False:
        return f"is marked unavailable in {queue}"
    if queue not in guarantor.memberships and guarantor.memberships and not any(guarantor.memberships.values()):
        return "is marked unavailable in every queue they belong to"
    return None


def _guarantor(conn: Connection, queue: str, org_id: int | None, today: date) -> Assignment:
    if org_id is None:
        return Assignment(None, "guarantor: requester has no organization; left to the queue's dispatchers")
    refusals = []
    for guarantor in q.contract_guarantors(conn, org_id, today):
        problem = _why_not(guarantor, queue)
        if problem is None:
            outside = "" if queue in guarantor.memberships else f", not a member of {queue}"
            return Assignment(guarantor.user_id, f"guarantor {guarantor.email} of contract {guarantor.contract}"
                                                 f"{outside}")
        refusals.append(f"{guarantor.email} (contract {guarantor.contract}) {problem}")
    why = "; ".join(refusals) or "no active contract of the requester's organization names a guarantor"
    return Assignment(None, f"guarantor not assigned: {why}; left to the queue's dispatchers")


def choose_assignee(conn: Connection, strategy: str, queue: str, org_id: int | None, today: date,
                    remember: bool = True) -> Assignment:
    """`remember=False` asks without moving the round-robin cursor (for `rules test`)."""
    if strategy in ("dispatcher", "broadcast"):
        who = "dispatchers" if strategy == "dispatcher" else "technicians"
        return Assignment(None, f"{strategy}: left to the queue's {who}")
    if strategy == "guarantor":
        return _guarantor(conn, queue, org_id, today)
    candidates = q.available_technicians(conn, queue)
    if not candidates:
        return Assignment(None, f"{strategy}: no available technician in {queue}; left to the dispatchers")
    if strategy == "round-robin":
        return _round_robin(conn, queue, candidates, remember)
    return _least_loaded(conn, queue, candidates)
