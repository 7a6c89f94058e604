"""`helpdesk alerts list|show|ack` over a real database: filters, pages, who was told by which channel
and whether it arrived, and acknowledging, which stops the ticket's repeated escalation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.store.alert_tables import Alert, AlertDelivery
from helpdesk.store.db import new_session
from helpdesk.store.models import Outbox, Ticket, TicketEvent
from tests.conftest import free_port
from tests.service import run_helpdesk, service_env

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # alert i is created START + i hours
PETR, EVA = "petr@provider.example", "eva@provider.example"


def cli(env: dict, *args: str) -> tuple[int, str, str]:
    result = run_helpdesk(list(args), env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def one_line_error(result: tuple[int, str, str], code: int, *needles: str) -> None:
    got, out, err = result
    assert got == code and out == "", result
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def _outbox(conn, ticket_id: int | None, channel: str, to: str, status: str) -> int:
    return conn.execute(insert(Outbox).returning(Outbox.id), {
        "ticket_id": ticket_id, "kind": "sla_alert" if channel == "email" else "alert_sms", "mail_from": "",
        "rcpt_to": to, "message_id": f"<{channel}-{to}-{status}-{ticket_id}@helpdesk.test>", "raw": b"alert",
        "status": status, "channel": channel, "created_at": START, "queued_at": START,
        "next_attempt_at": START}).scalar_one()


@pytest.fixture
def alerts(engine) -> dict:
    """Five alerts of every level and initiator over two tickets; returns their ids and the tickets."""
    with new_session(engine) as session, session.begin():
        petr = add_user(session, "Petr Novak", [PETR], phone="+420601123456", roles=("technician",))
        eva = add_user(session, "Eva Dvorak", [EVA], roles=("dispatcher",))
        client = add_user(session, "Jan", ["jan@client.example"])
        session.flush()
        conn = session.connection()
        t1, t2 = (conn.execute(insert(Ticket).returning(Ticket.id), {
            "subject": subject, "requester_id": client.id, "created_at": START, "updated_at": START,
            "escalation_level": level}).scalar_one() for subject, level in (("Printer", 0), ("Server down", 1)))
        specs = [("standard", "external-client", "new-ticket", t1, None, None),
                 ("important", "internal-service", "sla-warning", t1, None, None),
                 ("urgent", "internal-service", "sla-breach", t2, 1, None),
                 ("important", "internal-client", "fault", None, None, None),
                 ("standard", "external-service", "planned-work", t2, None, eva.id)]
        ids = [conn.execute(insert(Alert).returning(Alert.id), {
            "level": level, "initiator": initiator, "kind": kind, "ticket_id": ticket, "escalation_level": esc,
            "subject": f"{kind} alert", "text": f"About {kind}.", "created_at": START + timedelta(hours=i),
            "acknowledged_at": START + timedelta(hours=i, minutes=5) if acked_by else None,
            "acknowledged_by": acked_by}).scalar_one()
            for i, (level, initiator, kind, ticket, esc, acked_by) in enumerate(specs)]
        outbox = {"breach-petr": _outbox(conn, t2, "email", PETR, "sent"),
                  "breach-eva": _outbox(conn, t2, "email", EVA, "sent"),
                  "breach-sms": _outbox(conn, t2, "sms", "+420601123456", "queued"),
                  "warning-petr": _outbox(conn, t1, "email", PETR, "sent"),
                  "fault-petr": _outbox(conn, None, "email", PETR, "failed")}
        # Every row names every column: an executemany takes its columns from the first row.
        web = [{"alert_id": a, "user_id": u.id, "channel": "web", "address": u_address, "outbox_id": None,
                "detail": ""} for a in ids for u, u_address in ((petr, PETR), (eva, EVA))]
        conn.execute(insert(AlertDelivery), web + [
            {"alert_id": ids[1], "user_id": petr.id, "channel": "email", "address": PETR,
             "outbox_id": outbox["warning-petr"], "detail": ""},
            {"alert_id": ids[2], "user_id": petr.id, "channel": "email", "address": PETR,
             "outbox_id": outbox["breach-petr"], "detail": ""},
            {"alert_id": ids[2], "user_id": eva.id, "channel": "email", "address": EVA,
             "outbox_id": outbox["breach-eva"], "detail": ""},
            {"alert_id": ids[2], "user_id": petr.id, "channel": "sms", "address": "+420601123456",
             "outbox_id": outbox["breach-sms"], "detail": ""},
            {"alert_id": ids[2], "user_id": eva.id, "channel": "sms", "address": "", "outbox_id": None,
             "detail": "no phone number"},
            {"alert_id": ids[3], "user_id": petr.id, "channel": "email", "address": PETR,
             "outbox_id": outbox["fault-petr"], "detail": ""}])
        return {"ids": ids, "tickets": (t1, t2), "outbox": outbox, "eva": eva.id, "petr": petr.id}


@pytest.fixture
def env(db_url) -> dict:
    return service_env(db_url, free_port(), None)


def listed(env: dict, *args: str) -> tuple[list[dict], str]:
    code, out, err = cli(env, "alerts", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out), err.strip()


def test_list_is_newest_first_and_says_how_each_alert_was_delivered(env, alerts):
    ids = alerts["ids"]
    rows, notice = listed(env)
    assert [r["id"] for r in rows] == ids[::-1] and notice == ""
    by_id = {r["id"]: r for r in rows}
    breach = by_id[ids[2]]
    assert breach["deliveries"] == "email 2/2 sent, sms 1 queued and 1 not sent, web 2"
    assert breach["delivery_counts"] == {"email": {"sent": 2}, "sms": {"queued": 1, "not sent": 1},
                                         "web": {"stored": 2}}
    assert {k: breach[k] for k in ("level", "initiator", "kind", "ticket", "subject", "escalation_level")} == {
        "level": "urgent", "initiator": "internal-service", "kind": "sla-breach", "ticket": alerts["tickets"][1],
        "subject": "sla-breach alert", "escalation_level": 1}
    assert datetime.fromisoformat(breach["created_at"]) == START + timedelta(hours=2)
    assert breach["acknowledged_at"] is None and breach["acknowledged_by"] is None
    assert by_id[ids[3]]["deliveries"] == "email 1 failed, web 2"
    assert by_id[ids[0]]["deliveries"] == "web 2"
    acked = by_id[ids[4]]
    assert datetime.fromisoformat(acked["acknowledged_at"]) == START + timedelta(hours=4, minutes=5)
    assert acked["acknowledged_by"] == EVA

    code, out, err = cli(env, "alerts", "list")  # the table a person reads
    assert code == 0 and err == ""
    assert "email 2/2 sent, sms 1 queued and 1 not sent, web 2" in out and "sla-breach" in out
    assert f"by {EVA}" in out


FILTERS = [
    (("--level", "urgent"), [2]),
    (("--level", "important"), [3, 1]),
    (("--initiator", "internal-service"), [2, 1]),
    (("--initiator", "external-client"), [0]),
    (("--kind", "planned-work"), [4]),
    (("--unacknowledged",), [3, 2, 1, 0]),
    (("--since", "2026-12-01T10:00"), [4, 3, 2]),
    (("--until", "2026-12-01T10:00"), [1, 0]),
    (("--since", "2026-12-01T11:00+02:00", "--until", "2026-12-01T11:00"), [2, 1]),  # 09:00 to 11:00 UTC
    (("--since", "2026-12-02"), []),
    (("--level", "important", "--initiator", "internal-client"), [3]),
]


@pytest.mark.parametrize(("args", "expected"), FILTERS, ids=[" ".join(a) for a, _ in FILTERS])
def test_filters(env, alerts, args, expected):
    rows, _ = listed(env, *args)
    assert [r["id"] for r in rows] == [alerts["ids"][i] for i in expected]


def test_filter_by_ticket(env, alerts):
    t1, t2 = alerts["tickets"]
    ids = alerts["ids"]
    assert [r["id"] for r in listed(env, "--ticket", str(t2))[0]] == [ids[4], ids[2]]
    assert [r["id"] for r in listed(env, "--ticket", str(t1), "--unacknowledged")[0]] == [ids[1], ids[0]]


def test_a_page_at_a_time(env, alerts):
    ids = alerts["ids"][::-1]
    rows, notice = listed(env, "--limit", "2")
    assert [r["id"] for r in rows] == ids[:2] and notice == "showing 2 of 5 alerts; --offset 2 for the next page"
    rows, notice = listed(env, "--limit", "2", "--offset", "4")
    assert [r["id"] for r in rows] == ids[4:] and notice == "showing 5-5 of 5 alerts"
    rows, notice = listed(env, "--offset", "9")
    assert rows == [] and notice == "showing none of 5 alerts: --offset 9 is past the end"
    rows, notice = listed(env, "--level", "important", "--limit", "1")
    assert [r["id"] for r in rows] == [alerts["ids"][3]] and notice.startswith("showing 1 of 2 alerts")


BAD_VALUES = [
    (("--level", "loud"), "--level: unknown level 'loud' (one of standard, important, urgent)"),
    (("--initiator", "robot"), "--initiator: unknown initiator 'robot' (one of external-client, external-service, "
                               "internal-service, internal-client)"),
    (("--limit", "0"), "--limit: expected a whole number from 1 to 100000"),
    (("--since", "last week"), "--since: expected a date like 2026-01-31"),
    (("--ticket", "abc"), "expected a whole number"),
]


@pytest.mark.parametrize(("args", "message"), BAD_VALUES, ids=[a[0] for a, _ in BAD_VALUES])
def test_a_bad_value_is_one_line(env, alerts, args, message):
    one_line_error(cli(env, "alerts", "list", *args), 2, message)


def test_show_tells_every_field_and_each_delivery(env, alerts):
    alert_id, (_, t2) = alerts["ids"][2], alerts["tickets"]
    code, out, err = cli(env, "alerts", "show", str(alert_id), "--json")
    assert code == 0, err
    detail = json.loads(out)
    assert {k: detail[k] for k in ("id", "level", "initiator", "kind", "ticket", "ticket_subject", "subject", "text",
                                   "escalation_level", "acknowledged_at", "acknowledged_by")} == {
        "id": alert_id, "level": "urgent", "initiator": "internal-service", "kind": "sla-breach", "ticket": t2,
        "ticket_subject": "Server down", "subject": "sla-breach alert", "text": "About sla-breach.",
        "escalation_level": 1, "acknowledged_at": None, "acknowledged_by": None}
    who = [(d["name"], d["address"], d["channel"], d["outbox_id"], d["delivery"], d["detail"])
           for d in detail["deliveries"]]
    outbox = alerts["outbox"]
    assert sorted(who, key=str) == sorted([
        ("Petr Novak", PETR, "web", None, "stored", ""), ("Eva Dvorak", EVA, "web", None, "stored", ""),
        ("Petr Novak", PETR, "email", outbox["breach-petr"], "sent", ""),
        ("Eva Dvorak", EVA, "email", outbox["breach-eva"], "sent", ""),
        ("Petr Novak", "+420601123456", "sms", outbox["breach-sms"], "queued", ""),
        ("Eva Dvorak", "", "sms", None, "not sent", "no phone number")], key=str)

    code, out, err = cli(env, "alerts", "show", str(alert_id))
    assert code == 0 and err == ""
    assert out.startswith(f"Alert {alert_id}: sla-breach alert\n")
    assert f"ticket {t2} (Server down), escalation level 1" in out and "acknowledged: no" in out
    assert f"Petr Novak <{PETR}>" in out and "no phone number" in out and str(outbox["breach-sms"]) in out

    one_line_error(cli(env, "alerts", "show", "999999"), 1, "no alert 999999")


def _alert_row(engine, alert_id: int):
    with engine.connect() as conn:
        return conn.execute(select(Alert.acknowledged_at, Alert.acknowledged_by).where(Alert.id == alert_id)).one()


def _escalation_acked(engine, number: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(Ticket.escalation_acked).where(Ticket.id == number)).scalar_one())


def test_ack_stops_the_tickets_escalation(env, alerts, engine):
    alert_id, (t1, t2) = alerts["ids"][2], alerts["tickets"]
    assert not _escalation_acked(engine, t2)
    code, out, err = cli(env, "alerts", "ack", str(alert_id), "--by", "Eva@Provider.example")
    assert (code, out, err) == (0, f"alert {alert_id} acknowledged; ticket {t2} stops escalating\n", "")
    acked_at, acked_by = _alert_row(engine, alert_id)
    assert acked_at is not None and acked_by == alerts["eva"]
    assert _escalation_acked(engine, t2) and not _escalation_acked(engine, t1)
    with engine.connect() as conn:
        (event,) = conn.execute(select(TicketEvent.kind, TicketEvent.detail).where(TicketEvent.ticket_id == t2)).all()
    assert event == ("acknowledged", f"alert {alert_id} acknowledged from the CLI by {EVA}; escalation stops repeating")
    rows, _ = listed(env, "--unacknowledged")
    assert alert_id not in [r["id"] for r in rows]

    one_line_error(cli(env, "alerts", "ack", str(alert_id)), 1, f"alert {alert_id} was already acknowledged at")


def test_ack_without_a_ticket_or_a_name(env, alerts, engine):
    alert_id = alerts["ids"][3]
    assert cli(env, "alerts", "ack", str(alert_id)) == (0, f"alert {alert_id} acknowledged\n", "")
    acked_at, acked_by = _alert_row(engine, alert_id)
    assert acked_at is not None and acked_by is None


def test_ack_refusals_are_one_line_and_change_nothing(env, alerts, engine):
    alert_id = alerts["ids"][1]
    one_line_error(cli(env, "alerts", "ack", "999999"), 1, "no alert 999999")
    one_line_error(cli(env, "alerts", "ack", str(alert_id), "--by", "nobody@nowhere.example"), 1,
                   "--by: unknown user 'nobody@nowhere.example'")
    assert _alert_row(engine, alert_id) == (None, None)
    assert not _escalation_acked(engine, alerts["tickets"][0])
