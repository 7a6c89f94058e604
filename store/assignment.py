"""Queries behind assignment strategies and routing facts: available technicians, their load,
the guarantors of the requester's contracts (with what decides whether they can take a ticket),
and the requester's organization and contracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.statuses import FINISHED_STATUSES
from helpdesk.store.account_tables import (
    Contract,
    Organization,
    OrgDomain,
    Queue,
    QueueMember,
    User,
    UserEmail,
    UserRole,
    role_in,
)
from helpdesk.store.models import Ticket
from helpdesk.store.workflow import PRIMARY_EMAIL

_member, _user, _role, _ticket = QueueMember.__table__, User.__table__, UserRole.__table__, Ticket.__table__
_contract, _email, _org = Contract.__table__, UserEmail.__table__, Organization.__table__

AVAILABLE_TECHNICIANS = (
    select(_member.c.user_id)
    .join(_user, _user.c.id == _member.c.user_id)
    .join(_role, and_(_role.c.user_id == _member.c.user_id, role_in("technician")))
    .where(_member.c.queue == bindparam("queue"), _member.c.available.is_(True), _user.c.active.is_(True))
    .order_by(_member.c.user_id))
OPEN_LOAD = (select(_ticket.c.assignee_id, func.count())
             .where(_ticket.c.assignee_id.in_(bindparam("ids", expanding=True)),
                    _ticket.c.status.not_in(FINISHED_STATUSES))
             .group_by(_ticket.c.assignee_id))
ROUND_ROBIN_LAST = select(Queue.__table__.c.rr_last_user_id).where(Queue.__table__.c.name == bindparam("queue"))
SET_ROUND_ROBIN = update(Queue.__table__).where(Queue.__table__.c.name == bindparam("queue")).values(
    rr_last_user_id=bindparam("user_id"))
_ACTIVE = and_(_contract.c.starts_on <= bindparam("today"),
               or_(_contract.c.ends_on.is_(None), _contract.c.ends_on >= bindparam("today")))
_IS_TECHNICIAN = (select(_role.c.user_id).where(_role.c.user_id == _user.c.id, role_in("technician"))
                  .exists())
# The newest contract first: when several name a guarantor, the latest agreement speaks first.
GUARANTORS = (select(_contract.c.number, _user.c.id, PRIMARY_EMAIL, _user.c.active, _IS_TECHNICIAN)
              .join(_user, _user.c.id == _contract.c.guarantor_id)
              .where(_contract.c.organization_id == bindparam("org_id"), _ACTIVE)
              .order_by(_contract.c.starts_on.desc(), _contract.c.number))
MEMBERSHIPS = select(_member.c.queue, _member.c.available).where(_member.c.user_id == bindparam("user_id"))
REQUESTER = (select(_user.c.organization_id, _org.c.name)
             .select_from(_email.join(_user, _user.c.id == _email.c.user_id)
                          .outerjoin(_org, _org.c.id == _user.c.organization_id))
             .where(_email.c.address == bindparam("email")))
ORG_BY_DOMAIN = select(_org.c.id, _org.c.name).join(
    OrgDomain.__table__, OrgDomain.__table__.c.organization_id == _org.c.id).where(
    OrgDomain.__table__.c.domain == bindparam("domain"))
CONTRACTS = select(_contract.c.number, _contract.c.sla_profile).where(
    _contract.c.organization_id == bindparam("org_id"), _ACTIVE).order_by(_contract.c.number)


def available_technicians(conn: Connection, queue: str) -> list[int]:
    return list(conn.execute(AVAILABLE_TECHNICIANS, {"queue": queue}).scalars())


def open_ticket_counts(conn: Connection, user_ids: list[int]) -> dict[int, int]:
    return dict(conn.execute(OPEN_LOAD, {"ids": user_ids}).all()) if user_ids else {}


def last_round_robin(conn: Connection, queue: str) -> int | None:
    return conn.execute(ROUND_ROBIN_LAST, {"queue": queue}).scalar()


def remember_round_robin(conn: Connection, queue: str, user_id: int) -> None:
    conn.execute(SET_ROUND_ROBIN, {"queue": queue, "user_id": user_id})


def requester_organization(conn: Connection, email: str) -> tuple[int | None, str | None]:
    """The sender's organization; for an unknown sender, the one they will join (by mail domain)."""
    row = conn.execute(REQUESTER, {"email": email}).first()
    if row is None:
        row = conn.execute(ORG_BY_DOMAIN, {"domain": email.rpartition("@")[2]}).first()
    return (row[0], row[1]) if row else (None, None)


@dataclass(frozen=True)
class Guarantor:
    """The guarantor of one active contract, and what decides whether they can take its client's ticket."""

    user_id: int
    email: str
    contract: str
    active: bool
    technician: bool
    memberships: dict[str, bool]  # queue -> marked available in it


def contract_guarantors(conn: Connection, org_id: int, today: date) -> list[Guarantor]:
    found = []
    for number, user_id, email, active, technician in conn.execute(GUARANTORS, {"org_id": org_id, "today": today}):
        memberships = dict(conn.execute(MEMBERSHIPS, {"user_id": user_id}).all())
        found.append(Guarantor(user_id, email or f"user {user_id}", number, bool(active), bool(technician),
                               memberships))
    return found


def active_contracts(conn: Connection, org_id: int, today: date) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute(CONTRACTS, {"org_id": org_id, "today": today}).all()]
