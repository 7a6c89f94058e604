"""The PostgreSQL-only combined inserts (store/combined_inserts.py) against the single inserts
they replace: client CPU and wall time per new client, on a scratch database, rolled back.

    .venv/bin/python bench/pg_combined_inserts.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from scratch_db import create_database

PG_ADMIN = os.environ.get("HELPDESK_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _timed(run, rows: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(rows):
        run(i)
    return 1e6 * (time.process_time() - cpu) / rows, 1e6 * (time.perf_counter() - wall) / rows


def main() -> None:
    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.combined_inserts import NEW_CLIENT
    from helpdesk.store.db import make_engine
    from helpdesk.store.migrate import upgrade
    from helpdesk.store.tickets import _FAST_EMAIL, _FAST_ROLE, _FAST_USER

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2000)
    rows = p.parse_args().rows
    with ExitStack() as stack:
        engine = make_engine(create_database("postgresql", Path(tempfile.mkdtemp()), stack, PG_ADMIN))
        upgrade(engine)
        with engine.connect() as conn:
            conn.begin()

            def singles(i):
                user_id = _FAST_USER.scalar(conn, {"display_name": "x", "organization_id": None, "active": True,
                                                   "created_at": utcnow(), "reply_generation": 0})
                _FAST_EMAIL.execute(conn, {"address": f"single{i}@x.example", "user_id": user_id,
                                           "is_primary": True})
                _FAST_ROLE.execute(conn, {"user_id": user_id, "role": "client"})

            def combined(i):
                NEW_CLIENT.scalar(conn, {"display_name": "x", "organization_id": None, "created_at": utcnow(),
                                         "address": f"combined{i}@x.example"})

            for name, run in (("three inserts", singles), ("one CTE", combined)):
                cpu, wall = _timed(run, rows)
                print(f"new client, {name}: {cpu:.0f} µs client CPU, {wall:.0f} µs wall")
            conn.rollback()
        engine.dispose()


if __name__ == "__main__":
    main()
