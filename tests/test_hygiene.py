"""Automatic mail is stored but never answered; unreadable mail is quarantined, never dropped."""

from __future__ import annotations

import smtplib

import pytest

from tests.mail import client_mail, send


@pytest.mark.parametrize("headers, envelope_from, reason", [
    ({"Auto_Submitted": "auto-replied"}, None, "Auto-Submitted"),
    ({"Precedence": "bulk"}, None, "Precedence"),
    ({"List_Id": "<news.client.example>"}, None, "list-id"),
    ({}, "", "null envelope sender"),
    ({"X_Loop": "support@helpdesk.test"}, None, "X-Loop"),
])
def test_automatic_mail_makes_a_ticket_but_no_reply(gateway, sink, db, headers, envelope_from, reason):
    send(gateway.port, client_mail(**headers), envelope_from=envelope_from)
    db.processed(1)
    (ticket,) = db.tickets()
    events = db.ticket(ticket["number"])["events"]
    assert any(e["kind"] == "reply-suppressed" and reason in e["detail"] for e in events)
    assert db.outbox() == []


def test_mailer_daemon_sender_gets_no_reply(gateway, sink, db):
    send(gateway.port, client_mail(sender="MAILER-DAEMON@mx.client.example"))
    db.processed(1)
    assert db.outbox() == []


def test_unreadable_mail_is_kept_in_quarantine_with_the_reason(gateway, sink, db):
    with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
        smtp.sendmail("", ["support@helpdesk.test"], b"Subject: no sender at all\r\n\r\nbody\r\n")
    (row,) = db.processed(1)
    assert row.status == "quarantined" and "no usable sender" in row.reason
    assert b"no sender at all" in row.raw
    assert db.tickets() == []


def test_internationalized_sender_gets_a_ticket_and_an_acknowledgement(gateway, sink, db):
    raw = ("From: Žofie <žofie@příklad.example>\r\nTo: support@helpdesk.test\r\nSubject: tiskárna\r\n"
           "Message-ID: <eai@client.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "\r\nDobrý den\r\n").encode()
    with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
        smtp.sendmail("žofie@příklad.example", ["support@helpdesk.test"], raw, mail_options=["SMTPUTF8"])
    ack = sink.wait_for(1)[0]
    assert ack.rcpt_tos == ["žofie@příklad.example"]
    assert db.tickets()[0]["requester"] == "žofie@příklad.example"


def test_redelivered_mail_without_message_id_is_recognised(gateway, sink, db):
    raw = b"From: jan@client.example\r\nTo: support@helpdesk.test\r\nSubject: no id\r\n\r\nhello\r\n"
    for _ in range(2):  # each copy gets its own Received line with a new time
        with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
            smtp.sendmail("jan@client.example", ["support@helpdesk.test"], raw)
        import time
        time.sleep(1.1)
    rows = db.processed(2)
    assert sorted(r.status for r in rows) == ["duplicate", "processed"] and len(db.tickets()) == 1


def test_automatic_replies_to_one_address_are_limited_per_hour(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings(auto_reply_limit_per_hour=3))
    for i in range(5):  # e.g. a misconfigured system writing new mail again and again
        send(gw.port, client_mail(sender="robot@client.example", subject=f"status {i}"))
    db.processed(5)
    sink.wait_for(3)
    assert len(db.outbox()) == 3 and len(db.tickets()) == 5
    suppressed = [t for t in db.tickets() if not db.ticket(t["number"])["outbox"]]
    assert len(suppressed) == 2
    assert all(any("automatic replies to this address" in e["detail"] for e in db.ticket(t["number"])["events"])
               for t in suppressed)


def test_an_autoresponder_answering_our_acknowledgement_starts_no_loop(gateway, sink, db):
    send(gateway.port, client_mail(sender="jan@client.example", subject="printer"))
    ack = sink.wait_for(1)[0]
    for _ in range(3):  # a badly behaved autoresponder without Auto-Submitted, replying each time
        send(gateway.port, client_mail(sender="jan@client.example", subject=f"Re: {ack.message['Subject']}",
                                       body="I am out of office.\n", In_Reply_To=ack.message["Message-ID"]))
    db.processed(4)
    assert len(db.tickets()) == 1 and len(db.outbox()) == 1
