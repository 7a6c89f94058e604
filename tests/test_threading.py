"""Replies continue tickets: by the subject tag (with any reply prefix), or by In-Reply-To/References."""

from __future__ import annotations

import pytest

from helpdesk.gateway.conversation.ticket_tag import clean_subject, find_ticket_number
from tests.mail import client_mail, send, wait_until


@pytest.mark.parametrize("subject", [
    "Re: [HD#42] printer", "RE: [HD#42] printer", "AW: Re: [HD#42] printer", "Odp: [HD#42] printer",
    "Odg: [HD#42] printer", "Fwd: [HD#42] printer", "Tr: [HD#42] printer", "Re:Re:RE: [HD#42] printer",
    "re : [ hd # 42 ] printer", "printer [hd#42]", "Re: HD#42 printer", "Re[2]: [HD#42] printer",
])
def test_tag_is_found_behind_any_prefix(subject):
    assert find_ticket_number(subject, "HD") == 42


@pytest.mark.parametrize("subject", ["Invoice #42", "[#42] printer", "HDD#42 failed", "printer"])
def test_other_numbers_are_not_tags(subject):
    assert find_ticket_number(subject, "HD") is None


def test_clean_subject_drops_prefixes_and_tag():
    assert clean_subject("Re: AW:  Fwd: [HD#7]  Printer  jam", "HD") == "Printer jam"


def _first_ticket(gateway, sink, db, **kw):
    send(gateway.port, client_mail(message_id="<orig@client.example>", **kw))
    ack = sink.wait_for(1)[0]
    return db.tickets()[0]["number"], ack


def test_reply_with_number_in_subject_is_appended(gateway, sink, db):
    number, _ = _first_ticket(gateway, sink, db)
    send(gateway.port, client_mail(subject=f"AW: Odp: [hd # {number}] Printer does not print",
                                   body="It works again after a restart.\n"))
    db.processed(2)
    detail = db.ticket(number)
    assert [a["text"] for a in detail["articles"]][1] == "It works again after a restart."
    assert len(db.tickets()) == 1
    assert len(sink.messages) == 1  # a follow-up is not acknowledged again


def test_reply_by_in_reply_to_only_is_appended(gateway, sink, db):
    number, ack = _first_ticket(gateway, sink, db)
    send(gateway.port, client_mail(subject="Re: the printer", body="More details.\n",
                                   In_Reply_To=ack.message["Message-ID"]))
    db.processed(2)
    assert len(db.tickets()) == 1
    assert len(db.ticket(number)["articles"]) == 2


def test_reply_by_references_to_the_clients_own_message_is_appended(gateway, sink, db):
    number, _ = _first_ticket(gateway, sink, db)
    send(gateway.port, client_mail(subject="forgot something", body="Also the scanner.\n",
                                   References="<unrelated@elsewhere.example> <orig@client.example>"))
    db.processed(2)
    assert len(db.tickets()) == 1
    assert len(db.ticket(number)["articles"]) == 2


def test_unknown_number_and_reference_make_a_new_ticket(gateway, sink, db):
    _first_ticket(gateway, sink, db)
    send(gateway.port, client_mail(subject="Re: [HD#999999] old", In_Reply_To="<nothing@nowhere.example>",
                                   sender="eva@client.example"))
    sink.wait_for(2)
    assert len(db.tickets()) == 2


@pytest.mark.parametrize("final_status", ["resolved", "closed"])
def test_reply_to_a_finished_ticket_reopens_it_and_notifies(gateway, sink, db, final_status):
    from sqlalchemy import update

    from helpdesk.store.models import Ticket

    number, _ = _first_ticket(gateway, sink, db)
    with db.engine.begin() as conn:
        conn.execute(update(Ticket).where(Ticket.id == number).values(status=final_status))
    send(gateway.port, client_mail(subject=f"Re: [HD#{number}] Printer", body="It broke again.\n"))
    reopened = sink.wait_for(2)[1]
    detail = db.ticket(number)
    assert detail["status"] == "open" and detail["closed_at"] is None
    assert "reopened" in [e["kind"] for e in detail["events"]]
    assert f"[HD#{number}]" in reopened.message["Subject"]
    assert reopened.message["Auto-Submitted"] == "auto-replied"


def test_same_message_delivered_twice_is_stored_once(gateway, sink, db):
    mail = client_mail(message_id="<twice@client.example>")
    send(gateway.port, mail)
    send(gateway.port, mail)  # e.g. re-sent by the client's server after a timeout
    rows = db.processed(2)
    assert sorted(r.status for r in rows) == ["duplicate", "processed"]
    (ticket,) = db.tickets()
    assert len(db.ticket(ticket["number"])["articles"]) == 1
    sink.wait_for(1)
    with pytest.raises(TimeoutError):
        sink.wait_for(2, timeout=1.0)


def test_duplicate_of_a_reply_is_appended_once(gateway, sink, db):
    number, _ = _first_ticket(gateway, sink, db)
    reply = client_mail(subject=f"Re: [HD#{number}] x", message_id="<reply@client.example>")
    for _ in range(3):
        send(gateway.port, reply)
    db.processed(4)
    assert len(db.ticket(number)["articles"]) == 2
    wait_until(lambda: len(db.outbox()) == 1)
