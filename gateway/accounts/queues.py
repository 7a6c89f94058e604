"""Queues and their members: technicians and dispatchers, each with an availability flag."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from helpdesk.gateway.accounts.directory import actor_for, find_user, user_roles
from helpdesk.gateway.accounts.names import check_line, column_length
from helpdesk.gateway.accounts.permissions import decide
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import Queue, QueueMember, User, UserEmail

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX = column_length(Queue, "name")
TITLE_MAX = column_length(Queue, "title")


def _checked(name: str, title: str) -> tuple[str, str]:
    """A queue's name and title fit their columns and are one line each (the title defaults to the name)."""
    check_line(name, "queue name", NAME_MAX, missing="a queue needs a name")
    return name, check_line(title, f"title of queue {name}", TITLE_MAX) or name


def add_queue(session: Session, name: str, title: str = "") -> Queue:
    name, title = _checked(name, title)
    if not _NAME.fullmatch(name):  # fullmatch: "$" would let a trailing newline through
        raise UserError(f"queue name {name!r} must be kebab-case: lower-case letters, digits and dashes")
    if session.get(Queue, name) is not None:
        raise UserError(f"queue {name!r} already exists")
    queue = Queue(name=name, title=title)
    session.add(queue)
    return queue


def ensure_queues(session: Session, queues: dict[str, str]) -> None:
    """Make every queue declared in rules.yaml exist, so members can be added to it."""
    for name, title in queues.items():
        name, title = _checked(name, title)
        if session.get(Queue, name) is None:
            session.add(Queue(name=name, title=title))


def find_queue(session: Session, name: str) -> Queue:
    queue = session.get(Queue, name)
    if queue is None:
        raise UserError(f"unknown queue {name!r}")
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


def list_queues(session: Session) -> list[dict]:
    rows = []
    for queue in session.execute(select(Queue).order_by(Queue.name)).scalars():
        count = len(session.execute(select(QueueMember.user_id).where(QueueMember.queue == queue.name)).all())
        rows.append({"name": queue.name, "title": queue.title, "members": count})
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
