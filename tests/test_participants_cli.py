"""Admins add and remove a ticket's participants with the CLI; mistakes are one line and change nothing."""

from __future__ import annotations

import json

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.store.db import new_session
from helpdesk.store.tickets import TicketStore
from tests.test_accounts_cli import env, ok, refused  # noqa: F401  (env is a fixture)


def _ticket(db) -> int:
    with new_session(db.engine) as session, session.begin():
        store = TicketStore(session)
        jan = store.find_or_create_contact("jan@client.example", "Jan")
        number = store.create_ticket("Printer", jan.id, {"queue": "general"})
        store.add_participants(number, {"jan@client.example"}, new_ticket=True)
        add_user(session, "Anna", ["anna@provider.example"], roles=("technician",))
    return number


def test_participants_are_added_listed_and_removed(env, db):  # noqa: F811
    number = str(_ticket(db))
    ok(env, "tickets", "cc", "add", number, "Eva@Client.example")
    assert json.loads(ok(env, "tickets", "cc", "list", number, "--json")) == ["eva@client.example",
                                                                              "jan@client.example"]
    assert "already takes part" in refused(env, "tickets", "cc", "add", number, "eva@client.example")
    assert "is staff" in refused(env, "tickets", "cc", "add", number, "anna@provider.example")
    assert "not an email address" in refused(env, "tickets", "cc", "add", number, "eva\r\nBcc: x@evil.example")
    assert "no ticket 99" in refused(env, "tickets", "cc", "add", "99", "eva@client.example")
    ok(env, "tickets", "cc", "remove", number, "eva@client.example")
    assert "not a participant" in refused(env, "tickets", "cc", "remove", number, "eva@client.example")
    assert ok(env, "tickets", "cc", "list", number).split() == ["jan@client.example"]
    events = [e["detail"] for e in json.loads(ok(env, "tickets", "show", number, "--json"))["events"]]
    assert any("added as a participant from the CLI" in e for e in events)
