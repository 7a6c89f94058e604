"""Forged and careless mail must not leak a ticket or act for staff (found by review, kept as tests)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from helpdesk.gateway.accounts.directory import find_user, user_view
from helpdesk.store.db import new_session
from tests.conftest import REPO
from tests.mail import client_mail, send, wait_until
from tests.test_bounces import deliver_report, dsn
from tests.workflow import ANNA, DANA, JAN, Inbox, add_team, body, open_ticket, reply_to

WORKFLOW_RULES = REPO / "tests" / "rules" / "workflow.yaml"
PASS = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"
DMARC_FAIL = "mx.helpdesk.test; dmarc=fail header.from=client.example; spf=fail smtp.mailfrom=client.example"


def _start(make_settings, start_gateway, db, **settings):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, trusted_authserv_ids="mx.helpdesk.test", **settings))
    add_team(db.engine)
    return gw


def test_a_forged_follow_up_cannot_add_itself_to_the_conversation(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    forged = client_mail(subject=f"Re: [HD#{number}] x", sender=JAN, Cc="attacker@evil.example",
                         body="Please send the password to my colleague.", Authentication_Results=DMARC_FAIL)
    send(gw.port, forged)
    inbox.next(2)  # both technicians hear of it (no reply goes to the unverified sender)
    reply_to(gw.port, first[ANNA], ANNA, "#take\nThe admin password is in the safe.")
    answer = inbox.next()
    assert list(answer) == [JAN]  # not the forged Cc


def test_fresh_staff_mail_acts_only_with_a_trusted_pass(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"[HD#{number}] x", sender=ANNA,
                              body="#close\nClick http://evil.example to fix it."))  # no results: unproven
    assert list(inbox.next()) == [ANNA]  # the notice, and nothing for the client
    detail = db.ticket(number)
    assert detail["status"] == "new" and "staff-unverified" in [e["kind"] for e in detail["events"]]
    passed = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"
    send(gw.port, client_mail(subject=f"[HD#{number}] x", sender=ANNA, body="#take\nOn it.",
                              Authentication_Results=passed))
    wait_until(lambda: db.ticket(number)["assignee"] == ANNA)
    assert list(inbox.next()) == [JAN]


def test_a_note_written_carelessly_is_never_mailed_to_the_client(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    reply_to(gw.port, first[ANNA], ANNA, "#note: client owes us money")
    reply_to(gw.port, first[ANNA], ANNA, "# note client owes us money")
    refused = inbox.next()[ANNA]
    assert "not a command" in body(refused)
    wait_until(lambda: len(db.ticket(number)["articles"]) == 3)
    assert [a["visibility"] for a in db.ticket(number)["articles"][1:]] == ["internal", "internal"]
    inbox.nothing_more(db)


def test_an_attachment_alone_goes_to_the_client_without_our_notification(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    msg = EmailMessage()
    msg["From"], msg["To"] = ANNA, first[ANNA].message["Reply-To"]
    msg["Subject"] = "Re: " + first[ANNA].message["Subject"]
    msg["Message-ID"], msg["In-Reply-To"] = make_msgid(domain="provider.example"), first[ANNA].message["Message-ID"]
    msg.set_content("\n".join("> " + line for line in body(first[ANNA]).splitlines()))
    msg.add_attachment(b"%PDF-1.4 manual", maintype="application", subtype="pdf", filename="manual.pdf")
    send(gw.port, msg)
    forwarded = inbox.next()[JAN]
    assert "#take" not in forwarded.message.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in forwarded.message.iter_attachments()] == ["manual.pdf"]


def test_mail_to_our_bounce_address_is_never_answered(gateway, sink, db):
    with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
        smtp.sendmail("someone@elsewhere.example", ["bounces+1-abcdefghij@helpdesk.test"],
                      client_mail(sender="someone@elsewhere.example").as_bytes())
    db.processed(1)
    assert any("bounce address" in e["detail"] for e in db.ticket(db.tickets()[0]["number"])["events"])
    inbox = Inbox(sink)
    inbox.nothing_more(db)


def test_the_notes_address_in_to_alone_keeps_the_mail_internal(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db, notes_address="notes@helpdesk.test")
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    # delivered to support@ (an alias at the MX, or an IMAP mailbox), with notes@ only in To
    send(gw.port, client_mail(subject=f"[HD#{number}] x", sender=ANNA, to="notes@helpdesk.test",
                              body="Out of warranty.", Authentication_Results=PASS), rcpt=["support@helpdesk.test"])
    wait_until(lambda: len(db.ticket(number)["articles"]) == 2)
    assert db.ticket(number)["articles"][-1]["visibility"] == "internal"
    inbox.nothing_more(db)


def test_a_report_cannot_block_an_address_the_mail_was_not_sent_to_nor_staff(make_settings, start_gateway,
                                                                            sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    # a client's own report about their acknowledgement, naming the dispatcher
    deliver_report(gw.port, dsn(first[JAN].raw, DANA, to=first[JAN].mail_from), first[JAN].mail_from)
    # a real bounce of a staff notification
    deliver_report(gw.port, dsn(first[ANNA].raw, ANNA, to=first[ANNA].mail_from), first[ANNA].mail_from)
    wait_until(lambda: all(r.status != "pending" for r in db.inbound()) and len(db.inbound()) == 3)
    with new_session(db.engine) as session:
        assert user_view(session, find_user(session, DANA))["blocked"] == []
        assert user_view(session, find_user(session, ANNA))["blocked"] == []
    events = [e["kind"] for e in db.ticket(db.tickets()[0]["number"])["events"]]
    assert "staff-bounce" in events
