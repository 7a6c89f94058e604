"""Queues are one concept, declared in rules.yaml, and no ticket goes unheard of: over the real listener,
the real relay sink and the real `helpdesk` command, on both databases."""

from __future__ import annotations

import json
import logging

import pytest

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.accounts.queues import find_queue, set_membership
from helpdesk.store.account_tables import Queue
from helpdesk.store.db import new_session
from tests.conftest import REPO, free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env
from tests.workflow import DANA, JAN, Inbox, add_team, body, open_ticket

ADA, TOM = "ada@provider.example", "tom@provider.example"
PASS = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"


def add_admin(engine) -> None:
    with new_session(engine) as session, session.begin():
        add_user(session, "Ada Admin", [ADA], roles=("admin",))


def helpdesk(env, *args) -> tuple[int, str, str]:
    result = run_helpdesk(list(args), env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def queues_listed(env) -> dict[str, dict]:
    code, out, err = helpdesk(env, "queues", "list", "--json")
    assert code == 0, err
    return {row["name"]: row for row in json.loads(out)}


def test_a_ticket_in_a_queue_nobody_watches_reaches_the_admins_and_the_log_warns(
        make_settings, start_gateway, sink, db, db_url, caplog):
    caplog.set_level(logging.WARNING, logger="helpdesk.staff_notify")
    gw = start_gateway(make_settings())  # minimal.yaml: every ticket to `general`, for its dispatchers
    add_admin(db.engine)
    with new_session(db.engine) as session, session.begin():  # a member, but away: nobody watches
        add_user(session, "Tom Tech", [TOM], roles=("technician",))
        set_membership(session, find_queue(session, "general"), TOM, member=True, available=False)
    send(gw.port, client_mail(sender=f"Jan <{JAN}>"))
    mail = Inbox(sink).next(2)
    assert set(mail) == {JAN, ADA}
    assert "The printer on floor 2 is jammed." in body(mail[ADA])
    (ticket,) = db.tickets()
    events = db.ticket(ticket["number"])["events"]
    assert any(e["kind"] == "unwatched-queue" and ADA in e["detail"] for e in events)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("queue general" in w and "nobody watches" in w and ADA in w for w in warnings), warnings

    listed = queues_listed(service_env(db_url, free_port(), None))
    assert listed["general"]["members"] == 1 and listed["general"]["watchers"] == 0
    assert "nobody watches" in listed["general"]["note"]


def test_queues_add_list_rules_check_and_hash_queue_agree_on_what_a_queue_is(
        make_settings, start_gateway, sink, db, db_url, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((REPO / "tests" / "rules" / "workflow.yaml").read_text())
    gw = start_gateway(make_settings(rules=rules, trusted_authserv_ids="mx.helpdesk.test"))
    add_team(db.engine)
    add_admin(db.engine)
    env = service_env(db_url, free_port(), None, HELPDESK_RULES=str(rules))

    # the CLI creates no queue rules.yaml would reject: it says what to declare where, and writes nothing
    code, _, err = helpdesk(env, "queues", "add", "printers", "--title", "Printers")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"not declared in {rules}" in err and "'printers: Printers' under 'queues:'" in err
    assert "printers" not in queues_listed(env)

    # declared in rules.yaml: rules check, the CLI and the running service all know it
    rules.write_text(rules.read_text().replace("queues:\n", "queues:\n  printers: Printers\n"))
    code, out, _ = helpdesk(env, "rules", "check")
    assert code == 0 and "3 queues: printers, support, network" in out
    assert helpdesk(env, "queues", "add", "printers")[0] == 0
    wait_until(lambda: "printers" in gw.gateway.rules.queues)
    with new_session(db.engine) as session, session.begin():  # left over from before (or by hand)
        session.add(Queue(name="ghost", title="Ghost"))
    listed = queues_listed(env)
    assert listed["printers"]["declared"] and listed["printers"]["watchers"] == 0
    assert listed["ghost"]["declared"] is False and "not in rules.yaml" in listed["ghost"]["note"]

    # #queue takes exactly those queues; nobody watches printers, so the admin hears of the move
    inbox = Inbox(sink)
    number, _ = open_ticket(gw, inbox, db)
    send(gw.port, client_mail(subject=f"[HD#{number}] x", sender=DANA, body="#queue ghost",
                              Authentication_Results=PASS))
    refusal = body(inbox.next()[DANA])
    assert "unknown queue 'ghost'" in refusal and "rules.yaml" in refusal and db.ticket(number)["queue"] == "support"
    send(gw.port, client_mail(subject=f"[HD#{number}] x", sender=DANA, body="#queue printers",
                              Authentication_Results=PASS))
    told = inbox.next()[ADA]
    assert f"[HD#{number}]" in told.message["Subject"] and db.ticket(number)["queue"] == "printers"
    inbox.nothing_more(db)


@pytest.mark.parametrize("rules_text, problem", [
    ("queues: {Printers: P}\ndefault: {queue: Printers}\n", ":1:10: queue name 'Printers' must be kebab-case"),
    ("queues: {" + "q" * 65 + ": P}\ndefault: {queue: q}\n", "queue name is 65 characters long; at most 64"),
])
def test_rules_check_refuses_a_queue_the_database_could_not_hold(tmp_path, rules_text, problem):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_text)
    env = service_env(f"sqlite:///{tmp_path}/unused.db", free_port(), None)  # no database is opened
    code, _, err = helpdesk(env, "rules", "check", str(rules))
    assert code != 0 and problem in err and len(err.strip().splitlines()) == 1


def test_who_watches_a_queue_and_which_admins_hear_are_read_as_the_core_statements_read_them(engine):
    """queue_staff and active_admins run prebuilt statements on the driver: the same people, in the
    same order, with the primary address, as SQLAlchemy Core's statements; nobody away or inactive."""
    from helpdesk.gateway.accounts.directory import edit_user
    from helpdesk.gateway.accounts.queues import ensure_queues
    from helpdesk.store.queue_watchers import ADMINS, active_admins
    from helpdesk.store.workflow import QUEUE_STAFF, queue_staff

    with new_session(engine) as session, session.begin():
        ensure_queues(session, {"general": "General", "network": "Network"})
        general, network = find_queue(session, "general"), find_queue(session, "network")
        people = {
            "tom": add_user(session, "Tom Tech", ["zz-tom@provider.example", TOM], roles=("technician",)),
            "dana": add_user(session, "Dana Dispatch", [DANA], roles=("dispatcher",), locale="pl"),
            "eve": add_user(session, "Eve Away", ["eve@provider.example"], roles=("technician",)),
            "ivan": add_user(session, "Ivan Gone", ["ivan@provider.example"], roles=("technician", "admin")),
            "ada": add_user(session, "Ada Admin", [ADA], roles=("admin", "dispatcher")),
        }
        for name in ("tom", "dana", "eve", "ivan", "ada"):
            set_membership(session, general, str(people[name].id), member=True)
        set_membership(session, network, str(people["tom"].id), member=True)
        set_membership(session, general, str(people["eve"].id), available=False)
        edit_user(session, people["ivan"], active=False)
        edit_user(session, people["tom"], add_emails=["aa-tom@provider.example"])  # not primary
    with engine.connect() as conn:
        staff = queue_staff(conn, "general")
        by_core = [(row[0], row[1], row[4]) for row in conn.execute(QUEUE_STAFF, {"queue": "general"})]
        assert [(p.user_id, p.email, role) for role in ("dispatcher", "technician") for p in staff[role]] == sorted(
            by_core, key=lambda row: (row[2], row[0]))
        assert [p.email for p in staff["dispatcher"]] == [DANA, ADA]
        assert [(p.email, p.name) for p in staff["technician"]] == [("zz-tom@provider.example", "Tom Tech")]
        assert staff["dispatcher"][0].locale == "pl"
        assert [p.email for p in queue_staff(conn, "network")["technician"]] == ["zz-tom@provider.example"]
        assert queue_staff(conn, "nobody-here") == {"dispatcher": [], "technician": []}
        admins = active_admins(conn)
        assert [(p.user_id, p.email) for p in admins] == [tuple(row[:2]) for row in conn.execute(ADMINS)]
        assert [p.email for p in admins] == [ADA] and admins[0].roles == frozenset({"admin"})
