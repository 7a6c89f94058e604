"""Unknown senders become client contacts of the organization that owns their domain."""

from __future__ import annotations

from helpdesk.gateway.accounts.directory import add_org, find_user, user_view
from helpdesk.store.db import new_session
from tests.mail import client_mail, send


def test_unknown_sender_joins_the_organization_of_the_domain_and_gets_its_language(gateway, sink, db):
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Acme Manufacturing", ["acme.example"], locale="cs", timezone="Europe/Prague")
    send(gateway.port, client_mail(sender="Eva Malá <eva@ACME.example>"))
    send(gateway.port, client_mail(sender="Tom <tom@elsewhere.example>"))
    by_rcpt = {m.rcpt_tos[0]: m for m in sink.wait_for(2)}
    with new_session(db.engine) as session:
        eva = user_view(session, find_user(session, "eva@acme.example"))
        tom = user_view(session, find_user(session, "tom@elsewhere.example"))
    assert eva["organization"] == "Acme Manufacturing" and eva["roles"] == ["client"] and eva["name"] == "Eva Malá"
    assert tom["organization"] is None and tom["roles"] == ["client"]
    assert "Přijali jsme Váš požadavek" in by_rcpt["eva@acme.example"].message["Subject"]
    assert "We have received your request" in by_rcpt["tom@elsewhere.example"].message["Subject"]


def test_a_known_user_with_several_addresses_is_one_requester(gateway, sink, db):
    from helpdesk.gateway.accounts.directory import add_user

    with new_session(db.engine) as session, session.begin():
        add_user(session, "Petr", ["petr@client.example", "petr.home@mail.example"], locale="pl")
    send(gateway.port, client_mail(sender="petr.home@mail.example"))
    ack = sink.wait_for(1)[0]
    assert "Otrzymaliśmy" in ack.message["Subject"]
    with new_session(db.engine) as session:
        assert len(user_view(session, find_user(session, "petr@client.example"))["emails"]) == 2
    assert db.tickets()[0]["requester"] == "petr@client.example"
