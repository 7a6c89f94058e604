"""Who hears of a ticket's alert: the circle words of rules.yaml's escalation turned into people.

assignee: whoever has the ticket; queue: the queue's available technicians; dispatchers: the
queue's dispatchers; all-dispatchers: every dispatcher; all-staff: every active technician,
dispatcher and admin; admins: the active admins; guarantor: the guarantor of the requester's
organization's active contract. A circle that finds nobody falls back to the admins, so an
escalation is never told to no one.

An object's alert (a reminder, an announcement) goes to the object's own people instead: its
responsible users on the client's side and its technicians (`object_audience`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.roles import STAFF_ROLES
from helpdesk.store import workflow as q
from helpdesk.store.alert_people import people_with_roles
from helpdesk.store.assignment import contract_guarantors
from helpdesk.store.objects import object_people
from helpdesk.store.queue_watchers import active_admins
from helpdesk.store.tickets import REQUESTER_ORG_OF

CIRCLE_WORDS = ("assignee", "queue", "dispatchers", "all-dispatchers", "all-staff", "admins", "guarantor")


def _guarantors(conn: Connection, state: q.TicketState, today: date) -> list[q.Person]:
    org_id = conn.execute(REQUESTER_ORG_OF, {"user_id": state.requester_id}).scalar()
    if org_id is None:
        return []
    people = [q.person(conn, g.user_id) for g in contract_guarantors(conn, org_id, today) if g.active]
    return [p for p in people if p is not None]


def _word(conn: Connection, word: str, state: q.TicketState, today: date) -> list[q.Person]:
    if word == "assignee":
        person = q.person(conn, state.assignee_id) if state.assignee_id else None
        return [person] if person is not None and person.active else []
    if word in ("queue", "dispatchers"):
        return q.queue_staff(conn, state.queue)["technician" if word == "queue" else "dispatcher"]
    if word == "all-dispatchers":
        return people_with_roles(conn, ("dispatcher",))
    if word == "all-staff":
        return people_with_roles(conn, STAFF_ROLES)
    if word == "admins":
        return active_admins(conn)
    return _guarantors(conn, state, today)


def circle(conn: Connection, words: tuple[str, ...], state: q.TicketState, today: date,
           fallback: bool = True) -> list[q.Person]:
    """The people of the words; `fallback`: the admins when that is nobody."""
    people = [p for word in words for p in _word(conn, word, state, today)]
    return people or (active_admins(conn) if fallback else [])


def object_audience(conn: Connection, object_id: int) -> list[q.Person]:
    """The object's active responsible people, clients first, then technicians."""
    people = [p for side in ("client", "technician") for p in object_people(conn, object_id, side)]
    return [p for p in people if p.active]
