"""Schema migrations keep existing data: contacts of 0001 become users of 0002 with their tickets."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from helpdesk.store.db import make_engine
from helpdesk.store.migrate import alembic_config, current_revision, upgrade
from tests.conftest import BACKENDS, pg_database


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    admin, _ = request.getfixturevalue("pg_template")  # its admin connection; no template wanted here
    with pg_database(admin, "helpdesk_m") as url:
        yield url


def test_contacts_become_users_and_tickets_keep_their_requesters(empty_db):
    engine = make_engine(empty_db)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("INSERT INTO contact (id, email, display_name, created_at) VALUES "
                          "(1, 'jan@client.example', 'Jan', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO ticket (subject, status, priority, queue, requester_id, created_at, updated_at)"
                          " VALUES ('old', 'open', 'normal', 'general', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade(engine)
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.begin() as conn:
        assert conn.execute(text("SELECT address, user_id, is_primary FROM user_email")).one() == \
            ("jan@client.example", 1, True)
        assert conn.execute(text("SELECT role FROM user_role WHERE user_id = 1")).scalar() == "client"
        assert conn.execute(text("SELECT display_name, active FROM user_account")).one() == ("Jan", True)
        assert conn.execute(text("SELECT requester_id FROM ticket")).scalar() == 1
        # 0003: old tickets get the routing defaults
        assert conn.execute(text("SELECT assignment, alert_level, tags, assignee_id FROM ticket")).one() == \
            ("dispatcher", "standard", "", None)
        # the renamed table still hands out fresh ids, and the foreign key now points at users
        conn.execute(text("INSERT INTO user_account (display_name, active, created_at) "
                          "VALUES ('New', true, CURRENT_TIMESTAMP)"))
        assert conn.execute(text("SELECT max(id) FROM user_account")).scalar() == 2
    with pytest.raises(Exception):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ticket (subject, status, priority, queue, requester_id, created_at, "
                              "updated_at) VALUES ('x', 'new', 'normal', 'general', 999, CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP)"))
    upgrade(engine)  # idempotent
    engine.dispose()


def test_the_models_match_what_the_migrations_build(engine):
    """A column or index added to a model without its migration (or the reverse) shows up here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import helpdesk.store.account_tables  # noqa: F401  (registers the tables)
    import helpdesk.store.models  # noqa: F401

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_names_stored_with_control_characters_are_cleaned(tmp_path):
    """A name that a version before 0011 accepted must not quarantine every mail naming its person."""
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0010")
        conn.execute(text("INSERT INTO user_account (display_name, active, created_at, reply_generation) "
                          "VALUES ('Anna\r\nBcc: x@evil.example', 1, '2026-01-01', 0)"))
        conn.execute(text("INSERT INTO organization (name, default_locale, timezone, colleagues_may_continue, "
                          "created_at) VALUES ('Acme\u2028Ltd', 'en', 'UTC', 0, '2026-01-01')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT display_name FROM user_account")).scalar() == "Anna Bcc: x@evil.example"
        assert conn.execute(text("SELECT name FROM organization")).scalar() == "Acme Ltd"
    engine.dispose()
