"""What one outbox claim costs the dispatcher: CPU per claim of an empty outbox and of a batch.

At a low rate every mail is a claim of its own, and the work loop claims again once after a full
batch, so the claim's fixed cost is paid per mail. CPU from process_time, on a scratch database.

    .venv/bin/python bench/outbox_claim.py [--claims 2000] [--database sqlite|postgresql]
        [--backlog 1000,4000,16000]

`--backlog`: then claims of 50 with that many due rows waiting (a relay outage's backlog), each
rolled back so that the backlog stays; a claim's cost should not grow with it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from scratch_db import PG_ADMIN, create_database


def _fill(engine, count: int) -> None:
    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.combined_inserts import OUTBOX_COLUMNS
    from helpdesk.store.models import Outbox
    now = utcnow()
    row = dict.fromkeys(OUTBOX_COLUMNS) | {
        "kind": "ack", "mail_from": "support@helpdesk.test", "rcpt_to": "jan@client.example", "raw": b"x" * 3000,
        "status": "queued", "attempts": 0, "created_at": now, "queued_at": now, "next_attempt_at": now,
        "channel": "email"}
    with engine.begin() as conn:
        conn.execute(Outbox.__table__.insert(), [row | {"message_id": f"<{i}@bench>"} for i in range(count)])


def _claimer(engine):
    """claim(limit, keep=True): one claim in its own transaction; keep=False rolls it back."""
    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.db import new_session
    from helpdesk.store.outbox import claim_due

    def claim(limit: int, keep: bool = True) -> int:
        with new_session(engine) as session, session.begin():
            taken = len(claim_due(session, utcnow(), limit, timedelta(minutes=5), instance_id=1))
            if not keep:
                session.rollback()  # the backlog stays as it was
            return taken
    claim(1)  # warm up: the statements are compiled once
    return claim


def run(engine, claims: int) -> None:
    claim = _claimer(engine)
    cpu = time.process_time()
    for _ in range(claims):
        claim(50)
    print(f"{engine.dialect.name}, empty outbox: {1e6 * (time.process_time() - cpu) / claims:.0f} µs CPU per claim")
    batches = max(1, claims // 10)
    _fill(engine, batches * 10)
    cpu, taken = 0.0, 0
    for _ in range(batches):
        started = time.process_time()
        taken += claim(10)
        cpu += time.process_time() - started
        with engine.begin() as conn:  # sent, as the dispatcher records them (not timed)
            conn.exec_driver_sql("UPDATE outbox SET status = 'sent' WHERE status = 'sending'")
    print(f"{engine.dialect.name}, batches of {taken // batches}: "
          f"{1e6 * cpu / batches:.0f} µs CPU per claim")


def run_backlogs(engine, backlogs: list[int], claims: int) -> None:
    claim, waiting = _claimer(engine), 0
    for backlog in sorted(backlogs):
        _fill(engine, backlog - waiting)
        waiting = backlog
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(claims):
            claim(50, keep=False)
        print(f"{engine.dialect.name}, {backlog} due rows: {1e3 * (time.process_time() - cpu) / claims:.2f} ms CPU, "
              f"{1e3 * (time.perf_counter() - wall) / claims:.2f} ms wall per claim of 50")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--claims", type=int, default=2000)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-admin-url", default=PG_ADMIN)
    p.add_argument("--backlog", help="comma-separated counts of due rows to claim from (then --claims 20 is plenty)")
    args = p.parse_args()
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-claim-"))
        from helpdesk.store.db import make_engine
        from helpdesk.store.migrate import upgrade
        engine = make_engine(create_database(args.database, tmp, stack, args.pg_admin_url))
        stack.callback(engine.dispose)
        upgrade(engine)
        if args.backlog:
            run_backlogs(engine, [int(n) for n in args.backlog.split(",")], args.claims)
        else:
            run(engine, args.claims)


if __name__ == "__main__":
    main()
