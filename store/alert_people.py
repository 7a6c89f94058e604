"""Who an alert goes to, by role across all queues: every dispatcher, every member of staff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import User, UserRole, role_in
from helpdesk.store.workflow import PRIMARY_EMAIL, Person

_user, _role = User.__table__, UserRole.__table__
_WITH_ROLE = (select(_user.c.id, PRIMARY_EMAIL, _user.c.display_name, _user.c.locale, _role.c.role)
              .join(_role, _role.c.user_id == _user.c.id).where(_user.c.active.is_(True)).order_by(_user.c.id))


def people_with_roles(conn: Connection, roles: tuple[str, ...]) -> list[Person]:
    """Active users holding any of `roles`, each once."""
    found: dict[int, Person] = {}
    for user_id, email, name, locale, role in conn.execute(_WITH_ROLE.where(role_in(*roles))):
        if email and user_id not in found:
            found[user_id] = Person(user_id, email, name or "", locale, frozenset({role}))
    return list(found.values())
