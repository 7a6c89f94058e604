"""Forged delivery reports over the real listener: a report is believed only at the signed VERP
address of the very mail it is about, for an address that mail went to. Anything else is noted
on the ticket and blocks nobody, so nobody can silence a client for automatic mail (and so have
their resolved ticket close itself without the client ever being asked)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.ground.outgoing import ComposedMail
from helpdesk.store.account_tables import UserEmail
from helpdesk.store.db import new_session
from helpdesk.store.outbox import enqueue
from tests.mail import client_mail, send, wait_until
from tests.smtp_sink import Caught, SmtpSink
from tests.test_bounces import WORKFLOW_RULES, deliver_report, dsn
from tests.workflow import ANNA, JAN, add_team, reply_to

EVA = "eva@partner.example"  # CC'd by Jan, so a participant; her company runs its own mail system
NOT_SIGNED = "not received at the signed bounce address of that mail"


def outbox_id(caught: Caught) -> int:
    """The outbox row a mail was sent from, read off its VERP sender bounces+<id>-<signature>@."""
    return int(caught.mail_from.split("+", 1)[1].split("-", 1)[0])


def mail_of_kind(sink: SmtpSink, db, kind: str, address: str) -> Caught:
    """The first mail of that kind the relay got for the address (waits for it)."""
    def find():
        kinds = {row["id"]: row["kind"] for row in db.outbox()}
        return next((m for m in list(sink.messages)
                     if address in m.rcpt_tos and kinds.get(outbox_id(m)) == kind), None)
    return wait_until(find, timeout=15)


def blocked_addresses(db) -> set[str]:
    with new_session(db.engine) as session:
        return set(session.execute(select(UserEmail.address).where(UserEmail.blocked_until.is_not(None))).scalars())


def not_acted_on(db, number: int) -> list[str]:
    return [e["detail"] for e in db.ticket(number)["events"] if e["kind"] == "delivery-report-not-acted-on"]


@pytest.mark.parametrize("received_at", ["support address", "bounce address, bad signature"])
def test_a_participants_forged_report_blocks_nobody_and_the_client_is_still_asked(
        make_settings, start_gateway, sink, db, received_at):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES))
    add_team(db.engine)
    send(gw.port, client_mail(subject="Drukarka nie drukuje", sender=f"Jan Kowalski <{JAN}>", Cc=EVA))
    notification = mail_of_kind(sink, db, "staff_new", ANNA)
    reply_to(gw.port, notification, ANNA, "Restarted the spooler, please try again.")
    answer = mail_of_kind(sink, db, "reply", JAN)
    number = db.tickets()[0]["number"]
    rcpt = ("support@helpdesk.test" if received_at == "support address"
            else f"bounces+{outbox_id(answer)}-aaaaaaaaaa@helpdesk.test")
    # Eva saw the answer: her mail system reports Jan's address failed, with the answer's Message-ID
    deliver_report(gw.port, dsn(answer.raw, JAN, to=rcpt, mx="mx.partner.example"), rcpt)
    db.processed(3)
    assert blocked_addresses(db) == set()
    assert "bounced" not in {row["status"] for row in db.outbox()} and db.ticket_count() == 1
    assert not_acted_on(db, number) == [f"delivery report for {JAN}, not acted on: {NOT_SIGNED}"]
    # the ticket takes its usual course: resolving it asks Jan to confirm, nothing is held back
    reply_to(gw.port, notification, ANNA, "#take\n#resolve")
    mail_of_kind(sink, db, "resolved", JAN)
    detail = db.ticket(number)
    assert detail["status"] == "resolved"
    assert not [e for e in detail["events"] if e["kind"] == "reply-suppressed"]


def test_a_report_at_the_mails_own_bounce_address_naming_another_address_blocks_nobody(gateway, sink, db):
    send(gateway.port, client_mail(sender=JAN))
    ack = sink.wait_for(1)[0]
    number = db.tickets()[0]["number"]
    # Jan can read the signed address in the Return-Path; the report names an address not sent to
    stranger = "someone.else@client.example"
    deliver_report(gateway.port, dsn(ack.raw, stranger, to=ack.mail_from), ack.mail_from)
    db.processed(2)
    assert blocked_addresses(db) == set()  # in particular not Jan, the mail's first (and only) recipient
    wait_until(lambda: db.outbox()[0]["status"] == "sent")  # the relay's 250 is committed in the background
    assert not_acted_on(db, number) == [
        f"delivery report for {stranger}, not acted on: the mail of outbox {outbox_id(ack)} was not sent to {stranger}"]


def test_a_genuine_report_on_a_mail_to_two_addresses_blocks_the_one_it_names(gateway, sink, db):
    send(gateway.port, client_mail(sender=JAN))
    sink.wait_for(1)
    number = db.tickets()[0]["number"]
    # one outbox row for two recipients, as an answer with a Cc was queued before rows per recipient
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Eva Partner", [EVA])
        raw = b"From: support@helpdesk.test\r\nMessage-ID: <two.recipients@helpdesk.test>\r\n\r\nHello\r\n"
        enqueue(session, ComposedMail("two.recipients@helpdesk.test", "support@helpdesk.test", (JAN, EVA), raw),
                "reply", number)
    both = wait_until(lambda: next((m for m in list(sink.messages) if len(m.rcpt_tos) == 2), None), timeout=15)
    # Eva's mail is forwarded; the forward target fails and the report names her address as Original-Recipient
    report = dsn(both.raw, "eva@mailhost.partner.example", to=both.mail_from, original_recipient=EVA,
                 mx="mx.partner.example")
    deliver_report(gateway.port, report, both.mail_from)
    wait_until(lambda: any(e["kind"] == "address-blocked" for e in db.ticket(number)["events"]))
    assert blocked_addresses(db) == {EVA}
    assert {row["id"]: row["status"] for row in db.outbox()}[outbox_id(both)] == "bounced"
    assert not not_acted_on(db, number)
