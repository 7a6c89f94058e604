"""Benchmark: `helpdesk report sla` and `report workload` over 100,000 tickets (target: under ~1 s each).

Makes a scratch database per backend (a temporary SQLite file; a PostgreSQL database
`helpdesk_bench_<random>`, dropped at the end, when the server answers), migrates it, bulk-inserts
tickets with random SLA figures, time entries and ratings, and times the report queries as the
CLI runs them (a fresh read-only session each run; the CLI's own start-up is not counted).

    .venv/bin/python bench/reports.py [--tickets 100000] [--repeat 5] [--database sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scratch_db import database_or_none
from sqlalchemy import insert, text

from helpdesk.store.account_tables import Contract, Organization, User, UserEmail, UserRole
from helpdesk.store.db import make_engine, read_session
from helpdesk.store.migrate import upgrade
from helpdesk.store.models import SatisfactionRating, Ticket, TimeEntry
from helpdesk.store.report_workload import workload_report
from helpdesk.store.reports import Period, SlaFilter, sla_report

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)  # tickets are spread over 2026
ORGS, CLIENTS, TECHNICIANS, QUEUES = 50, 2_000, 30, ("general", "printers", "network", "accounts", "hardware")
CHUNK = 10_000
STATUSES = ("new", "open", "pending", "resolved", "closed", "closed", "closed")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def scratch_database(kind: str, stack: ExitStack, admin_url: str) -> str | None:
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="helpdesk-bench-"))
    return database_or_none(kind, Path(folder), stack, admin_url, log)


def _contracts(org_id: int) -> list[dict]:
    if org_id % 5 == 0:
        return []  # no contract at all
    if org_id % 3 == 0:  # renewed in July: tickets of one organization under two contracts
        return [dict(organization_id=org_id, number=f"C{org_id}-A", starts_on=date(2025, 1, 1),
                     ends_on=date(2026, 6, 30)),
                dict(organization_id=org_id, number=f"C{org_id}-B", starts_on=date(2026, 7, 1))]
    return [dict(organization_id=org_id, number=f"C{org_id}", starts_on=date(2025, 6, 1))]


def people(conn, rng: random.Random) -> tuple[list[int], list[int]]:
    """Organizations with contracts, clients (a few without an organization) and technicians; their ids."""
    now = datetime.now(UTC)
    conn.execute(insert(Organization), [dict(id=o, name=f"Org {o}", created_at=now) for o in range(1, ORGS + 1)])
    conn.execute(insert(Contract), [{**c, "created_at": now, "monthly_fee": 0, "hourly_rate": 0, "vat_rate": 0}
                                    for o in range(1, ORGS + 1) for c in _contracts(o)])
    clients = list(range(1, CLIENTS + 1))
    staff = list(range(CLIENTS + 1, CLIENTS + TECHNICIANS + 1))
    org_of = {u: rng.randint(1, ORGS + 5) for u in clients}
    conn.execute(insert(User), [dict(id=u, display_name=f"User {u}", active=True, created_at=now,
                                     organization_id=org_of[u] if org_of.get(u, ORGS + 1) <= ORGS else None)
                                for u in clients + staff])
    conn.execute(insert(UserEmail), [dict(address=f"u{u}@bench.example", user_id=u, is_primary=True)
                                     for u in clients + staff])
    conn.execute(insert(UserRole), [dict(user_id=u, role="technician" if u in staff else "client")
                                    for u in clients + staff])
    return clients, staff


def ticket_row(i: int, rng: random.Random, clients: list[int], staff: list[int]) -> dict:
    created = YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))
    status = rng.choice(STATUSES)
    fr_target, res_target = rng.choice(((3600, 28800), (14400, 86400), (None, None)))
    fr_used = rng.randrange(7200) if rng.random() < 0.9 else None
    res_used = rng.randrange(60000) if status in ("resolved", "closed") else None
    finished = created + timedelta(days=rng.randrange(1, 10)) if res_used is not None else None
    return dict(id=i, subject=f"Bench {i}", status=status, priority="normal", queue=rng.choice(QUEUES),
                requester_id=rng.choice(clients), assignee_id=rng.choice(staff) if rng.random() < 0.85 else None,
                created_at=created, updated_at=created, resolved_at=finished,
                closed_at=finished if status == "closed" else None, sla_profile="standard",
                sla_state="stopped" if status == "closed" else "running", sla_since=created,
                sla_used_s=res_used or 0, sla_paused_s=rng.choice((0, 0, rng.randrange(86400))),
                first_response_used_s=fr_used, resolution_used_s=res_used, first_response_target_s=fr_target,
                resolution_target_s=res_target, sla_breached=rng.choice((0, 0, 0, 1, 2, 3)))


def prefill(url: str, tickets: int, seed: int) -> None:
    """Bulk inserts in chunks: tickets, one or two time entries for most, a rating for a third."""
    rng, engine = random.Random(seed), make_engine(url)
    with engine.begin() as conn:
        clients, staff = people(conn, rng)
        for lo in range(1, tickets + 1, CHUNK):
            rows = [ticket_row(i, rng, clients, staff) for i in range(lo, min(lo + CHUNK, tickets + 1))]
            conn.execute(insert(Ticket), rows)
            conn.execute(insert(TimeEntry), [dict(ticket_id=r["id"], user_id=rng.choice(staff),
                                                  minutes=rng.randint(5, 240),
                                                  at=r["created_at"] + timedelta(hours=rng.randint(1, 48)))
                                             for r in rows for _ in range(rng.choice((0, 1, 1, 2)))])
            conn.execute(insert(SatisfactionRating), [dict(ticket_id=r["id"], technician_id=r["assignee_id"],
                                                           score=rng.randint(1, 5), at=r["resolved_at"])
                                                      for r in rows if r["resolved_at"] and rng.random() < 0.33])
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("organization", "user_account", "ticket"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":  # statistics as autovacuum would have them by now
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()  # on SQLite the last connection's close folds the WAL into the file


def timed(url: str, repeat: int, report) -> tuple[list[float], list[float], object]:
    """Wall and CPU seconds (this process: on PostgreSQL the server's share is only in the wall time)."""
    engine, wall, cpu, result = make_engine(url), [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        with read_session(engine) as session, session.begin():
            result = report(session)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    engine.dispose()
    return wall, cpu, result


def measure(url: str, repeat: int) -> list[tuple[str, list[float], list[float], str]]:
    year, november = Period(date(2026, 1, 1), date(2026, 12, 31)), Period(date(2026, 11, 1), date(2026, 11, 30))
    cases = [("sla, whole year (every ticket)", lambda s: sla_report(s, SlaFilter(year))),
             ("sla, November", lambda s: sla_report(s, SlaFilter(november))),
             ("sla, whole year, one queue", lambda s: sla_report(s, SlaFilter(year, "printers"))),
             ("workload, whole year", lambda s: workload_report(s, year)),
             ("workload, November", lambda s: workload_report(s, november))]
    results = []
    for name, report in cases:
        wall, cpu, result = timed(url, repeat, report)
        what = f"{result['total']['tickets']} tickets" if isinstance(result, dict) else f"{len(result)} technicians"
        results.append((name, wall, cpu, what))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--pg-admin-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES", PG_ADMIN))
    args = parser.parse_args()
    print(f"reports over {args.tickets} tickets, {args.repeat} runs each; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    for kind in [k.strip() for k in args.database.split(",") if k.strip()]:
        with ExitStack() as stack:
            url = scratch_database(kind, stack, args.pg_admin_url)
            if url is None:
                continue
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            started = time.perf_counter()
            prefill(url, args.tickets, args.seed)
            log(f"{kind}: prefilled {args.tickets} tickets in {time.perf_counter() - started:.1f} s")
            for name, wall, cpu, what in measure(url, args.repeat):
                print(f"  {kind:<10} {name:<31} wall median {statistics.median(wall) * 1000:5.0f} ms, "
                      f"min {min(wall) * 1000:5.0f} ms; CPU here min {min(cpu) * 1000:5.0f} ms  ({what})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
