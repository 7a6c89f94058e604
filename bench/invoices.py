"""Benchmark: `helpdesk invoices run` for 10,000 monthly contracts (target: under 30 s per backend).

Makes a scratch database per backend (a temporary SQLite file; a PostgreSQL database
`helpdesk_bench_<random>`, dropped at the end) or uses `--database-url`, migrates it, bulk-inserts
organizations with a contact and a fin-admin, one contract each (a tenth needing approval, half
with per-ticket prices), tickets and time entries in the period, and times the run as the CLI
does it: every invoice numbered, stored, its time entries locked and its mail (the EDIFACT
interchange, or the approval request) queued, one transaction per invoice. Then it runs the
period again (nothing new: the idempotent rerun) and checks the numbers are gap-free.

    .venv/bin/python bench/invoices.py [--contracts 10000] [--database sqlite,postgresql]
    .venv/bin/python bench/invoices.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/somedb
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scratch_db import PG_ADMIN, database_or_none
from sqlalchemy import insert, text

from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.billing.period_run import run_period
from helpdesk.gateway.billing.periods import parse_period
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.account_tables import Contract, Organization, User, UserEmail, UserRole
from helpdesk.store.db import make_engine
from helpdesk.store.migrate import upgrade
from helpdesk.store.models import Ticket, TimeEntry

PERIOD, NOW = parse_period("2026-10"), datetime(2026, 11, 1, 2, tzinfo=UTC)
TECHNICIAN = 1


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _accounts(conn, contracts: int) -> None:
    now = datetime.now(UTC)
    conn.execute(insert(Organization), [dict(id=o, name=f"Org {o}", default_locale=("cs", "pl", "en")[o % 3],
                                             created_at=now) for o in range(1, contracts + 1)])
    users = [dict(id=TECHNICIAN, display_name="Anna Tech", organization_id=None, active=True, created_at=now)]
    users += [dict(id=2 * o, display_name=f"Client {o}", organization_id=o, active=True, created_at=now)
              for o in range(1, contracts + 1)]
    users += [dict(id=2 * o + 1, display_name=f"Eva Fin {o}", organization_id=o, active=True, created_at=now)
              for o in range(1, contracts + 1)]
    conn.execute(insert(User), users)
    conn.execute(insert(UserEmail), [dict(address=f"u{u['id']}@bench.example", user_id=u["id"], is_primary=True)
                                     for u in users])
    roles = [dict(user_id=TECHNICIAN, role="technician")]
    roles += [dict(user_id=2 * o, role="client") for o in range(1, contracts + 1)]
    roles += [dict(user_id=2 * o + 1, role="fin-admin") for o in range(1, contracts + 1)]
    conn.execute(insert(UserRole), roles)
    conn.execute(insert(Contract), [dict(
        organization_id=o, number=f"C-{o:05d}",
        starts_on=date(2026, 10, 1 + o % 20) if o % 7 == 0 else date(2025, 1, 1),  # some start in the period
        currency="EUR", monthly_fee=500 + o % 900, hourly_rate=80, included_minutes=120, vat_rate=21,
        ticket_prices='{"high": "25.00"}' if o % 2 else "{}", buyer_edi_id=f"BUYER{o:05d}",
        buyer_legal_name=f"Firma {o} s.r.o. + Partneři: 'Žilina'", edi_address=f"edi{o}@bench.example",
        edi_charset="UNOD" if o % 4 == 0 else "UNOC", requires_approval=o % 10 == 0, created_at=now)
        for o in range(1, contracts + 1)])


def prefill(url: str, contracts: int, seed: int) -> int:
    """Accounts, and per organization 0-4 tickets of October with 0-3 time entries each; the entry count."""
    rng, engine = random.Random(seed), make_engine(url)
    with engine.begin() as conn:
        _accounts(conn, contracts)
        tickets, entries = [], []
        for o in range(1, contracts + 1):
            for _ in range(rng.randint(0, 4)):
                created = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(31 * 1440))
                tickets.append(dict(id=len(tickets) + 1, subject="Bench", priority=rng.choice(("normal", "high")),
                                    requester_id=2 * o, created_at=created, updated_at=created))
                entries += [dict(ticket_id=len(tickets), user_id=TECHNICIAN, minutes=rng.randint(10, 180),
                                 at=created + timedelta(minutes=rng.randrange(600))) for _ in range(rng.randint(0, 3))]
        conn.execute(insert(Ticket), tickets)
        conn.execute(insert(TimeEntry), [e for e in entries if e["at"] < datetime(2026, 11, 1, tzinfo=UTC)])
        if conn.dialect.name == "postgresql":
            for table in ("organization", "user_account", "ticket", "contract"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return len(entries)


def measure(url: str, tmp: Path) -> None:
    s = Settings(database_url=url, support_address="support@bench.example", secret_key="bench-secret-0123456789",
                 outbox_dir=tmp / "outbox", provider_legal_name="Provider a.s.", provider_edi_id="8590000000008",
                 provider_edi_qualifier="14", provider_country="CZ")
    ctx, engine = make_pipeline_context(s, lambda: load_rules(s.rules)), make_engine(url, 10000)
    started, cpu = time.perf_counter(), time.process_time()
    report = run_period(engine, ctx, PERIOD, NOW)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    again = time.perf_counter()
    rerun = run_period(engine, ctx, PERIOD, NOW)
    rerun_wall = time.perf_counter() - again
    with engine.connect() as conn:
        numbers = sorted(conn.execute(text("SELECT number FROM invoice")).scalars())
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
        locked = conn.execute(text("SELECT count(*) FROM time_entry_billing WHERE invoice_id IS NOT NULL")).scalar()
    engine.dispose()
    gap_free = numbers == [f"2026-{n:06d}" for n in range(1, len(numbers) + 1)]
    print(f"  {engine.dialect.name:<10} {len(report.created)} invoices ({report.awaiting_approval} awaiting approval, "
          f"{len(report.failed)} failed) in {wall:.1f} s wall, {cpu:.1f} s CPU here "
          f"({len(report.created) / wall:.0f}/s); {outbox} mails queued, {locked} time entries locked; "
          f"numbers gap-free: {gap_free}; rerun {len(rerun.created)} new in {rerun_wall:.2f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--database-url", help="an existing, empty database to use instead of scratch ones")
    parser.add_argument("--pg-admin-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES", PG_ADMIN))
    args = parser.parse_args()
    print(f"invoices run {PERIOD.key} for {args.contracts} contracts; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    kinds = [args.database_url] if args.database_url else [k.strip() for k in args.database.split(",") if k.strip()]
    for kind in kinds:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="helpdesk-bench-")))
            url = kind if args.database_url else database_or_none(kind, tmp, stack, args.pg_admin_url, log)
            if url is None:
                continue
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            started = time.perf_counter()
            entries = prefill(url, args.contracts, args.seed)
            log(f"{url.split(':')[0]}: prefilled {args.contracts} contracts, {entries} time entries in "
                f"{time.perf_counter() - started:.1f} s")
            measure(url, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
