"""Only people who belong to a ticket may continue it; a stranger naming its number gets a ticket
of their own, and the original ticket is not touched."""

from __future__ import annotations

import pytest

from helpdesk.gateway.accounts.directory import add_org, add_user, edit_org, find_org
from helpdesk.store.db import new_session
from tests.mail import client_mail, send


def _first(gateway, sink, db, sender="Jan <jan@acme.example>", **headers) -> int:
    send(gateway.port, client_mail(sender=sender, message_id="<orig@acme.example>", **headers))
    sink.wait_for(1)
    return db.tickets()[0]["number"]


def _org(db, colleagues: bool) -> None:
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"], colleagues_may_continue=colleagues)


def test_a_stranger_using_the_number_gets_a_new_ticket_and_learns_nothing(gateway, sink, db):
    number = _first(gateway, sink, db, subject="Server password reset")
    send(gateway.port, client_mail(sender="mallory@evil.example", subject=f"Re: [HD#{number}] Server password reset",
                                   body="Please send me everything.\n"))
    ack = sink.wait_for(2)[1]
    original = db.ticket(number)
    assert len(original["articles"]) == 1 and original["status"] == "new"
    # only what its creation recorded (nobody watches the test's queue: the admins were told)
    assert [e["kind"] for e in original["events"]] == ["created", "unwatched-queue"]
    (new,) = [t for t in db.tickets() if t["number"] != number]
    assert new["requester"] == "mallory@evil.example"
    events = db.ticket(new["number"])["events"]
    assert any(e["kind"] == "not-continued" and f"ticket {number}" in e["detail"] for e in events)
    assert ack.rcpt_tos == ["mallory@evil.example"] and f"[HD#{new['number']}]" in ack.message["Subject"]
    assert "Please send me" not in ack.message.get_content() and f"HD#{number}]" not in ack.message["Subject"]


PASS = "mx.helpdesk.test; dkim=pass header.d={0}; dmarc=pass header.from={0}"


def test_a_cc_participant_of_proven_mail_may_continue(make_settings, start_gateway, sink, db):
    gateway = start_gateway(make_settings(trusted_authserv_ids="mx.helpdesk.test"))
    number = _first(gateway, sink, db, Cc="Eva <eva@partner.example>",
                    Authentication_Results=PASS.format("acme.example"))
    send(gateway.port, client_mail(sender="eva@partner.example", subject=f"Re: [HD#{number}] printer"))
    rows = db.processed(2)
    assert len(db.tickets()) == 1 and rows[1].ticket_id == number
    assert "participant" in db.ticket(number)["events"][-1]["detail"]


def test_the_cc_of_unproven_mail_does_not_become_a_participant(gateway, sink, db):
    number = _first(gateway, sink, db, Cc="Eva <eva@partner.example>")
    send(gateway.port, client_mail(sender="eva@partner.example", subject=f"Re: [HD#{number}] printer"))
    db.processed(2)
    assert len(db.tickets()) == 2 and len(db.ticket(number)["articles"]) == 1


def test_colleagues_follow_the_organization_setting(gateway, sink, db):
    _org(db, colleagues=True)
    number = _first(gateway, sink, db)
    send(gateway.port, client_mail(sender="petra@acme.example", subject=f"Re: [HD#{number}] printer"))
    db.processed(2)
    assert len(db.tickets()) == 1

    with new_session(db.engine) as session, session.begin():
        edit_org(session, find_org(session, "Acme"), colleagues_may_continue=False)
    send(gateway.port, client_mail(sender="karel@acme.example", subject=f"Re: [HD#{number}] printer"))
    db.processed(3)
    assert len(db.tickets()) == 2 and len(db.ticket(number)["articles"]) == 2


def test_proven_staff_may_continue_any_ticket(make_settings, start_gateway, sink, db):
    gateway = start_gateway(make_settings(trusted_authserv_ids="mx.helpdesk.test"))
    number = _first(gateway, sink, db)
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Petr", ["petr@provider.example"], roles=("technician",))
    send(gateway.port, client_mail(sender="petr@provider.example", subject=f"Re: [HD#{number}] printer",
                                   Authentication_Results=PASS.format("provider.example")))
    db.processed(2)
    # staff mail on a ticket is their answer to the client (tests/test_technician_workflow.py goes further)
    assert len(db.tickets()) == 1 and db.ticket(number)["events"][-1]["kind"] == "staff-reply"


def test_references_alone_do_not_let_a_stranger_in(gateway, sink, db):
    number = _first(gateway, sink, db)
    ack = sink.messages[0]
    send(gateway.port, client_mail(sender="mallory@evil.example", subject="hello",
                                   In_Reply_To=ack.message["Message-ID"]))
    db.processed(2)
    assert len(db.tickets()) == 2 and len(db.ticket(number)["articles"]) == 1


def test_forged_message_ids_in_our_format_are_ignored(gateway, sink, db):
    number = _first(gateway, sink, db)
    ack_id = sink.messages[0].message["Message-ID"].strip("<>")
    assert ack_id.startswith(f"hd{number}.")
    forged = ack_id[:-len("@helpdesk.test")][:-1] + ("a" if not ack_id.endswith("a@helpdesk.test") else "b") \
        + "@helpdesk.test"
    send(gateway.port, client_mail(sender="jan@acme.example", subject="hello again",
                                   In_Reply_To=f"<{forged}>"))  # from the requester, even
    db.processed(2)
    assert len(db.tickets()) == 2  # an unverifiable reference threads nothing
    send(gateway.port, client_mail(sender="jan@acme.example", subject="hello again", In_Reply_To=f"<{ack_id}>"))
    db.processed(3)
    assert len(db.tickets()) == 2 and len(db.ticket(number)["articles"]) == 2
    assert "signed reference" in db.ticket(number)["events"][-1]["detail"]


@pytest.mark.parametrize("policy, days_ago, reopened", [
    ("reopen", 400, True),
    ("reopen-within", 3, True),
    ("reopen-within", 30, False),
    ("new-ticket", 0, False),
])
def test_closed_ticket_policy(make_settings, start_gateway, sink, db, policy, days_ago, reopened):
    from datetime import timedelta

    from sqlalchemy import update

    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.models import Ticket
    gw = start_gateway(make_settings(closed_ticket_policy=policy, reopen_within_days=14))
    number = _first(gw, sink, db)
    with db.engine.begin() as conn:
        conn.execute(update(Ticket).where(Ticket.id == number).values(
            status="closed", closed_at=utcnow() - timedelta(days=days_ago)))
    send(gw.port, client_mail(sender="jan@acme.example", subject=f"Re: [HD#{number}] printer"))
    db.processed(2)
    old = db.ticket(number)
    if reopened:
        assert old["status"] == "open" and len(db.tickets()) == 1
    else:
        assert old["status"] == "closed" and len(old["articles"]) == 1
        (new,) = [t for t in db.tickets() if t["number"] != number]
        assert any(e["kind"] == "follow-up" and f"ticket {number}" in e["detail"]
                   for e in db.ticket(new["number"])["events"])
        assert old["events"][-1]["kind"] == "followed-up"
