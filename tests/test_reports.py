"""`helpdesk report sla` and `report workload` over a real database: a handful of tickets with known
SLA figures, time entries and ratings, and every number of both reports checked against figures
worked out by hand here; the tables once; one line for every bad value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.store.account_tables import Contract, Queue
from helpdesk.store.db import new_session
from helpdesk.store.models import SatisfactionRating, Ticket, TimeEntry
from tests.conftest import free_port
from tests.service import run_helpdesk, service_env

NOVEMBER = ("--from", "2026-11-01", "--to", "2026-11-30")
FIRST_TARGET, RESOLUTION_TARGET = 3600, 28800  # 1 h to answer, 8 h to resolve (working time)


def at(day: int, hour: int = 9, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    created: datetime
    queue: str = "general"
    assignee: str | None = None
    requester: str = "jan"
    first_used: int | None = None  # first_response_used_s
    resolution_used: int | None = None
    paused: int = 0
    breached: int = 0  # sla_breached bits: 1 first response, 2 resolution
    status: str = "open"
    resolved: datetime | None = None
    closed: datetime | None = None
    targets: tuple[int | None, int | None] = (FIRST_TARGET, RESOLUTION_TARGET)


# What each ticket's first response / resolution outcome is, by the rule of `report sla --help`.
TICKETS = {
    1: Spec(at(2), assignee="petr", first_used=1200, resolution_used=20000, paused=600, status="closed",
            resolved=at(2, 15), closed=at(3)),  # met / met
    2: Spec(at(20), assignee="petr", first_used=4000, resolution_used=30000, status="resolved",
            resolved=at(22)),  # breached / breached: over the targets, though no bit was set
    3: Spec(at(5), queue="printers", assignee="petr", requester="eva", paused=1800, breached=1),  # breached / open
    4: Spec(at(10), queue="printers", assignee="iva", requester="ola", status="new"),  # pending / open
    5: Spec(at(1, 0), first_used=500, paused=300, targets=(None, None)),  # no target / no target; from 00:00
    6: Spec(at(30, 23, 59), assignee="iva", requester="eva", first_used=3600, resolution_used=28800, paused=7200,
            breached=1, status="closed", resolved=at(30, 23, 59, 30), closed=at(1, 10, month=12)),
    # ^ met / met: exactly on both targets, a stale bit notwithstanding; resolved in November, closed in December
    7: Spec(at(15, 23, 30), queue="printers", assignee="petr", first_used=100, breached=2,
            status="pending"),  # met / breached: not resolved and overdue
    8: Spec(at(31, 23, 59, 59, month=10), assignee="petr", first_used=50, resolution_used=60, status="closed",
            closed=at(2)),  # created in October: not in the SLA report, but handled in November
    9: Spec(at(1, 0, month=12), assignee="petr"),  # created in December: only open now
}
CONTRACTS = [  # (organization, number, starts_on, ends_on)
    ("Acme", "ACME-1", date(2026, 1, 1), date(2026, 11, 15)),
    ("Acme", "ACME-2", date(2026, 11, 16), None),
    ("Beta", "BETA-OLD", date(2025, 1, 1), None),
    ("Beta", "BETA-NEW", date(2026, 11, 6), None),  # overlaps BETA-OLD: the newer start wins from Nov 6
    ("Delta", "DELTA-1", date(2025, 1, 1), date(2026, 10, 31)),  # over before November
]
# (who, ticket, minutes, at)
TIME_ENTRIES = [("petr", 1, 90, at(2, 12)), ("petr", 2, 30, at(30, 23, 59)), ("petr", 1, 500, at(1, 0, month=12)),
                ("petr", 8, 20, at(31, 12, month=10)), ("iva", 4, 45, at(11)), ("karel", 8, 15, at(1, 0)),
                ("jan", 1, 60, at(3))]  # jan is a client: not in the workload report
# (technician, ticket, score, at)
RATINGS = [("petr", 1, 5, at(3)), ("petr", 2, 4, at(22)), ("petr", 8, 2, at(30, month=10)), ("karel", 8, 3, at(10)),
           ("iva", 6, 5, at(30, 23, 59, 50)), ("iva", 4, 4, at(12)), ("iva", 3, 4, at(12)), (None, 3, 1, at(12))]


@pytest.fixture
def helpdesk(db_url):
    env = service_env(db_url, free_port(), None)

    def run(*args: str):
        result = run_helpdesk(["report", *args], env)
        return result.returncode, result.stdout.decode(), result.stderr.decode()
    return run


@pytest.fixture
def tickets(engine) -> dict[int, int]:
    """The people, contracts, tickets, time entries and ratings above; ticket ids by their key."""
    with new_session(engine) as session, session.begin():
        orgs = {name: add_org(session, name, [f"{name.lower()}.example"]) for name in ("Acme", "Beta", "Delta")}
        people = {"jan": add_user(session, "Jan", ["jan@acme.example"], organization="Acme"),
                  "eva": add_user(session, "Eva", ["eva@beta.example"], organization="Beta"),
                  "ola": add_user(session, "Ola", ["ola@delta.example"], organization="Delta")}
        for name, role in (("petr", "technician"), ("iva", "dispatcher"), ("karel", "technician"),
                           ("zed", "technician")):  # zed has no figure at all
            people[name] = add_user(session, name.title(), [f"{name}@provider.example"], roles=(role,))
        people["karel"].active = False  # left the company; his figures still count
        session.add(Queue(name="printers", title="Printers"))
        session.add_all([Contract(organization_id=orgs[org].id, number=number, starts_on=start, ends_on=end)
                         for org, number, start, end in CONTRACTS])
        session.flush()
        session.execute(insert(Ticket), [
            {"subject": f"Ticket {key}", "queue": s.queue, "status": s.status, "requester_id": people[s.requester].id,
             "assignee_id": people[s.assignee].id if s.assignee else None, "created_at": s.created,
             "updated_at": s.created, "resolved_at": s.resolved, "closed_at": s.closed,
             "first_response_used_s": s.first_used, "resolution_used_s": s.resolution_used, "sla_paused_s": s.paused,
             "first_response_target_s": s.targets[0], "resolution_target_s": s.targets[1], "sla_breached": s.breached}
            for key, s in TICKETS.items()])
        ids = {int(subject.split()[1]): number
               for subject, number in session.execute(select(Ticket.subject, Ticket.id))}
        session.execute(insert(TimeEntry), [{"user_id": people[who].id, "ticket_id": ids[key], "minutes": minutes,
                                             "at": moment} for who, key, minutes, moment in TIME_ENTRIES])
        session.execute(insert(SatisfactionRating), [
            {"technician_id": people[who].id if who else None, "ticket_id": ids[key], "score": score, "at": moment}
            for who, key, score, moment in RATINGS])
        return ids


def figures(tickets: int, first: tuple, first_times: tuple, resolution: tuple, resolution_times: tuple,
            paused: tuple) -> dict:
    """first: (met, breached, pending, no target); resolution: (met, breached, open, no target);
    *_times: (median, p90) in seconds; paused: (total, median) in seconds."""
    return {"tickets": tickets,
            **dict(zip(("first_response_met", "first_response_breached", "first_response_pending",
                        "first_response_no_target"), first)),
            "first_response_median_s": first_times[0], "first_response_p90_s": first_times[1],
            **dict(zip(("resolution_met", "resolution_breached", "resolution_open", "resolution_no_target"),
                       resolution)),
            "resolution_median_s": resolution_times[0], "resolution_p90_s": resolution_times[1],
            "paused_total_s": paused[0], "paused_median_s": paused[1]}


# Nearest rank: the p-th percentile of n sorted values is value number ceil(p/100 * n).
ALL_NOVEMBER = figures(
    7, (3, 2, 1, 1),  # met 1 6 7, breached 2 3, pending 4, no target 5
    (1200, 4000),  # [100, 500, 1200, 3600, 4000]: median no. 3, p90 no. 5 (ticket 5 has no target, but a time)
    (2, 2, 2, 1),  # met 1 6, breached 2 7, open 3 4, no target 5
    (28800, 30000),  # [20000, 28800, 30000]: median no. 2, p90 no. 3
    (9900, 300))  # [0, 0, 0, 300, 600, 1800, 7200]: median no. 4
BY_QUEUE = [
    {"queue": "general", **figures(4, (2, 1, 0, 1), (1200, 4000),  # 1 2 5 6: [500, 1200, 3600, 4000]: no. 2, no. 4
                                   (2, 1, 0, 1), (28800, 30000), (8100, 300))},  # [0, 300, 600, 7200]
    {"queue": "printers", **figures(3, (1, 1, 1, 0), (100, 100),  # 3 4 7
                                    (0, 1, 2, 0), (None, None), (1800, 0))},  # nobody resolved: no times
]
BY_TECHNICIAN = [
    {"technician": "iva@provider.example", "name": "Iva",  # 4 6
     **figures(2, (1, 0, 1, 0), (3600, 3600), (1, 0, 1, 0), (28800, 28800), (7200, 0))},  # [0, 7200]: no. 1
    {"technician": "petr@provider.example", "name": "Petr",  # 1 2 3 7
     **figures(4, (2, 2, 0, 0), (1200, 4000),  # [100, 1200, 4000]
               (1, 2, 1, 0), (20000, 30000),  # [20000, 30000]: an even count's median is the lower middle value
               (2400, 0))},  # [0, 0, 600, 1800]: no. 2
    {"technician": None, "name": None,  # 5
     **figures(1, (0, 0, 0, 1), (500, 500), (0, 0, 0, 1), (None, None), (300, 300))},
]
BY_CONTRACT = [
    {"contract": "ACME-1", "organization": "Acme",  # 1 5 7 (Nov 15, 23:30 UTC: ACME-1's last day)
     **figures(3, (2, 0, 0, 1), (500, 1200), (1, 1, 0, 1), (20000, 20000), (900, 300))},
    {"contract": "ACME-2", "organization": "Acme",  # 2
     **figures(1, (0, 1, 0, 0), (4000, 4000), (0, 1, 0, 0), (30000, 30000), (0, 0))},
    {"contract": "BETA-NEW", "organization": "Beta",  # 6: both Beta contracts in force, the newer one counts
     **figures(1, (1, 0, 0, 0), (3600, 3600), (1, 0, 0, 0), (28800, 28800), (7200, 7200))},
    {"contract": "BETA-OLD", "organization": "Beta",  # 3: before BETA-NEW started
     **figures(1, (0, 1, 0, 0), (None, None), (0, 0, 1, 0), (None, None), (1800, 1800))},
    {"contract": None, "organization": None,  # 4: Delta's contract ended in October
     **figures(1, (0, 0, 1, 0), (None, None), (0, 0, 1, 0), (None, None), (0, 0))},
]
WORKLOAD = [
    # iva: open 4; handled 6 (resolved Nov 30, closed in December), on both targets exactly: not breached;
    # 45 min; ratings 5, 4, 4 (13 / 3)
    {"technician": "iva@provider.example", "name": "Iva", "active": True, "open": 1, "handled": 1,
     "handled_breached": 0, "time_logged_s": 45 * 60, "satisfaction_count": 3, "satisfaction_average": 4.33},
    # karel: inactive, nothing assigned; 15 min logged at 00:00 on Nov 1; one rating
    {"technician": "karel@provider.example", "name": "Karel", "active": False, "open": 0, "handled": 0,
     "handled_breached": 0, "time_logged_s": 15 * 60, "satisfaction_count": 1, "satisfaction_average": 3.0},
    # petr: open now 2 3 7 9 (1 and 8 are closed); handled 1 2 8, of which 2 breached; 90 + 30 min (the
    # October and December entries are out); ratings 5 and 4 (October's 2 is out)
    {"technician": "petr@provider.example", "name": "Petr", "active": True, "open": 4, "handled": 3,
     "handled_breached": 1, "time_logged_s": 120 * 60, "satisfaction_count": 2, "satisfaction_average": 4.5},
]


def report_json(helpdesk, *args: str) -> dict:
    code, out, err = helpdesk(*args, "--json")
    assert code == 0 and err == "", err
    return json.loads(out)


def test_sla_report_matches_the_hand_computed_figures(helpdesk, tickets):
    assert report_json(helpdesk, "sla", *NOVEMBER) == {
        "from": "2026-11-01", "to": "2026-11-30", "queue": None, "organization": None, "total": ALL_NOVEMBER,
        "by_queue": BY_QUEUE, "by_technician": BY_TECHNICIAN, "by_contract": BY_CONTRACT}


def test_sla_report_filters_by_queue_and_organization(helpdesk, tickets):
    beta = report_json(helpdesk, "sla", *NOVEMBER, "--org", "beta")  # 3 and 6; the name in any case
    assert beta["organization"] == "Beta"
    assert beta["total"] == figures(2, (1, 1, 0, 0), (3600, 3600), (1, 0, 1, 0), (28800, 28800), (9000, 1800))
    assert [row["contract"] for row in beta["by_contract"]] == ["BETA-NEW", "BETA-OLD"]
    printers = report_json(helpdesk, "sla", *NOVEMBER, "--queue", "printers")
    assert printers["total"] == {k: v for k, v in BY_QUEUE[1].items() if k != "queue"}
    assert printers["by_queue"] == [BY_QUEUE[1]]
    only_7 = report_json(helpdesk, "sla", *NOVEMBER, "--queue", "printers", "--org", "Acme")
    assert only_7["total"] == figures(1, (1, 0, 0, 0), (100, 100), (0, 1, 0, 0), (None, None), (0, 0))
    assert [row["contract"] for row in only_7["by_contract"]] == ["ACME-1"]


def test_one_day_and_an_empty_period(helpdesk, tickets):
    day = report_json(helpdesk, "sla", "--from", "2026-11-30", "--to", "2026-11-30")  # 6, created at 23:59
    assert day["total"]["tickets"] == 1 and day["by_technician"][0]["technician"] == "iva@provider.example"
    empty = report_json(helpdesk, "sla", "--from", "2030-01-01", "--to", "9999-12-31")
    assert empty["total"] == figures(0, (0, 0, 0, 0), (None, None), (0, 0, 0, 0), (None, None), (0, None))
    assert empty["by_queue"] == empty["by_technician"] == empty["by_contract"] == []
    # Tickets resolved or closed later do not make the open count depend on the period.
    later = report_json(helpdesk, "workload", "--from", "2030-01-01", "--to", "2030-01-31")["technicians"]
    assert [(row["technician"], row["open"], row["handled"]) for row in later] == [
        ("iva@provider.example", 1, 0), ("petr@provider.example", 4, 0)]


def test_workload_report_matches_the_hand_computed_figures(helpdesk, tickets):
    assert report_json(helpdesk, "workload", *NOVEMBER) == {"from": "2026-11-01", "to": "2026-11-30",
                                                            "technicians": WORKLOAD}


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_tables_read_as_words(helpdesk, tickets):
    code, out, err = helpdesk("sla", *NOVEMBER)
    assert code == 0 and err == ""
    lines = out.splitlines()
    titles = [line.strip() for line in lines if " by " in line and "2026-11-01 to 2026-11-30" in line]
    assert titles == [f"{measure} by {grouping}, 2026-11-01 to 2026-11-30" for grouping in ("queue", "technician",
                      "contract") for measure in ("First response", "Resolution and time paused")]
    first, resolution = (cells(line) for line in lines if "petr@provider.example" in line)
    # 4 tickets; response: 2 met, 2 breached, median 20 min (1200 s), p90 1 h 7 min (4000 s); resolution: 1 met,
    # 2 breached, 1 open, median 5 h 33 min (20000 s), p90 8 h 20 min (30000 s); paused 40 min, median 0 min
    assert first == ["petr@provider.example", "4", "2", "2", "0", "0", "20 min", "1 h 7 min"]
    assert resolution == ["petr@provider.example", "4", "1", "2", "1", "0", "5 h 33 min", "8 h 20 min", "40 min",
                          "0 min"]
    printers = [cells(line) for line in lines if "printers" in line]
    assert printers[0] == ["printers", "3", "1", "1", "1", "0", "2 min", "2 min"]  # 100 s
    assert printers[1] == ["printers", "3", "0", "1", "2", "0", "", "", "30 min", "0 min"]  # none resolved: no times
    assert [cells(line)[0] for line in lines if "(unassigned)" in line or "(no contract)" in line] == [
        "(unassigned)", "(unassigned)", "(no contract)", "(no contract)"]
    assert sum("ACME-1 (Acme)" in line for line in lines) == 2
    assert sum("(all)" in line for line in lines) == 6  # each table ends with all the tickets
    code, out, err = helpdesk("workload", *NOVEMBER)
    assert code == 0 and "Workload, 2026-11-01 to 2026-11-30" in out
    iva, karel, _ = (cells(line) for line in out.splitlines() if "@provider.example" in line)
    assert iva == ["iva@provider.example", "Iva", "yes", "1", "1", "0", "45 min", "3", "4.33"]
    assert karel == ["karel@provider.example", "Karel", "no", "0", "0", "0", "15 min", "1", "3.0"]


BAD_VALUES = [
    (("sla", "--from", "yesterday", "--to", "2026-11-30"), "--from: expected a date like 2026-11-30, got 'yesterday'"),
    (("sla", "--from", "20261101", "--to", "2026-11-30"), "--from: expected a date like"),
    (("sla", "--from", "2026-11-01", "--to", "2026-02-30"), "--to: expected a date like 2026-11-30, got '2026-02-30'"),
    (("sla", "--from", "2026-11-30", "--to", "2026-11-01"), "--to: '2026-11-01' is before --from '2026-11-30'"),
    (("sla", *NOVEMBER, "--queue", "nowhere"), "--queue: unknown queue 'nowhere'"),
    (("sla", *NOVEMBER, "--org", "Gamma"), "--org: unknown organization 'Gamma'"),
    (("sla", "--to", "2026-11-30"), "Missing option '--from'"),
    (("workload", "--from", "2026-11-01", "--to", "next week"), "--to: expected a date like"),
    (("workload", "--from", "2026-12-01", "--to", "2026-11-30"), "--to: '2026-11-30' is before --from"),
]


def test_bad_values_are_one_line(helpdesk, tickets):
    for args, needle in BAD_VALUES:
        code, out, err = helpdesk(*args)
        assert code != 0 and out == "", args
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and needle in err, (args, err)
