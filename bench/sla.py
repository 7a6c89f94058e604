"""Benchmark: one SLA scheduler pass over 100,000 open tickets (target: under 1 s, SQLite and PostgreSQL).

Makes a scratch database per backend (a temporary SQLite file; a PostgreSQL database
`helpdesk_bench_<random>`, dropped at the end), migrates it, adds a queue team (two technicians,
a dispatcher), bulk-inserts open tickets with running SLA clocks of which `--due` have reached
their warning or breach, and times the scheduler's real job (`Housekeeping.sla_once`): first the
pass that finds the due ones (each warned or escalated: alert rows, rendered mail in the outbox),
then a pass that finds nothing due (what every minute costs on a quiet day).

    .venv/bin/python bench/sla.py [--tickets 100000] [--due 1000] [--database sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scratch_db import database_or_none
from sqlalchemy import create_engine, insert, text

from helpdesk.app.scheduled_jobs import Housekeeping
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.accounts.queues import ensure_queues, find_queue, set_membership
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.account_tables import User, UserEmail, UserRole
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.migrate import upgrade
from helpdesk.store.models import Ticket

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday morning in the office calendar
CHUNK = 10_000


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def add_team(engine, rules) -> None:
    with new_session(engine) as session, session.begin():
        ensure_queues(session, rules.queues)
        for name, address, role in (("Anna", "anna@provider.example", "technician"),
                                    ("Petr", "petr@provider.example", "technician"),
                                    ("Dana", "dana@provider.example", "dispatcher")):
            add_user(session, name, [address], roles=(role,))
            set_membership(session, find_queue(session, "general"), address, member=True)


def _ticket(i: int, due: bool, rng: random.Random) -> dict:
    since = NOW - timedelta(minutes=rng.randint(1, 600))
    next_at = NOW - timedelta(minutes=1) if due else NOW + timedelta(minutes=rng.randint(10, 10_000))
    return dict(id=i, subject=f"Problem {i}", requester_id=i, created_at=since, updated_at=since, status="open",
                priority="normal", queue="general", sla_profile="standard", sla_state="running", sla_since=since,
                sla_used_s=rng.randint(0, 3 * 3600) if not due else 24 * 3600, sla_paused_s=0,
                first_response_target_s=4 * 3600, resolution_target_s=24 * 3600, sla_next_at=next_at,
                resolution_due_at=next_at)


def prefill(url: str, count: int, due: int, seed: int) -> None:
    rng, engine = random.Random(seed), create_engine(url)
    due_ids = set(rng.sample(range(1, count + 1), due))
    with engine.begin() as conn:
        for lo in range(1, count + 1, CHUNK):
            ids = range(lo + 100, min(lo + CHUNK, count + 1) + 100)  # above the team's user ids
            conn.execute(insert(User), [dict(id=i, display_name=f"Client {i}", active=True, created_at=NOW)
                                        for i in ids])
            conn.execute(insert(UserEmail), [dict(address=f"c{i}@client.example", user_id=i, is_primary=True)
                                             for i in ids])
            conn.execute(insert(UserRole), [dict(user_id=i, role="client") for i in ids])
            conn.execute(insert(Ticket), [_ticket(i, i - 100 in due_ids, rng) for i in ids])
        if conn.dialect.name == "postgresql":
            for table in ("user_account", "ticket"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count + 200})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)" if conn.dialect.name == "sqlite" else "ANALYZE"))
    engine.dispose()


def run(kind: str, args) -> None:
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = database_or_none(kind, Path(tmp), stack, log=log)
        if url is None:
            return
        engine = make_engine(url)
        upgrade(engine)
        settings = Settings(database_url=url, support_address="support@helpdesk.test", rules=REPO / "rules.yaml",
                            secret_key="bench-secret-key-0123456789", outbox_dir=Path(tmp) / "outbox")
        rules = load_rules(settings.rules)
        add_team(engine, rules)
        started = time.perf_counter()
        prefill(url, args.tickets, args.due, args.seed)
        log(f"{kind}: prefilled {args.tickets} open tickets ({args.due} due) in {time.perf_counter() - started:.1f} s")
        hk = Housekeeping(engine, make_pipeline_context(settings, lambda: rules, clock=lambda: NOW), clock=lambda: NOW)
        for label in (f"{args.due} due", "nothing due"):
            started = time.perf_counter()
            looked = hk.sla_once()
            print(f"{kind}: pass over {args.tickets} open tickets, {label}: looked at {looked} in "
                  f"{time.perf_counter() - started:.3f} s")
        with engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
            alerts = conn.execute(text("SELECT count(*) FROM alert")).scalar()
        print(f"{kind}: {alerts} alerts raised, {queued} mails queued")
        engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--due", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database", default="sqlite,postgresql")
    args = p.parse_args()
    for kind in args.database.split(","):
        run(kind.strip(), args)


if __name__ == "__main__":
    main()
