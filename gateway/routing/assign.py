"""Pick the assignee of a new ticket by the strategy its rule chose.

dispatcher and broadcast leave the ticket unassigned (dispatchers assign; the first technician
to #take it gets it); guarantor takes the technician named on the requester's contract;
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


def choose_assignee(conn: Connection, strategy: str, queue: str, org_id: int | None, today: date,
                    remember: bool = True) -> Assignment:
    """`remember=False` asks without moving the round-robin cursor (for `rules test`)."""
    if strategy in ("dispatcher", "broadcast"):
        who = "dispatchers" if strategy == "dispatcher" else "technicians"
        return Assignment(None, f"{strategy}: left to the queue's {who}")
    candidates = q.available_technicians(conn, queue)
    if strategy == "guarantor":
        if org_id is None:
            return Assignment(None, "guarantor: requester has no organization; left to the dispatchers")
        active = set(candidates)
        for guarantor in q.contract_guarantors(conn, org_id, today):
            if guarantor in active:
                return Assignment(guarantor, "guarantor of the requester's contract")
        return Assignment(None, "guarantor: no available guarantor in this queue; left to the dispatchers")
    if not candidates:
        return Assignment(None, f"{strategy}: no available technician in {queue}; left to the dispatchers")
    if strategy == "round-robin":
        return _round_robin(conn, queue, candidates, remember)
    return _least_loaded(conn, queue, candidates)
