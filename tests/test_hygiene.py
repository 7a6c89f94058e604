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
