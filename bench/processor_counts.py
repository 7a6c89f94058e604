"""The processor's work per new ticket in counts that do not drift with the host's speed.

CPU time on a shared host varied by up to 2x within an hour (bench/ingest.py's load generator,
the same code each run, took 0.14 to 0.33 ms per message), which hides a 10 % change. This runs
the processor in-process on N bench mails (bench/smtp_load.py's) and counts what is the same on
every run of the same code: Python function calls (cProfile), SQL statements (SQLite's trace
callback) and round trips to the driver (every psycopg execute). CPU is printed too, for the
host of the moment.

    .venv/bin/python bench/processor_counts.py [--messages 1000] [--database sqlite|postgresql]
    PYTHONPATH=/tmp/pp_old .venv/bin/python bench/processor_counts.py   # the same for older code
    .venv/bin/python bench/processor_counts.py --dump /tmp/p.prof        # then python -m pstats /tmp/p.prof
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from scratch_db import create_database
from smtp_load import build_messages

REPO = Path(__file__).resolve().parent.parent
SUPPORT = "support@helpdesk.test"
WARM_UP = 50  # the first messages compile statements and templates: not counted
PG_ADMIN = os.environ.get("HELPDESK_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _count_driver_calls(engine, counter: list[int]) -> None:
    """Count every statement the driver is given, whoever builds it (SQLAlchemy or a Prebuilt)."""
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _trace(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(lambda _sql: counter.__setitem__(0, counter[0] + 1))
        return
    import psycopg
    for name in ("execute", "executemany"):
        method = getattr(psycopg.Cursor, name)

        def counted(self, *args, _method=method, **kwargs):
            counter[0] += 1
            return _method(self, *args, **kwargs)
        setattr(psycopg.Cursor, name, counted)


def bench_pipeline_context(url: str):
    """The pipeline as the gateway wires it, with the repository's rules.yaml and templates."""
    from helpdesk.app.wiring import make_pipeline_context
    from helpdesk.gateway.ground.settings import Settings
    from helpdesk.gateway.routing.rules import load_rules
    from helpdesk.outbound.render import Renderer

    settings = Settings(database_url=url, support_address=SUPPORT, rules=REPO / "rules.yaml",
                        secret_key="processor-bench-key-0123456789")
    renderer = Renderer()
    rules = load_rules(settings.rules, renderer.kinds())
    return make_pipeline_context(settings, lambda: rules, renderer)


def run(url: str, messages: int, dump: str | None = None) -> None:
    from helpdesk.gateway.ground.message import RawInbound
    from helpdesk.gateway.pipeline.processor import Processor
    from helpdesk.store.db import make_engine
    from helpdesk.store.inbound_messages import store_raw
    from helpdesk.store.migrate import upgrade

    engine, counter = make_engine(url), [0]
    _count_driver_calls(engine, counter)  # before the engine makes its first connection
    upgrade(engine)
    processor = Processor(engine, bench_pipeline_context(url))
    senders, payloads, _ids = build_messages(WARM_UP + messages, "counts", SUPPORT)

    def store(lo: int, hi: int) -> None:
        for start in range(lo, hi, 32):  # as the SMTP intake commits them: in groups
            store_raw(engine, [RawInbound(payloads[i][:-3], senders[i].decode(), (SUPPORT,))
                               for i in range(start, min(start + 32, hi))])
    store(0, WARM_UP)
    processor.drain()
    store(WARM_UP, WARM_UP + messages)
    profile, statements_before = cProfile.Profile(), counter[0]
    cpu, wall = time.process_time(), time.perf_counter()
    profile.enable()
    done = processor.drain()
    profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    calls = pstats.Stats(profile).total_calls
    if dump:
        profile.dump_stats(dump)  # for `python -m pstats`, or snakeviz
    engine.dispose()
    print(f"{done} new tickets on {engine.dialect.name}: {calls / done:,.0f} Python function calls, "
          f"{(counter[0] - statements_before) / done:.1f} statements to the driver per ticket; "
          f"CPU {1000 * cpu / done:.2f} ms, wall {1000 * wall / done:.2f} ms per ticket under cProfile")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=1000)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-admin-url", default=PG_ADMIN)
    p.add_argument("--dump", metavar="FILE", help="write the cProfile statistics to FILE")
    args = p.parse_args()
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-counts-"))
        run(create_database(args.database, tmp, stack, args.pg_admin_url), args.messages, args.dump)


if __name__ == "__main__":
    main()
