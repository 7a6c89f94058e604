"""Trust by default: a From header proves nothing; a signed reply address or a trusted DMARC pass does.

Default settings throughout (no trusted Authentication-Results host) unless a test says otherwise:
that is what a new provider runs.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from helpdesk.store.db import new_session
from helpdesk.store.tickets import TicketStore
from tests.conftest import REPO, free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env
from tests.workflow import ANNA, JAN, PETR, Inbox, add_team, body, open_ticket, reply_to

WORKFLOW_RULES = REPO / "tests" / "rules" / "workflow.yaml"
PASS = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"


def _start(make_settings, start_gateway, db, **settings):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, **settings))
    add_team(db.engine)
    return gw


def _participants(db, number: int) -> set[str]:
    with new_session(db.engine) as session:
        return TicketStore(session).participants(number)


def _events(db, number: int) -> list[str]:
    return [e["kind"] for e in db.ticket(number)["events"]]


def test_a_forged_technician_from_acts_for_nobody_and_the_technician_hears_of_it(
        make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    forged = client_mail(subject=f"Re: [HD#{number}] Drukarka", sender=f"Anna Nowak <{ANNA}>",
                         body="#close\nPlease log in at http://evil.example to confirm your account.")
    send(gw.port, forged)
    notice = inbox.next()[ANNA]  # the real Anna, and nobody else: nothing reaches the client
    assert "Not carried out (not verified)" in notice.message["Subject"] and "nothing proves" in body(notice)
    detail = db.ticket(number)
    assert detail["status"] == "new" and detail["articles"][-1]["visibility"] == "internal"
    assert "staff-unverified" in _events(db, number)
    send(gw.port, client_mail(subject=f"Re: [HD#{number}] again", sender=ANNA, body="#take\nAgain."))
    wait_until(lambda: len(db.ticket(number)["articles"]) == 3)
    assert db.ticket(number)["assignee"] is None
    inbox.nothing_more(db)  # at most one notice an hour


def _two_tickets(make_settings, start_gateway, sink, db):
    """Jan opens two tickets; returns the gateway, the inbox, both numbers and the first one's mail."""
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    first_number, first = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject="Second problem", sender=f"Jan Kowalski <{JAN}>"))
    inbox.next(3)
    return gw, inbox, first_number, max(t["number"] for t in db.tickets()), first


def test_the_reply_address_acts_for_its_recipient_on_its_ticket_only(make_settings, start_gateway, sink, db):
    gw, inbox, first_number, second_number, first = _two_tickets(make_settings, start_gateway, sink, db)
    # Anna's reply address for the first ticket, with the second ticket's tag in the subject
    reply_address = first[ANNA].message["Reply-To"]
    assert reply_address.startswith(f"support+r-{first_number}-")
    send(gw.port, client_mail(subject=f"[HD#{second_number}] x", sender=ANNA, to=reply_address,
                              body="#take\nI am on it."))
    inbox.next()
    wait_until(lambda: db.ticket(first_number)["assignee"] == ANNA)
    assert db.ticket(second_number)["assignee"] is None
    # Petr cannot use Anna's reply address, even from his own address
    reply_to(gw.port, first[ANNA], PETR, "#close\nDone.")
    notice = inbox.next()[PETR]  # in his language
    assert "Neprovedeno" in notice.message["Subject"]
    assert db.ticket(first_number)["status"] == "open"


def test_a_token_for_one_ticket_cannot_be_pointed_at_another(make_settings, start_gateway, sink, db):
    gw, inbox, first_number, second_number, first = _two_tickets(make_settings, start_gateway, sink, db)
    reply_address = first[ANNA].message["Reply-To"]
    forged = reply_address.replace(f"+r-{first_number}-", f"+r-{second_number}-")
    send(gw.port, client_mail(subject=f"[HD#{second_number}] x", sender=ANNA, to=forged, body="#close\nx"))
    assert "Not carried out" in inbox.next()[ANNA].message["Subject"]
    assert db.ticket(second_number)["status"] == "new"


def test_a_revoked_reply_address_stops_acting_and_new_mail_carries_a_new_one(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    result = run_helpdesk(["users", "revoke-replies", ANNA], service_env(db.engine.url.render_as_string(False),
                                                                          free_port(), None))
    assert result.returncode == 0, result.stderr
    reply_to(gw.port, first[ANNA], ANNA, "#take\nleaked")
    assert "Not carried out" in inbox.next()[ANNA].message["Subject"]
    assert db.ticket(number)["assignee"] is None
    send(gw.port, client_mail(subject=f"Re: [HD#{number}] more", sender=f"Jan Kowalski <{JAN}>",
                              to=first[JAN].message["Reply-To"], body="More details."))
    fresh = inbox.next(2)[ANNA]  # both technicians hear of Jan's follow-up
    assert fresh.message["Reply-To"] != first[ANNA].message["Reply-To"]
    reply_to(gw.port, fresh, ANNA, "#take\nOn it.")
    wait_until(lambda: db.ticket(number)["assignee"] == ANNA)


def test_rotating_the_key_keeps_old_reply_addresses_for_the_transition(make_settings, start_gateway, sink, db):
    settings = dict(rules=WORKFLOW_RULES, secret_key="the-first-key-0123456789")
    gw = start_gateway(make_settings(**settings))
    add_team(db.engine)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    gw.stop()
    rotated = dict(settings, secret_key="the-second-key-012345678", previous_secret_keys="the-first-key-0123456789")
    gw = start_gateway(make_settings(**rotated))
    reply_to(gw.port, first[ANNA], ANNA, "#take\nOn it.")
    wait_until(lambda: db.ticket(number)["assignee"] == ANNA)
    gw.stop()
    expired = dict(rotated, previous_secret_keys_until="2020-01-01")
    gw = start_gateway(make_settings(**expired))
    reply_to(gw.port, first[ANNA], ANNA, "#close\nDone.")
    inbox.next()  # the two notifications of the start, then Anna's notice
    assert "Not carried out" in inbox.next()[ANNA].message["Subject"]
    assert db.ticket(number)["status"] == "open"


def test_a_fresh_staff_mail_acts_when_the_mx_proves_it(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db, trusted_authserv_ids="mx.helpdesk.test")
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"[HD#{number}] Drukarka", sender=ANNA, body="#take\nOn my way.",
                              Authentication_Results=PASS))
    answer = inbox.next()[JAN]
    assert "On my way." in body(answer) and db.ticket(number)["assignee"] == ANNA


def test_a_forged_requester_cannot_add_a_participant(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"Re: [HD#{number}] x", sender=JAN, Cc="attacker@evil.example",
                              body="Please copy my colleague."))
    told = inbox.next(2)[ANNA]  # the text is appended, and staff see it is not proven and whom it named
    assert "Not verified" in body(told) and "attacker@evil.example" in body(told)
    assert "attacker@evil.example" not in _participants(db, number)
    reply_to(gw.port, first[ANNA], ANNA, "#take\nThe password is in the safe.")
    assert list(inbox.next()) == [JAN]


def test_a_proven_reply_adds_its_cc_and_each_recipient_gets_their_own_reply_address(
        make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    reply_to(gw.port, first[JAN], f"Jan Kowalski <{JAN}>", "My colleague Eva will help.",
             Cc="Eva <eva@client.example>")
    told = inbox.next(2)[ANNA]
    assert "Not verified" not in body(told)
    assert "eva@client.example" in _participants(db, number)
    reply_to(gw.port, first[ANNA], ANNA, "#take\nThank you both.")
    copies = inbox.next(2)
    assert set(copies) == {JAN, "eva@client.example"}
    jan, eva = copies[JAN].message, copies["eva@client.example"].message
    assert jan["Message-ID"] == eva["Message-ID"] and jan["Cc"] == eva["Cc"]
    assert jan["Reply-To"] != eva["Reply-To"]
    # Eva's reply is shown to staff as hers, not as Jan's
    reply_to(gw.port, copies["eva@client.example"], "Eva <eva@client.example>", "Works now.")
    update = inbox.next()[ANNA]
    assert "Eva <eva@client.example>" in body(update).splitlines()[0]


def test_staff_add_and_remove_participants_with_cc(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db)
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    reply_to(gw.port, first[ANNA], ANNA, "#take\n#cc add eva@client.example\nEva, please have a look.")
    assert set(inbox.next(2)) == {JAN, "eva@client.example"}
    reply_to(gw.port, first[ANNA], ANNA, "#cc remove eva@client.example\nThanks, Eva.")
    assert set(inbox.next()) == {JAN}
    reply_to(gw.port, first[ANNA], ANNA, "#cc add petr@provider.example\nx")
    assert "is staff" in body(inbox.next()[ANNA])
    assert _participants(db, number) == {JAN}


def _staff_mail_with_attachment(to: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = ANNA, to, "Re: " + subject
    msg["Message-ID"] = make_msgid(domain="provider.example")
    msg.set_content(text)
    msg.add_attachment(b"internal price list", maintype="application", subtype="pdf", filename="prices.pdf")
    return msg


def test_nothing_of_an_internal_note_ever_leaves(make_settings, start_gateway, sink, db):
    gw = _start(make_settings, start_gateway, db, notes_address="notes@helpdesk.test")
    inbox = Inbox(sink)
    number, first = open_ticket(gw, inbox, db)
    reply_address, subject = first[ANNA].message["Reply-To"], first[ANNA].message["Subject"]
    for commands in ("#note", "#take\n#note", "#time 10m\n#note", "#priority high\n#note", "#pending\n#note",
                     "#resolve\n#note", "#reopen\n#note", "#close\n#note"):
        send(gw.port, _staff_mail_with_attachment(reply_address, subject, f"{commands}\nInternal: cost 5 EUR."))
    send(gw.port, _staff_mail_with_attachment(reply_address, subject, "To the notes address."),
         rcpt=[reply_address, "notes@helpdesk.test"])
    db.processed(10)
    wait_until(lambda: all(o["status"] == "sent" for o in db.outbox()))
    for caught in list(sink.messages):
        if JAN in caught.rcpt_tos:
            assert not list(caught.message.iter_attachments()), caught.message["Subject"]
            assert "cost 5 EUR" not in body(caught)
    assert db.ticket(number)["status"] == "closed"
