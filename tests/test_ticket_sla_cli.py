"""The SLA clock in the ticket commands over a real database: `tickets show` brings a running or a
waiting clock up to now, `tickets list --due-within/--breached` pick exactly the right tickets, and
`tickets close` stops the clock keeping the resolution time used.

The CLI runs in its own process on the real clock, so the tickets' clocks are set relative to now
and the 24/7 calendar (rules under tmp_path) makes working time wall time; a figure may be off by
the seconds the command takes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.sla import clock
from helpdesk.gateway.sla.durations import say_moment
from helpdesk.store import queries
from helpdesk.store.db import new_session
from helpdesk.store.models import Ticket
from tests.conftest import free_port
from tests.service import run_helpdesk, service_env

RULES = """\
queues:
  general: General questions
default:
  queue: general
  priority: normal
sla:
  default: standard
  calendars:
    always: 24/7
  profiles:
    standard:
      calendar: always
      targets:
        default: {first_response: 4h, resolution: 24h}
"""
FIRST, RESOLUTION = 4 * 3600, 24 * 3600
SLACK = 60  # seconds the commands may take after the test's `now`


def cli(env: dict, *args: str) -> tuple[int, str, str]:
    result = run_helpdesk(list(args), env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.fixture
def env(db_url, tmp_path) -> dict:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return service_env(db_url, free_port(), None, HELPDESK_RULES=str(rules))


@pytest.fixture
def now(engine) -> datetime:
    """The test's now, taken once its database exists (making one takes a while on PostgreSQL)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def add_ticket(engine, now):
    """Insert a ticket with the SLA columns given (a running standard clock unless said otherwise)."""
    with new_session(engine) as session, session.begin():
        requester = add_user(session, "Jan", ["jan@client.example"]).id

    def add(subject: str, **sla) -> int:
        values = {"subject": subject, "status": "open", "requester_id": requester, "created_at": now,
                  "updated_at": now, "sla_profile": "standard", "sla_state": "running", "sla_since": now,
                  "first_response_target_s": FIRST, "resolution_target_s": RESOLUTION, **sla}
        with engine.begin() as conn:
            return conn.execute(insert(Ticket).returning(Ticket.id), values).scalar_one()
    return add


def _shown(env: dict, number: int) -> dict:
    code, out, err = cli(env, "tickets", "show", str(number), "--json")
    assert code == 0, err
    return json.loads(out)["sla"]


def test_show_brings_a_running_clock_up_to_now(env, add_ticket, now):
    since = now - timedelta(minutes=20) + timedelta(seconds=15)  # 1 h used before: 1 h 19 min 45 s now
    first_due, resolution_due = since + timedelta(seconds=FIRST - 3600), since + timedelta(seconds=RESOLUTION - 3600)
    number = add_ticket("Printer jammed", sla_since=since, sla_used_s=3600,
                        first_response_due_at=first_due, resolution_due_at=resolution_due)
    sla = _shown(env, number)
    assert 3600 + 1185 <= sla["used"] < 3600 + 1185 + SLACK and sla["paused"] == 0
    assert {k: sla[k] for k in ("profile", "state", "targets", "breached", "escalation_level", "acknowledged",
                                "first_response_at")} == {
        "profile": "standard", "state": "running", "targets": {"first_response": FIRST, "resolution": RESOLUTION},
        "breached": [], "escalation_level": 0, "acknowledged": False, "first_response_at": None}
    assert {k: datetime.fromisoformat(v) for k, v in sla["due"].items()} == {
        "first_response": first_due, "resolution": resolution_due}
    assert datetime.fromisoformat(sla["since"]) == since and datetime.fromisoformat(sla["as_of"]) >= now

    code, out, _ = cli(env, "tickets", "show", str(number))
    assert code == 0
    assert (f"  SLA standard (running): first response due {say_moment(first_due)} (target 4 h, used 1 h 20 min); "
            f"resolution due {say_moment(resolution_due)} (target 24 h, used 1 h 20 min); paused 0 min; "
            "escalation level 0\n") in out


def test_show_brings_a_waiting_clock_up_to_now(env, add_ticket, now):
    number = add_ticket("Waiting for the client", status="pending", sla_state="waiting",
                        sla_since=now - timedelta(minutes=30), sla_used_s=5400, sla_paused_s=600)
    sla = _shown(env, number)
    assert sla["used"] == 5400 and 600 + 1800 <= sla["paused"] < 600 + 1800 + SLACK
    assert sla["due"] == {"first_response": None, "resolution": None}  # nothing falls due while paused

    out = cli(env, "tickets", "show", str(number))[1]
    assert ("  SLA standard (waiting): first response paused (target 4 h, used 1 h 30 min); resolution paused "
            "(target 24 h, used 1 h 30 min); paused 40 min; escalation level 0\n") in out


def test_show_a_breach_an_answer_and_an_acknowledged_escalation(env, add_ticket, now):
    answered = now - timedelta(hours=2)
    number = add_ticket("Server down", sla_since=now, sla_used_s=6 * 3600, first_response_at=answered,
                        first_response_used_s=5 * 3600, sla_breached=1, sla_warned=3, escalation_level=2,
                        escalated_at=now - timedelta(hours=3), escalation_acked=True,
                        resolution_due_at=now + timedelta(hours=18))
    sla = _shown(env, number)
    assert sla["breached"] == ["first_response"] and sla["warned"] == ["first_response", "resolution"]
    assert sla["first_response_used"] == 5 * 3600 and datetime.fromisoformat(sla["first_response_at"]) == answered
    assert sla["escalation_level"] == 2 and sla["acknowledged"] is True

    out = cli(env, "tickets", "show", str(number))[1]
    assert "first response done late (target 4 h, took 5 h); resolution due " in out
    assert "escalation level 2 (acknowledged: not repeated)\n" in out


def test_show_a_ticket_from_before_sla_clocks(env, add_ticket):
    number = add_ticket("Old ticket", sla_profile=None, sla_state="none", sla_since=None,
                        first_response_target_s=None, resolution_target_s=None)
    assert _shown(env, number)["state"] == "none"
    assert "  SLA: no clock yet (the ticket is from before SLA clocks; it starts at its next change)\n" in cli(
        env, "tickets", "show", str(number))[1]


@pytest.fixture
def sla_tickets(add_ticket, now) -> dict[str, int]:
    soon = now + timedelta(hours=1)
    return {
        "first-due-in-1h": add_ticket("A", first_response_due_at=soon, resolution_due_at=now + timedelta(hours=20)),
        "resolution-due-in-3h": add_ticket("B", first_response_at=now, resolution_due_at=now + timedelta(hours=3)),
        "overdue-not-yet-seen": add_ticket("C", first_response_due_at=now - timedelta(minutes=10),
                                           resolution_due_at=now + timedelta(hours=20)),
        # The scheduler recorded the breach, so the keeper stored no due time for it any more.
        "resolution-breached": add_ticket("D", first_response_at=now, sla_breached=2),
        "waiting-breached": add_ticket("E", status="pending", sla_state="waiting", sla_breached=1),
        "closed-breached": add_ticket("F", status="closed", sla_state="stopped", sla_breached=2),
        "answered-late": add_ticket("G", first_response_at=now, sla_breached=1,
                                    resolution_due_at=now + timedelta(hours=10)),
        "waiting-with-stale-due": add_ticket("H", status="pending", sla_state="waiting", first_response_due_at=soon),
        "no-clock": add_ticket("I", sla_state="none", sla_profile=None, sla_since=None),
    }


def test_the_lists_read_the_clock_as_the_keeper_writes_it():
    # store/ may not import gateway/sla/clock.py, so it names the same bits and state itself.
    assert (queries.FIRST_RESPONSE_BIT, queries.RESOLUTION_BIT, queries.RUNNING_CLOCK) == (
        clock.FIRST_RESPONSE, clock.RESOLUTION, clock.RUNNING)


def _listed(env: dict, *args: str) -> list[dict]:
    code, out, err = cli(env, "tickets", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out)


SLA_FILTERS = [
    (("--due-within", "2h"), ["first-due-in-1h", "overdue-not-yet-seen", "resolution-breached"]),
    (("--due-within", "30m"), ["overdue-not-yet-seen", "resolution-breached"]),
    (("--due-within", "0m"), ["overdue-not-yet-seen", "resolution-breached"]),
    (("--due-within", "3h30m"), ["first-due-in-1h", "resolution-due-in-3h", "overdue-not-yet-seen",
                                 "resolution-breached"]),
    (("--due-within", "1d"), ["first-due-in-1h", "resolution-due-in-3h", "overdue-not-yet-seen",
                              "resolution-breached", "answered-late"]),
    (("--breached",), ["resolution-breached", "waiting-breached", "answered-late"]),
    (("--breached", "--due-within", "2h"), ["resolution-breached"]),
    (("--breached", "--status", "pending"), ["waiting-breached"]),
]


@pytest.mark.parametrize(("args", "expected"), SLA_FILTERS, ids=[" ".join(a) for a, _ in SLA_FILTERS])
def test_due_within_and_breached_pick_exactly_the_right_tickets(env, sla_tickets, args, expected):
    assert [r["number"] for r in _listed(env, *args)] == sorted((sla_tickets[k] for k in expected), reverse=True)


def test_an_sla_list_says_when_each_ticket_is_due(env, sla_tickets, now):
    rows = {r["number"]: r for r in _listed(env, "--due-within", "2h")}
    first_due = rows[sla_tickets["first-due-in-1h"]]
    assert datetime.fromisoformat(first_due["due"]) == now + timedelta(hours=1)  # the earlier of the two
    assert first_due["breached"] == []
    assert rows[sla_tickets["resolution-breached"]]["due"] is None
    assert rows[sla_tickets["resolution-breached"]]["breached"] == ["resolution"]
    assert "due" not in _listed(env)[0]  # a plain list keeps its columns

    code, out, _ = cli(env, "tickets", "list", "--breached")
    assert code == 0 and "due" in out and "breached" in out and "resolution" in out
    assert "due" not in cli(env, "tickets", "list")[1]


@pytest.mark.parametrize(("value", "message"), [
    ("2 hours", "--due-within: expected a duration like 30m, 2h, 1h30m or 2d, got '2 hours'"),
    ("soon", "expected a duration like"), ("90", "expected a duration like"), ("", "expected a duration like"),
    ("h", "expected a duration like"), ("99999999999d", "--due-within: '99999999999d' is too far ahead")])
def test_a_bad_due_within_is_one_line(env, value, message):
    code, out, err = cli(env, "tickets", "list", "--due-within", value)
    assert code == 2 and out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert message in err


def _clock(engine, number: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(Ticket.status, Ticket.sla_state, Ticket.resolution_used_s, Ticket.sla_used_s,
                                  Ticket.resolution_due_at, Ticket.sla_next_at, Ticket.closed_at)
                           .where(Ticket.id == number)).one()
    return dict(row._mapping)


def test_close_stops_the_clock_keeping_the_resolution_time(env, add_ticket, engine, now):
    number = add_ticket("Running", sla_since=now - timedelta(hours=1), sla_used_s=1800,
                        resolution_due_at=now + timedelta(hours=22, minutes=30), sla_next_at=now)
    assert cli(env, "tickets", "close", str(number)) == (0, f"ticket {number} closed\n", "")
    clock = _clock(engine, number)
    assert clock["status"] == "closed" and clock["sla_state"] == "stopped"
    assert 1800 + 3600 <= clock["resolution_used_s"] < 1800 + 3600 + SLACK
    assert clock["sla_used_s"] == clock["resolution_used_s"]
    assert clock["resolution_due_at"] is None and clock["sla_next_at"] is None  # nothing is due any more
    assert as_utc(clock["closed_at"]) >= now
    assert "resolution done (target 24 h, took 1 h 30 min)" in cli(env, "tickets", "show", str(number))[1]


def test_close_keeps_what_a_resolved_ticket_used_and_starts_an_old_ones(env, add_ticket, engine, now):
    resolved = add_ticket("Resolved", status="resolved", sla_state="waiting", sla_since=now - timedelta(hours=2),
                          sla_used_s=5000, resolution_used_s=5000)
    old = add_ticket("From before clocks", sla_state="none", sla_profile=None, sla_since=None)
    assert cli(env, "tickets", "close", str(resolved))[0] == 0
    assert cli(env, "tickets", "close", str(old))[0] == 0
    assert _clock(engine, resolved)["resolution_used_s"] == 5000  # the resolution was when it was resolved
    assert _clock(engine, old)["resolution_used_s"] == 0 and _clock(engine, old)["sla_state"] == "stopped"
    code, out, err = cli(env, "tickets", "close", str(old))
    assert (code, out) == (1, "") and err.strip() == f"helpdesk: ticket {old} is already closed"
