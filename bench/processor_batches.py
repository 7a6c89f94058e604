"""What a message costs the processor when it comes alone: per-batch overhead and a cold start.

At 100 msgs/s offered the gateway spends 3-4x the CPU per message it spends at full load. This
separates the two causes in-process, on the same N bench mails (bench/smtp_load.py's): batches
of 32 (as at full load), batches of one back to back (the per-batch overhead: the read of the
pending rows, the session, the claim, the staff look-ups a transaction remembers, the commit),
and batches of one with a pause between them (as at a low rate: the thread wakes with cold
caches). CPU per message, from process_time.

    .venv/bin/python bench/processor_batches.py [--messages 300] [--pause-ms 10] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from processor_counts import PG_ADMIN, SUPPORT, WARM_UP, bench_pipeline_context
from scratch_db import create_database
from smtp_load import build_messages


def run(url: str, messages: int, pause: float) -> None:
    from helpdesk.gateway.ground.message import RawInbound
    from helpdesk.gateway.pipeline.processor import Processor
    from helpdesk.store.db import make_engine
    from helpdesk.store.inbound_messages import store_raw
    from helpdesk.store.migrate import upgrade

    logging.disable(logging.WARNING)  # the unwatched queue's warning, once per batch of one
    engine = make_engine(url)
    upgrade(engine)
    ctx = bench_pipeline_context(url)
    runs = (("batches of 32", 32, 0.0), ("batches of 1", 1, 0.0),
            (f"batches of 1, {pause * 1000:.0f} ms apart", 1, pause))
    senders, payloads, _ids = build_messages(WARM_UP + messages * len(runs), "batches", SUPPORT)
    stored = [0]

    def store(count: int) -> None:
        first = stored[0]
        store_raw(engine, [RawInbound(payloads[i][:-3], senders[i].decode(), (SUPPORT,))
                           for i in range(first, first + count)])
        stored[0] += count
    store(WARM_UP)
    Processor(engine, ctx).drain()
    for label, batch, between in runs:
        processor = Processor(engine, ctx, batch=batch)
        store(messages)
        cpu = time.process_time()
        while processor.run_once():
            time.sleep(between)
        cpu = time.process_time() - cpu
        print(f"{engine.dialect.name}, {label}: {1000 * cpu / messages:.2f} ms CPU per message")
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=300)
    p.add_argument("--pause-ms", type=float, default=10.0)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = p.parse_args()
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-batches-"))
        run(create_database(args.database, tmp, stack, args.pg_admin_url), args.messages, args.pause_ms / 1000)


if __name__ == "__main__":
    main()
