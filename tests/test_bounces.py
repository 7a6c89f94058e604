"""Delivery status notifications over the real listener: matched to the outbound mail they report
(acted on at its signed VERP address, only noted when matched by the returned Message-ID), recorded,
and never answered. Forged reports: test_forged_reports.py."""

from __future__ import annotations

import smtplib

import pytest

from helpdesk.gateway.accounts.directory import find_user, user_view
from helpdesk.store.db import new_session
from tests.conftest import REPO
from tests.mail import client_mail, send, wait_until
from tests.workflow import ANNA, JAN, Inbox, add_team, reply_to

WORKFLOW_RULES = REPO / "tests" / "rules" / "workflow.yaml"


def dsn(original: bytes, recipient: str, *, to: str, action: str = "failed", status: str = "5.1.1",
        original_recipient: str = "", mx: str = "mx.client.example") -> bytes:
    """A Postfix-style report on `original` (its headers are returned) about `recipient`, from `mx`."""
    headers = original.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n").decode()
    orcpt = f"Original-Recipient: rfc822;{original_recipient}\n" if original_recipient else ""
    return f"""From: Mail Delivery System <MAILER-DAEMON@{mx}>
To: <{to}>
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{abs(hash((recipient, action, to)))}@{mx}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; {mx}

Final-Recipient: rfc822; {recipient}
{orcpt}Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

{headers}
--B--
""".replace("\n", "\r\n").encode()


def deliver_report(port: int, raw: bytes, rcpt: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("<>", [rcpt], raw)


def _acknowledged(gw, sink, db):
    send(gw.port, client_mail(sender=JAN))
    ack = sink.wait_for(1)[0]
    return ack, db.tickets()[0]["number"]


def test_a_permanent_bounce_marks_the_mail_blocks_the_address_and_answers_nothing(gateway, sink, db):
    ack, number = _acknowledged(gateway, sink, db)
    assert ack.mail_from.startswith("bounces+") and ack.mail_from.endswith("@helpdesk.test")
    deliver_report(gateway.port, dsn(ack.raw, JAN, to=ack.mail_from), ack.mail_from)
    db.processed(2)
    assert db.ticket_count() == 1  # no ticket of its own
    assert db.outbox()[0]["status"] == "bounced"
    detail = db.ticket(number)
    assert [e["kind"] for e in detail["events"]][-2:] == ["bounced", "address-blocked"]
    assert "5.1.1" in detail["events"][-2]["detail"]
    assert detail["articles"][-1]["visibility"] == "internal"
    with new_session(db.engine) as session:
        blocked = user_view(session, find_user(session, JAN))["blocked"]
    assert blocked[0]["address"] == JAN and "5.1.1" in blocked[0]["reason"]
    with pytest.raises(TimeoutError):
        sink.wait_for(2, timeout=1.0)  # nothing answered the report


def test_automatic_mail_to_a_blocked_address_waits_until_it_writes_again(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES))
    add_team(db.engine)
    inbox = Inbox(sink)
    send(gw.port, client_mail(sender=JAN))
    first = inbox.next(3)
    number = db.tickets()[0]["number"]
    deliver_report(gw.port, dsn(first[JAN].raw, JAN, to=first[JAN].mail_from), first[JAN].mail_from)
    wait_until(lambda: any(e["kind"] == "address-blocked" for e in db.ticket(number)["events"]))
    reply_to(gw.port, first[ANNA], ANNA, "#take\n#resolve")  # the confirmation request is automatic mail
    wait_until(lambda: db.ticket(number)["status"] == "resolved")
    inbox.nothing_more(db)
    assert "blocked until" in db.ticket(number)["events"][-1]["detail"]
    # the client writes again: the block is lifted and the ticket reopens with a notice to them
    send(gw.port, client_mail(subject=f"Re: [HD#{number}] still broken", sender=JAN, body="Still broken."))
    assert JAN in inbox.next(2)
    with new_session(db.engine) as session:
        assert user_view(session, find_user(session, JAN))["blocked"] == []


def test_without_verp_a_report_is_matched_by_message_id_and_only_noted(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings(verp=False))
    ack, number = _acknowledged(gw, sink, db)
    assert ack.mail_from == "support@helpdesk.test"
    deliver_report(gw.port, dsn(ack.raw, JAN, to="support@helpdesk.test"), "support@helpdesk.test")
    db.processed(2)
    # anyone who saw the mail knows its Message-ID: the report is kept on the ticket, not believed
    assert db.ticket_count() == 1
    wait_until(lambda: db.outbox()[0]["status"] == "sent")  # the relay's 250 is committed in the background
    event = db.ticket(number)["events"][-1]
    assert (event["kind"], event["detail"]) == ("delivery-report-not-acted-on", f"delivery report for {JAN}, "
                                                "not acted on: not received at the signed bounce address of that mail")
    assert db.ticket(number)["articles"][-1]["visibility"] == "internal"
    with new_session(db.engine) as session:
        assert user_view(session, find_user(session, JAN))["blocked"] == []


def test_a_delay_is_noted_without_blocking(gateway, sink, db):
    ack, number = _acknowledged(gateway, sink, db)
    report = dsn(ack.raw, JAN, to=ack.mail_from, action="delayed", status="4.4.7")
    deliver_report(gateway.port, report, ack.mail_from)
    db.processed(2)
    wait_until(lambda: db.outbox()[0]["status"] == "sent")  # the relay's 250 is committed in the background
    assert db.ticket(number)["events"][-1]["kind"] == "delivery-delayed"
    with new_session(db.engine) as session:
        assert user_view(session, find_user(session, JAN))["blocked"] == []


def test_a_forged_report_with_a_guessed_bounce_address_changes_nothing(gateway, sink, db):
    ack, number = _acknowledged(gateway, sink, db)
    forged_rcpt = "bounces+1-aaaaaaaaaa@helpdesk.test"
    forged = dsn(b"From: x\r\nMessage-ID: <not-ours@example.com>\r\n\r\n", JAN, to=forged_rcpt)
    deliver_report(gateway.port, forged, forged_rcpt)
    db.processed(2)
    wait_until(lambda: db.outbox()[0]["status"] == "sent")  # the relay's 250 is committed in the background
    # kept as automatic mail on a ticket of its own, with no reply
    (other,) = [t for t in db.tickets() if t["number"] != number]
    assert any(e["kind"] == "reply-suppressed" for e in db.ticket(other["number"])["events"])
    with new_session(db.engine) as session:
        assert user_view(session, find_user(session, JAN))["blocked"] == []
