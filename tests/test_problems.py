"""Incidents and problems end to end: a technician links incidents to a problem by mail (`#problem N`)
or with the CLI; resolving the problem resolves its open incidents and asks each requester to
confirm in their language, through the real listener, the real relay sink and the real CLI."""

from __future__ import annotations

import json

import pytest

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.store.db import new_session
from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env
from tests.test_faults import OBJECT_RULES, PASS
from tests.workflow import ANNA, DANA, JAN, PETR, Inbox, add_team, body, reply_to

KAREL = "karel@client.example"


@pytest.fixture
def team(make_settings, start_gateway, db, sink):
    gw = start_gateway(make_settings(rules=OBJECT_RULES, trusted_authserv_ids="mx.helpdesk.test"))
    add_team(db.engine)
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Karel Svoboda", [KAREL], locale="cs", organization="Klient Sp. z o.o.")
    return gw, Inbox(sink)


def _open(gw, inbox: Inbox, db, sender: str, subject: str) -> tuple[int, dict]:
    before = {t["number"] for t in db.tickets()}
    send(gw.port, client_mail(subject=subject, body=f"{subject}.\n", sender=sender))
    mail = inbox.next(3)
    (number,) = {t["number"] for t in db.tickets()} - before
    return number, mail


def cli(db_url, *args: str):
    env = service_env(db_url, free_port(), None, HELPDESK_RULES=str(OBJECT_RULES))
    result = run_helpdesk(list(args), env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_resolving_a_problem_resolves_its_incidents_and_asks_each_requester(team, db, db_url):
    gw, inbox = team
    first, first_mail = _open(gw, inbox, db, f"Jan Kowalski <{JAN}>", "Poczta nie działa")
    second, _ = _open(gw, inbox, db, f"Karel Svoboda <{KAREL}>", "Nejde e-mail")
    cause, cause_mail = _open(gw, inbox, db, f"Jan Kowalski <{JAN}>", "Serwer poczty")

    # Anna links the first incident by mail; the second is linked with the CLI
    reply_to(gw.port, first_mail[ANNA], ANNA, f"#problem {cause}")
    wait_until(lambda: db.ticket(first)["events"][-1]["kind"] in ("command", "note"))
    code, out, err = cli(db_url, "tickets", "problem", str(cause), "--incident", str(second))
    assert code == 0, err
    code, out, _ = cli(db_url, "tickets", "show", str(cause), "--json")
    shown = json.loads(out)
    assert shown["kind"] == "problem" and [i["number"] for i in shown["incidents"]] == [first, second]
    code, out, _ = cli(db_url, "tickets", "show", str(first))
    assert f"incident of problem {cause}" in out

    # resolving the problem by mail: every requester is asked to confirm, in their language
    reply_to(gw.port, cause_mail[ANNA], ANNA, "#resolve")
    got = inbox.next(3)
    assert set(got) == {JAN, KAREL}
    statuses = {n: db.ticket(n)["status"] for n in (first, second, cause)}
    assert statuses == {first: "resolved", second: "resolved", cause: "resolved"}
    jan_subjects = sorted(m.message["Subject"] for m in inbox.sink.messages[-3:] if m.rcpt_tos == [JAN])
    assert any(f"[HD#{first}]" in s and "Rozwiązane" in s for s in jan_subjects)
    assert any(f"[HD#{cause}]" in s for s in jan_subjects)
    assert f"[HD#{second}]" in got[KAREL].message["Subject"] and "Vyřešeno" in got[KAREL].message["Subject"]
    assert '"ano"' in body(got[KAREL]) or "„ano“" in body(got[KAREL])
    inbox.nothing_more(db)


def test_the_cli_resolve_fans_out_and_bad_links_are_one_line(team, db, db_url):
    gw, inbox = team
    incident, _ = _open(gw, inbox, db, f"Karel Svoboda <{KAREL}>", "Tiskárna")
    cause, _ = _open(gw, inbox, db, f"Jan Kowalski <{JAN}>", "Sieć")
    assert cli(db_url, "tickets", "problem", str(cause), "--incident", str(incident))[0] == 0
    for args, message in ((("tickets", "problem", str(cause), "--incident", str(cause)), "its own problem"),
                          (("tickets", "problem", "999", "--incident", str(incident)), "there is no ticket 999"),
                          (("tickets", "problem", str(incident), "--incident", str(cause)),
                           f"ticket {incident} is itself an incident of problem {cause}")):
        code, out, err = cli(db_url, *args)
        assert code != 0 and message in err and len(err.strip().splitlines()) == 1, err
    code, out, err = cli(db_url, "tickets", "resolve", str(cause))
    assert code == 0 and "2 confirmation request(s)" in out, err
    got = inbox.next(2)
    assert set(got) == {JAN, KAREL} and "Vyřešeno" in got[KAREL].message["Subject"]
    assert db.ticket(incident)["status"] == "resolved"
    code, _, err = cli(db_url, "tickets", "resolve", str(cause))
    assert code != 0 and "already resolved" in err


def test_only_a_technician_links_a_problem(team, db):
    gw, inbox = team
    incident, mail = _open(gw, inbox, db, f"Jan Kowalski <{JAN}>", "Drukarka")
    cause, _ = _open(gw, inbox, db, f"Jan Kowalski <{JAN}>", "Sieć")
    # the dispatcher is staff, but linking a cause is a technician's judgement
    send(gw.port, client_mail(subject=f"[HD#{incident}] Drukarka", body=f"#problem {cause}\n",
                              sender=f"Dana <{DANA}>", Authentication_Results=PASS))
    refusal = inbox.next()[DANA]
    assert "only technicians" in body(refusal)
    # a technician's #problem naming a missing ticket changes nothing and says why
    reply_to(gw.port, mail[PETR], PETR, "#problem 424242")
    assert "there is no ticket 424242" in body(inbox.next()[PETR])
    assert db.ticket(incident)["status"] == "new"
