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
