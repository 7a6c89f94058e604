"""The technicians' mailbox end to end, over the real listener and the real relay sink: a ticket
from the client's first mail through broadcast, #take, answers, pending/open, resolve, the
client's "tak", closing and reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.db import new_session
from helpdesk.store.models import SatisfactionRating, TimeEntry
from tests.conftest import REPO
from tests.mail import client_mail, send, wait_until
from tests.workflow import ANNA, JAN, PETR, Inbox, add_team, body, open_ticket, reply_to

WORKFLOW_RULES = REPO / "tests" / "rules" / "workflow.yaml"
# What a trusted MX writes for mail it verified: makes a fresh staff mail (not a reply) act.
PASS = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"


@pytest.fixture
def team_gateway(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, trusted_authserv_ids="mx.helpdesk.test"))
    add_team(db.engine)
    return gw


def test_a_ticket_from_first_mail_to_closed_and_reopened(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    tag = f"[HD#{number}]"
    assert "Otrzymaliśmy" in mail[JAN].message["Subject"]
    note_to_anna = mail[ANNA]
    assert tag in note_to_anna.message["Subject"] and "Drukarka na 2. piętrze" in body(note_to_anna)
    assert "#take" in body(note_to_anna) and note_to_anna.message["Reply-To"].startswith("support+r-1-")

    # Anna takes it and asks something: the client gets her answer, threaded, without the command
    reply_to(gw.port, note_to_anna, ANNA, "#take\n\nDzień dobry, jaki to model drukarki?")
    answer = inbox.next()[JAN]
    detail = db.ticket(number)
    assert detail["assignee"] == ANNA and detail["status"] == "pending"
    assert "jaki to model drukarki?" in body(answer) and "#take" not in body(answer)
    assert "wrote:" not in body(answer) and "Drukarka na 2. piętrze" not in body(answer)
    assert "Anna Nowak" in answer.message["From"] and "support@helpdesk.test" in answer.message["From"]
    first_client_id = detail["articles"][0]["message_id"]
    assert answer.message["In-Reply-To"] == f"<{first_client_id}>"
    assert answer.message["Auto-Submitted"] is None  # a person wrote it

    # Petr is too late: the first #take wins and he is told who has it; nothing changes
    reply_to(gw.port, mail[PETR], PETR, "#take")
    refusal = inbox.next()[PETR]
    assert "Anna Nowak" in body(refusal) and db.ticket(number)["assignee"] == ANNA

    # the client answers the technician's mail: pending -> open, Anna hears of it
    reply_to(gw.port, answer, JAN, "To HP LaserJet 4000.")
    news = inbox.next()[ANNA]
    assert "HP LaserJet 4000" in body(news) and db.ticket(number)["status"] == "open"

    # an internal note reaches nobody outside
    reply_to(gw.port, news, ANNA, "#note toner is empty, ordering a new one")
    wait_until(lambda: db.ticket(number)["articles"][-1]["text"].startswith("#note"))
    inbox.nothing_more(db)

    # resolve with an answer and time spent: the client is asked to confirm, in Polish
    reply_to(gw.port, news, ANNA, "#resolve\n#time 1h30m\nWymieniłam toner, drukarka działa.")
    confirm = inbox.next()[JAN]
    assert db.ticket(number)["status"] == "resolved"
    assert "Wymieniłam toner" in body(confirm) and "„tak”" in body(confirm)

    # the client says "tak" with a rating: closed, rating kept against Anna, Anna is told
    reply_to(gw.port, confirm, JAN, "Tak, dziękuję! 5")
    closed_news = inbox.next()[ANNA]
    assert db.ticket(number)["status"] == "closed" and "5" in body(closed_news)
    with new_session(db.engine) as session:
        rating = session.execute(select(SatisfactionRating)).scalar_one()
        minutes = session.execute(select(TimeEntry.minutes)).scalar_one()
    assert rating.score == 5 and rating.technician_id is not None and minutes == 90

    # a second thank-you is kept, but does not reopen the ticket or mail anyone
    reply_to(gw.port, confirm, JAN, "Dziękuję jeszcze raz!")
    wait_until(lambda: any("after closing" in e["detail"] for e in db.ticket(number)["events"]))
    assert db.ticket(number)["status"] == "closed"
    inbox.nothing_more(wait=1.0)

    # writing again reopens it: the client is told, Anna hears of it, and it is open again
    reply_to(gw.port, confirm, JAN, "Znowu nie drukuje.")
    again = inbox.next(2)
    assert "ponownie otwarte" in again[JAN].message["Subject"] and "Znowu nie drukuje" in body(again[ANNA])
    assert db.ticket(number)["status"] == "open"
    kinds = [a["visibility"] for a in db.ticket(number)["articles"]]
    assert kinds.count("internal") == 2  # Petr's refused #take and Anna's note


def test_an_answer_other_than_yes_reopens_a_resolved_ticket(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "#take\n#resolve\nRestarted the spooler.")
    confirm = inbox.next()[JAN]
    reply_to(gw.port, confirm, JAN, "Tak, ale nadal drukuje puste strony.")
    news = inbox.next(2)
    assert "nadal drukuje puste strony" in body(news[ANNA]) and db.ticket(number)["status"] == "open"


def test_unconfirmed_resolved_ticket_closes_itself_after_the_wait(make_settings, start_gateway, sink, db):
    offset = {"days": 0}
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, auto_close_check_minutes=0.01, confirm_close_days=7),
                       clock=lambda: utcnow() + timedelta(days=offset["days"]))
    add_team(db.engine)
    inbox = Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "#take\n#resolve")
    confirm = inbox.next()[JAN]
    assert "7 dni" in body(confirm)
    inbox.nothing_more(wait=1.5)  # days have not passed yet
    assert db.ticket(number)["status"] == "resolved"
    offset["days"] = 8
    closed = inbox.next()[JAN]
    assert db.ticket(number)["status"] == "closed" and f"[HD#{number}]" in closed.message["Subject"]
    assert "automatically" in [e for e in db.ticket(number)["events"] if e["kind"] == "closed"][0]["detail"]


def test_mistyped_command_changes_nothing_and_explains(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "#tkae\n#priority urgentissimo\nThe fix is on its way.")
    explained = inbox.next()[ANNA]
    text = body(explained)
    assert "#tkae: unknown command" in text and "#priority: unknown level 'urgentissimo'" in text
    detail = db.ticket(number)
    assert detail["status"] == "new" and detail["assignee"] is None and detail["priority"] == "normal"
    inbox.nothing_more(db)  # and the client got nothing


def test_dispatcher_assigns_and_the_technician_is_told(team_gateway, sink, db):
    from tests.workflow import DANA

    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    assert DANA not in mail  # broadcast reaches technicians, not the dispatcher
    first_client = client_mail(subject=f"[HD#{number}] dispatch", sender=DANA, body=f"#assign {PETR}\n#priority high",
                               Authentication_Results=PASS)
    send(gw.port, first_client)
    told = inbox.next()[PETR]
    assert "Dana Dispatcher" in body(told)
    detail = db.ticket(number)
    assert detail["assignee"] == PETR and detail["priority"] == "high" and detail["status"] == "open"
    inbox.nothing_more(db)


def test_commands_from_a_client_are_not_carried_out(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"Re: [HD#{number}] x", sender=JAN, body="#close\n#priority highest\n"))
    inbox.next(2)  # staff hear of the follow-up like of any other
    detail = db.ticket(number)
    assert detail["status"] == "new" and detail["priority"] == "normal"
    assert "commands-ignored" in [e["kind"] for e in detail["events"]]


def test_commands_from_a_spoofed_staff_address_are_refused(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, trusted_authserv_ids="mx.helpdesk.test"))
    add_team(db.engine)
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    forged = client_mail(subject=f"Re: [HD#{number}] x", sender=ANNA, body="#close\nClosing this.",
                         Authentication_Results="mx.helpdesk.test; spf=fail smtp.mailfrom=provider.example; "
                                                "dkim=none; dmarc=fail header.from=provider.example")
    send(gw.port, forged)
    db.processed(2)
    detail = db.ticket(number)  # untouched, the text kept as an unverified internal note
    assert detail["status"] == "new" and detail["articles"][-1]["visibility"] == "internal"
    assert any("failed at a trusted host" in e["detail"] for e in detail["events"])
    # only the real Anna hears of it; nothing goes to the client
    assert list(inbox.next()) == [ANNA]
    inbox.nothing_more(db)


def test_notes_address_keeps_staff_mail_internal(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES, notes_address="notes@helpdesk.test",
                                     trusted_authserv_ids="mx.helpdesk.test"))
    add_team(db.engine)
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"[HD#{number}] internal", sender=ANNA, to="notes@helpdesk.test",
                              body="Client's printer is out of warranty.", Authentication_Results=PASS),
         rcpt=["notes@helpdesk.test"])
    wait_until(lambda: len(db.ticket(number)["articles"]) == 2)
    assert db.ticket(number)["articles"][-1]["visibility"] == "internal"
    inbox.nothing_more(db)


def test_out_of_office_reply_from_a_technician_never_reaches_the_client(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "I am out of office until Monday.", Auto_Submitted="auto-replied")
    wait_until(lambda: len(db.ticket(number)["articles"]) == 2)
    assert db.ticket(number)["articles"][-1]["visibility"] == "internal"
    inbox.nothing_more(db)


def test_an_autoresponder_answering_the_confirmation_request_neither_closes_nor_reopens(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "#take\n#resolve\nRestarted the spooler.")
    confirm = inbox.next()[JAN]
    reply_to(gw.port, confirm, JAN, "Jestem na urlopie do poniedziałku.", Auto_Submitted="auto-replied")
    wait_until(lambda: len(db.ticket(number)["articles"]) == 3)
    assert db.ticket(number)["status"] == "resolved"
    inbox.nothing_more(db)
