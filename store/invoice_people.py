"""Who takes part in an invoice's approval: the organization's fin-admins, the provider's admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import User, UserEmail, UserRole, role_in
from helpdesk.store.workflow import PRIMARY_EMAIL, Person

_user, _role, _email = User.__table__, UserRole.__table__, UserEmail.__table__


def _rows(conn: Connection, role: str, organization_id: int | None) -> list:
    query = (select(_user.c.id, PRIMARY_EMAIL.label("email"), _user.c.display_name, _user.c.locale,
                    _user.c.reply_generation)
             .join(_role, _role.c.user_id == _user.c.id).where(role_in(role), _user.c.active.is_(True)))
    query = query.where(_user.c.organization_id.is_(None) if organization_id is None
                        else _user.c.organization_id == organization_id)
    return [row for row in conn.execute(query.order_by(_user.c.id)) if row.email]


def _people(rows: list, role: str) -> list[Person]:
    return [Person(row.id, row.email, row.display_name, row.locale, frozenset({role})) for row in rows]


def provider_admins(conn: Connection) -> list[Person]:
    return _people(_rows(conn, "admin", None), "admin")


def approvers(conn: Connection, organization_id: int) -> tuple[list[Person], dict[int, int]]:
    """Who is asked to approve: the organization's fin-admins, else the provider's admins; with each
    one's reply generation (for the signed reply address), read in the same query."""
    role, rows = "fin-admin", _rows(conn, "fin-admin", organization_id)
    if not rows:
        role, rows = "admin", _rows(conn, "admin", None)
    return _people(rows, role), {row.id: row.reply_generation for row in rows}


def user_by_address(conn: Connection, address: str):
    """(user id, organization id, reply generation, roles) of the address's user, or None."""
    row = conn.execute(select(_user.c.id, _user.c.organization_id, _user.c.reply_generation, _user.c.active)
                       .join(_email, _email.c.user_id == _user.c.id)
                       .where(_email.c.address == address.lower())).first()
    if row is None or not row.active:
        return None
    roles = frozenset(conn.execute(select(_role.c.role).where(_role.c.user_id == row.id)).scalars())
    return row.id, row.organization_id, row.reply_generation, roles
