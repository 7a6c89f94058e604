"""Queries of the technicians' workflow: who is staff, whom to notify, and a ticket's working state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.records import TicketState
from helpdesk.gateway.ground.roles import STAFF_ROLES
from helpdesk.store.account_tables import Organization, QueueMember, User, UserEmail, UserRole, role_in
from helpdesk.store.models import Article, Outbox, SatisfactionRating, Ticket, TimeEntry
from helpdesk.store.prebuilt import Prebuilt

_user, _email, _role, _member = User.__table__, UserEmail.__table__, UserRole.__table__, QueueMember.__table__
_ticket, _article, _org = Ticket.__table__, Article.__table__, Organization.__table__
_outbox = Outbox.__table__


@dataclass(frozen=True)
class Person:
    """Someone mail can go to: a technician, a dispatcher or a client contact."""

    user_id: int
    email: str
    name: str
    locale: str | None
    roles: frozenset[str] = frozenset()
    active: bool = True

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & set(STAFF_ROLES))


# A user's primary address (else the first by name), for selects that join user_account.
PRIMARY_EMAIL = (select(_email.c.address).where(_email.c.user_id == _user.c.id)
                  .order_by(_email.c.is_primary.desc(), _email.c.address).limit(1).scalar_subquery())
_PERSON = select(_user.c.id, PRIMARY_EMAIL, _user.c.display_name, _user.c.locale, _user.c.active)
PERSON_BY_ID = _PERSON.where(_user.c.id == bindparam("user_id"))
USER_BY_ADDRESS = select(_email.c.user_id).where(_email.c.address == bindparam("address"))
ROLES = select(_role.c.role).where(_role.c.user_id == bindparam("user_id"))
# The queue's available, active dispatchers and technicians, in one round trip.
QUEUE_STAFF = (select(_member.c.user_id, PRIMARY_EMAIL, _user.c.display_name, _user.c.locale, _role.c.role)
               .join(_user, _user.c.id == _member.c.user_id)
               .join(_role, and_(_role.c.user_id == _member.c.user_id,
                                 role_in("dispatcher", "technician")))
               .where(_member.c.queue == bindparam("queue"), _user.c.active.is_(True),
                      _member.c.available.is_(True)).order_by(_member.c.user_id))
_FAST_QUEUE_STAFF = Prebuilt(QUEUE_STAFF)  # every batch of new tickets asks it once per queue
TICKET_STATE = select(_ticket.c.id, _ticket.c.subject, _ticket.c.status, _ticket.c.priority, _ticket.c.queue,
                      _ticket.c.category, _ticket.c.assignment, _ticket.c.requester_id, _ticket.c.assignee_id,
                      _ticket.c.resolved_at).where(_ticket.c.id == bindparam("number"))
# First #take wins: the update only takes a ticket nobody has (PostgreSQL re-checks after a lock wait).
TAKE = update(_ticket).where(_ticket.c.id == bindparam("number"), _ticket.c.assignee_id.is_(None)).values(
    assignee_id=bindparam("user_id"), updated_at=bindparam("now"))
CLIENT_MESSAGE_IDS = (select(_article.c.message_id).where(
    _article.c.ticket_id == bindparam("number"), _article.c.direction == "in",
    _article.c.visibility == "public", _article.c.author_id.is_(None)).order_by(_article.c.id))
# Conditional, so a client's answer committed meanwhile (which reopened it) is never overwritten.
CLOSE_IF_STILL_RESOLVED = update(_ticket).where(
    _ticket.c.id == bindparam("number"), _ticket.c.status == "resolved",
    _ticket.c.resolved_at < bindparam("before")).values(status="closed", closed_at=bindparam("now"),
                                                        updated_at=bindparam("now"))
LATEST_CLIENT_TEXT = (select(func.coalesce(_article.c.new_text, _article.c.text)).where(
    _article.c.ticket_id == bindparam("number"), _article.c.direction == "in", _article.c.author_id.is_(None),
    _article.c.visibility == "public").order_by(_article.c.id.desc()).limit(1))
# Who an address belongs to, with the generation their reply tokens are signed with.
_IDENTITY = select(_email.c.address, _user.c.id, _user.c.reply_generation).join(_user, _user.c.id == _email.c.user_id)
REPLY_IDENTITIES = _IDENTITY.where(_email.c.address.in_(bindparam("addresses", expanding=True)))
_FAST_REPLY_IDENTITY = Prebuilt(_IDENTITY.where(_email.c.address == bindparam("address")))
REVOKE_REPLIES = update(_user).where(_user.c.id == bindparam("user_id")).values(
    reply_generation=_user.c.reply_generation + 1)
RESOLVED_BEFORE = select(_ticket.c.id).where(_ticket.c.status == "resolved",
                                             _ticket.c.resolved_at < bindparam("before")).order_by(_ticket.c.id)


def person(conn: Connection, user_id: int) -> Person | None:
    row = conn.execute(PERSON_BY_ID, {"user_id": user_id}).first()
    if row is None:
        return None
    roles = frozenset(conn.execute(ROLES, {"user_id": user_id}).scalars())
    return Person(row[0], row[1], row[2] or "", row[3], roles, row[4])


def person_by_address(conn: Connection, address: str) -> Person | None:
    user_id = conn.execute(USER_BY_ADDRESS, {"address": address.lower()}).scalar()
    return person(conn, user_id) if user_id is not None else None


def queue_staff(conn: Connection, queue: str) -> dict[str, list[Person]]:
    """Available members of the queue by role ("dispatcher", "technician")."""
    by_role: dict[str, list[Person]] = {"dispatcher": [], "technician": []}
    for user_id, email, name, locale, role in _FAST_QUEUE_STAFF.all(conn, {"queue": queue}):
        by_role[role].append(Person(user_id, email, name or "", locale, frozenset({role})))
    return by_role


def ticket_state(conn: Connection, number: int) -> TicketState:
    row = conn.execute(TICKET_STATE, {"number": number}).one()
    return TicketState(*row[:-1], as_utc(row[-1]))


def take(conn: Connection, number: int, user_id: int, now: datetime) -> bool:
    """Assign an unassigned ticket; False when someone else was faster."""
    return conn.execute(TAKE, {"number": number, "user_id": user_id, "now": now}).rowcount == 1


def client_message_ids(conn: Connection, number: int) -> list[str]:
    """Message-IDs of the client's mail on the ticket, oldest first: the thread our replies join."""
    return list(conn.execute(CLIENT_MESSAGE_IDS, {"number": number}).scalars())


def record_time(conn: Connection, number: int, user_id: int, minutes: int, now: datetime) -> None:
    conn.execute(TimeEntry.__table__.insert(), {"ticket_id": number, "user_id": user_id, "minutes": minutes,
                                                "at": now})


def record_rating(conn: Connection, number: int, technician_id: int | None, score: int, now: datetime) -> None:
    conn.execute(SatisfactionRating.__table__.insert(), {"ticket_id": number, "technician_id": technician_id,
                                                         "score": score, "at": now})


def has_rating(conn: Connection, number: int) -> bool:
    table = SatisfactionRating.__table__
    return conn.execute(select(table.c.id).where(table.c.ticket_id == number).limit(1)).first() is not None


def resolved_before(conn: Connection, before: datetime, limit: int) -> list[int]:
    return list(conn.execute(RESOLVED_BEFORE.limit(limit), {"before": before}).scalars())


def latest_client_text(conn: Connection, number: int) -> str:
    return conn.execute(LATEST_CLIENT_TEXT, {"number": number}).scalar() or ""


def close_if_still_resolved(conn: Connection, number: int, before: datetime, now: datetime) -> bool:
    return conn.execute(CLOSE_IF_STILL_RESOLVED, {"number": number, "before": before, "now": now}).rowcount == 1


def reply_identities(conn: Connection, addresses) -> dict[str, tuple[int, int]]:
    """address -> (user id, reply generation) for those of `addresses` that belong to a user."""
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return {}
    # Mostly the mail goes to one person: prebuilt, which an IN list cannot be.
    rows = _FAST_REPLY_IDENTITY.all(conn, {"address": wanted[0]}) if len(wanted) == 1 \
        else conn.execute(REPLY_IDENTITIES, {"addresses": wanted}).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def revoke_reply_addresses(conn: Connection, user_id: int) -> None:
    """Every reply address issued to the user stops verifying; new mail carries new ones."""
    conn.execute(REVOKE_REPLIES, {"user_id": user_id})


# Staff mail about a ticket that threads in one conversation in each technician's mail client.
STAFF_THREAD_KINDS = ("staff_new", "staff_update", "sla_alert")
STAFF_NOTIFICATIONS = (select(_outbox.c.rcpt_to, _outbox.c.message_id).where(
    _outbox.c.ticket_id == bindparam("number"), _outbox.c.kind.in_(STAFF_THREAD_KINDS))
    .order_by(_outbox.c.id))


def staff_notification_ids(conn: Connection, number: int) -> dict[str, list[str]]:
    """address -> Message-IDs of the notifications that address got about the ticket, oldest first:
    the thread each technician's next notification joins."""
    by_address: dict[str, list[str]] = {}
    for rcpt_to, message_id in conn.execute(STAFF_NOTIFICATIONS, {"number": number}):
        for address in rcpt_to.split(","):  # one address a row; older rows may name several
            by_address.setdefault(address.lower(), []).append(message_id)
    return by_address
