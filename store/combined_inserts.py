"""Writes of the mail path that PostgreSQL takes as one statement: data-modifying CTEs.

Every statement on PostgreSQL is a round trip and 50-100 µs of client CPU in psycopg, against
10-20 on SQLite, which has no such CTEs; so only PostgreSQL gets these, and SQLite runs the same
inserts one by one (store/tickets.py). The rows written are the same either way.
"""

from __future__ import annotations

from sqlalchemy import String, bindparam, insert, literal, select, true
from sqlalchemy.dialects import postgresql

from helpdesk.store.account_tables import User, UserEmail, UserRole
from helpdesk.store.models import Article, Outbox, ThreadRef
from helpdesk.store.prebuilt import Prebuilt

_user, _email, _role = User.__table__, UserEmail.__table__, UserRole.__table__
_outbox, _thread_ref, _article = Outbox.__table__, ThreadRef.__table__, Article.__table__


def _new_client_statement():
    """A client user with their address and role; returns the user's id."""
    new_user = (insert(_user).values(display_name=bindparam("display_name"),
                                     organization_id=bindparam("organization_id"), active=True,
                                     created_at=bindparam("created_at"), reply_generation=0)
                .returning(_user.c.id).cte("new_user"))
    new_email = insert(_email).from_select(
        ["address", "user_id", "is_primary"], select(bindparam("address", type_=String), new_user.c.id, true())
    ).cte("new_email")
    new_role = insert(_role).from_select(
        ["user_id", "role"], select(new_user.c.id, literal("client", String))).cte("new_role")
    return select(new_user.c.id).add_cte(new_email, new_role)


NEW_CLIENT = Prebuilt(_new_client_statement())


OUTBOX_COLUMNS = ("ticket_id", "kind", "mail_from", "rcpt_to", "message_id", "raw", "status", "attempts",
                  "created_at", "queued_at", "next_attempt_at", "channel")


def _new_mail_statement():
    """An outbox row and the thread ref its Message-ID gives the ticket; returns the row's id."""
    binds = {name: bindparam(name, type_=_outbox.c[name].type) for name in OUTBOX_COLUMNS}
    new_row = insert(_outbox).values(binds).returning(_outbox.c.id).cte("new_row")
    new_ref = insert(_thread_ref).from_select(
        ["message_id", "ticket_id"], select(binds["message_id"], binds["ticket_id"])).cte("new_ref")
    return select(new_row.c.id).add_cte(new_ref)


NEW_MAIL_WITH_THREAD_REF = Prebuilt(_new_mail_statement())


ARTICLE_COLUMNS = ("ticket_id", "inbound_id", "direction", "channel", "sender", "subject", "message_id", "text",
                   "new_text", "visibility", "author_id", "created_at", "media_urls")


def _new_article_statement():
    """An inbound article and its Message-ID's thread ref (a known one keeps its ticket); returns
    the article's id."""
    binds = {name: bindparam(name, type_=_article.c[name].type) for name in ARTICLE_COLUMNS}
    new_article = insert(_article).values(binds).returning(_article.c.id).cte("new_article")
    new_ref = (postgresql.insert(_thread_ref)
               .from_select(["message_id", "ticket_id"], select(binds["message_id"], binds["ticket_id"]))
               .on_conflict_do_nothing(index_elements=["message_id"]).cte("new_ref"))
    return select(new_article.c.id).add_cte(new_ref)


NEW_ARTICLE_WITH_THREAD_REF = Prebuilt(_new_article_statement())
