"""Which client's object a ticket is about: finding objects a message names, and linking a ticket to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import OrgDomain, User, UserEmail
from helpdesk.store.models import Ticket
from helpdesk.store.object_tables import ClientObject, ObjectEvent

_object, _ticket, _event = ClientObject.__table__, Ticket.__table__, ObjectEvent.__table__
_user, _email = User.__table__, UserEmail.__table__


@dataclass(frozen=True)
class ObjectLink:
    id: int
    identifier: str
    organization_id: int
    critical: bool
    name: str = ""


_OBJECT_COLUMNS = (_object.c.id, _object.c.identifier, _object.c.organization_id, _object.c.critical, _object.c.name)
# Identifiers are compared without case: "[OBJ srv-01]" names SRV-01 (they are unique per organization).
OBJECTS_NAMED = select(*_OBJECT_COLUMNS).where(
    func.upper(_object.c.identifier).in_(bindparam("identifiers", expanding=True)))
OBJECTS_NAMED_IN_ORG = OBJECTS_NAMED.where(_object.c.organization_id == bindparam("org_id"))
OBJECT_BY_ID = select(*_OBJECT_COLUMNS).where(_object.c.id == bindparam("object_id"))
ORG_OF_ADDRESS = select(_user.c.organization_id).join(_email, _email.c.user_id == _user.c.id).where(
    _email.c.address == bindparam("address"))
ORG_OF_DOMAIN = select(OrgDomain.__table__.c.organization_id).where(OrgDomain.__table__.c.domain == bindparam("domain"))
LINK_TICKET = update(_ticket).where(_ticket.c.id == bindparam("number")).values(object_id=bindparam("object_id"))
INSERT_OBJECT_EVENT = insert(_event)
TICKET_OBJECT = select(*_OBJECT_COLUMNS).join(_ticket, _ticket.c.object_id == _object.c.id).where(
    _ticket.c.id == bindparam("number"))


def objects_named(conn: Connection, identifiers, organization_id: int | None) -> list[ObjectLink]:
    """The objects with these identifiers: of that organization, or (None) of any, for the caller
    to accept only when one organization has it."""
    wanted = sorted({i.upper() for i in identifiers})
    if not wanted:
        return []
    if organization_id is None:
        rows = conn.execute(OBJECTS_NAMED, {"identifiers": wanted})
    else:
        rows = conn.execute(OBJECTS_NAMED_IN_ORG, {"identifiers": wanted, "org_id": organization_id})
    return [ObjectLink(*row) for row in rows]


def object_by_id(conn: Connection, object_id: int) -> ObjectLink | None:
    row = conn.execute(OBJECT_BY_ID, {"object_id": object_id}).first()
    return ObjectLink(*row) if row else None


def ticket_object(conn: Connection, number: int) -> ObjectLink | None:
    row = conn.execute(TICKET_OBJECT, {"number": number}).first()
    return ObjectLink(*row) if row else None


def organization_of(conn: Connection, address: str) -> int | None:
    """The organization of the user with this address; for an address no user has yet, that of its
    domain (it becomes that organization's user as it writes in); None for staff and strangers."""
    address = address.lower()
    row = conn.execute(ORG_OF_ADDRESS, {"address": address}).first()
    if row is not None:
        return row[0]
    return conn.execute(ORG_OF_DOMAIN, {"domain": address.rpartition("@")[2]}).scalar()


def link_ticket(conn: Connection, number: int, link: ObjectLink, because: str, now: datetime) -> None:
    """The ticket is about the object; its history says so and why."""
    conn.execute(LINK_TICKET, {"number": number, "object_id": link.id})
    conn.execute(INSERT_OBJECT_EVENT, {"object_id": link.id, "at": now, "kind": "ticket-linked",
                                       "text": f"ticket {number} linked ({because})", "ticket_id": number,
                                       "alert_id": None, "user_id": None})
