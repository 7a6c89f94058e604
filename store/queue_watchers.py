"""Who watches a queue (its available, active dispatchers and technicians: whoever hears of its
unassigned tickets) and who hears of tickets in a queue nobody watches (the active admins)."""

from __future__ import annotations

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import QueueMember, User, UserRole, role_in
from helpdesk.store.prebuilt import Prebuilt
from helpdesk.store.workflow import PRIMARY_EMAIL, Person

_user, _role, _member = User.__table__, UserRole.__table__, QueueMember.__table__

# The same people store/workflow.QUEUE_STAFF hands to the notifications, counted per queue.
WATCHERS = (select(_member.c.queue, func.count(distinct(_member.c.user_id)))
            .join(_user, _user.c.id == _member.c.user_id)
            .join(_role, and_(_role.c.user_id == _member.c.user_id, role_in("dispatcher", "technician")))
            .where(_user.c.active.is_(True), _member.c.available.is_(True))
            .group_by(_member.c.queue))
ADMINS = (select(_user.c.id, PRIMARY_EMAIL, _user.c.display_name, _user.c.locale)
          .join(_role, and_(_role.c.user_id == _user.c.id, role_in("admin")))
          .where(_user.c.active.is_(True)).order_by(_user.c.id))
_FAST_ADMINS = Prebuilt(ADMINS)  # asked once per batch with a ticket in a queue nobody watches


def watcher_counts(conn: Connection) -> dict[str, int]:
    """Queue -> how many people hear of its unassigned tickets; a queue missing here has nobody."""
    return dict(conn.execute(WATCHERS).all())


def active_admins(conn: Connection) -> list[Person]:
    return [Person(user_id, email, name or "", locale, frozenset({"admin"}))
            for user_id, email, name, locale in _FAST_ADMINS.all(conn, {}) if email]
