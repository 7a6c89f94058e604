"""Queues and their members: technicians and dispatchers, each with an availability flag.

A queue is declared in rules.yaml (its `queues:` section), the one place routing and the
dispatchers' `#queue` take queue names from; the database holds its members, and its queue
rows are made from rules.yaml at start, at every reload and by the queue commands. So the CLI
never creates a queue: one that rules.yaml does not declare could hold members but never a
ticket.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from helpdesk.gateway.accounts.directory import actor_for, find_user, user_roles
from helpdesk.gateway.accounts.names import check_line, column_length
from helpdesk.gateway.accounts.permissions import decide
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import Queue, QueueMember, User, UserEmail
from helpdesk.store.queue_watchers import active_admins, watcher_counts

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX = column_length(Queue, "name")
TITLE_MAX = column_length(Queue, "title")


def check_queue(name: str, title: str = "") -> tuple[str, str]:
    """A queue's name is kebab-case and fits its column, its title is one line (default: the name)."""
    check_line(name, "queue name", NAME_MAX, missing="a queue needs a name")
    if not _NAME.fullmatch(name):  # fullmatch: "$" would let a trailing newline through
        raise UserError(f"queue name {name!r} must be kebab-case: lower-case letters, digits and dashes")
    return name, check_line(title, f"title of queue {name}", TITLE_MAX) or name


def add_queue(session: Session, name: str, title: str, declared: dict[str, str], rules_source: str) -> str:
    """`queues add`: a queue rules.yaml declares is made to exist; any other is refused with what to
    write where. Returns the queue's title."""
    name, title = check_queue(name, title)
    if name not in declared:
        raise UserError(f"queue {name!r} is not declared in {rules_source}: queues are declared there, "
                        f"add '{name}: {title}' under 'queues:' and the service takes it up on reload")
    ensure_queues(session, declared)
    return declared[name]


def ensure_queues(session: Session, queues: dict[str, str]) -> None:
    """Make every queue declared in rules.yaml exist with its title there, so members can be added to it."""
    checked = [check_queue(name, title) for name, title in queues.items()]
    if not checked:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # ON CONFLICT DO NOTHING: `queues add` and a service reloading rules.yaml may create the same
    # queue at the same moment; the loser must not fail (a failed reload is not tried again).
    session.execute(dialect.insert(Queue.__table__).values([{"name": n, "title": t} for n, t in checked])
                    .on_conflict_do_nothing(index_elements=["name"]))
    for name, title in checked:
        queue = session.get(Queue, name)
        if queue.title != title:
            queue.title = title


def find_queue(session: Session, name: str) -> Queue:
    queue = session.get(Queue, name)
    if queue is None:
        raise UserError(f"unknown queue {name!r} (queues are declared under 'queues:' in rules.yaml)")
    return queue


def set_membership(session: Session, queue: Queue, user_ref: str, *, member: bool | None = None,
                   available: bool | None = None) -> None:
    user = find_user(session, user_ref)
    row = session.get(QueueMember, (queue.name, user.id))
    if member is True and row is None:
        allowed = decide(actor_for(session, user), "queue.member")
        if not allowed:
            raise UserError(f"{user_ref} cannot join a queue: {allowed.reason} (needs technician or dispatcher)")
        row = QueueMember(queue=queue.name, user_id=user.id)
        session.add(row)
    elif member is False:
        if row is None:
            raise UserError(f"{user_ref} is not a member of {queue.name}")
        session.delete(row)
        return
    if available is not None:
        if row is None:
            raise UserError(f"{user_ref} is not a member of {queue.name}")
        row.available = available


def _note(declared: bool, watchers: int, has_admins: bool) -> str:
    if not declared:
        return "not in rules.yaml: routing and #queue cannot use it"
    if watchers:
        return ""
    return f"nobody watches it: its new tickets go to {'the admins' if has_admins else 'nobody (there is no admin)'}"


def list_queues(session: Session, declared: dict[str, str]) -> list[dict]:
    """Every queue with its members and watchers (available, active members: who hears of its unassigned
    tickets); a row left in the database by a queue no longer in rules.yaml is listed and marked."""
    watchers, has_admins = watcher_counts(session.connection()), bool(active_admins(session.connection()))
    rows = []
    for queue in session.execute(select(Queue).order_by(Queue.name)).scalars():
        count = len(session.execute(select(QueueMember.user_id).where(QueueMember.queue == queue.name)).all())
        watching = watchers.get(queue.name, 0)
        rows.append({"name": queue.name, "title": declared.get(queue.name, queue.title), "members": count,
                     "watchers": watching, "declared": queue.name in declared,
                     "note": _note(queue.name in declared, watching, has_admins)})
    return rows


def queue_members(session: Session, queue: Queue) -> list[dict]:
    rows = session.execute(select(User, QueueMember.available).join(QueueMember, QueueMember.user_id == User.id)
                           .where(QueueMember.queue == queue.name).order_by(User.display_name)).all()
    members = []
    for user, available in rows:
        email = session.execute(select(UserEmail.address).where(UserEmail.user_id == user.id)
                                .order_by(UserEmail.is_primary.desc())).scalars().first()
        members.append({"user": user.id, "name": user.display_name, "email": email, "available": available,
                        "roles": sorted(user_roles(session, user.id) & {"technician", "dispatcher"})})
    return members
