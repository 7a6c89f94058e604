"""Benchmark: a backlog of N messages in an IMAP mailbox (real Dovecot), worked off by `helpdesk serve`.

Reports the time until every message is a ticket (throughput), until every acknowledgement
reached the SMTP sink, the gateway's peak RSS, and how long mail sent over SMTP while the
backlog is being worked off takes to become a ticket ("new mail keeps flowing").

    .venv/bin/python bench/imap_backlog.py [--messages 10000] [--batch 100] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.gateway_harness import (  # noqa: E402
    SUPPORT,
    free_port,
    gateway_env,
    start_gateway,
    start_sink,
    stop_gateway,
    wait_for_acks,
)
from bench.proc_stats import peak_rss_mib  # noqa: E402
from bench.scratch_db import create_database  # noqa: E402
from bench.smtp_load import build_messages  # noqa: E402
from helpdesk.store.models import Article, Ticket  # noqa: E402
from tests.imap_server import PASSWORD, Dovecot  # noqa: E402


def fill_maildir(server: Dovecot, user: str, payloads: list[bytes]) -> None:
    """Deliver straight into the Maildir: much faster than APPENDing 10,000 messages."""
    maildir = Path(server.directory) / "mail" / user / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for i, payload in enumerate(payloads):
        (maildir / "new" / f"{stamp}.M{i}P{os.getpid()}.bench").write_bytes(payload.removesuffix(b".\r\n"))
    subprocess.run(["chown", "-R", "mail:mail", str(Path(server.directory) / "mail")], check=True)


def count(engine, column) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(column.table)).scalar()


def send_during_backlog(port: int, n: int, every: float, sent: dict) -> None:
    """SMTP mail sent while the backlog is worked off; records when each was accepted."""
    for i in range(n):
        msg_id = f"live-{i}-{time.time_ns()}@bench.example"
        raw = (f"From: live{i}@bench.example\r\nTo: {SUPPORT}\r\nSubject: live {i}\r\n"
               f"Message-ID: <{msg_id}>\r\n\r\nnew mail during the backlog\r\n").encode()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail(f"live{i}@bench.example", [SUPPORT], raw)
        sent[msg_id] = time.monotonic()
        time.sleep(every)


def run(args) -> dict:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="imap-bench-")))
        url = create_database(args.database, tmp, stack, args.pg_admin_url)
        server = Dovecot.start(free_port(), users=1)
        stack.callback(server.stop)
        user = server.new_user()
        _, payloads, _ = build_messages(args.messages, "imap", SUPPORT)
        fill_maildir(server, user, payloads)
        sink_port, _, counter = start_sink(stack)
        smtp_port = free_port()
        env = gateway_env(url, tmp, smtp_port, sink_port)
        env["HELPDESK_TEST_IMAP_PASSWORD"] = PASSWORD
        env["HELPDESK_IMAP_MAILBOXES"] = json.dumps([{
            "name": "bench", "host": "127.0.0.1", "port": server.port, "security": "none", "user": user,
            "password_env": "HELPDESK_TEST_IMAP_PASSWORD", "batch": args.batch}])
        engine = create_engine(url)
        stack.callback(engine.dispose)
        started = time.monotonic()
        gateway = start_gateway(env, smtp_port, tmp / "gateway.log", stack)
        live: dict[str, float] = {}
        sender = threading.Thread(target=send_during_backlog, args=(smtp_port, args.live, 0.25, live))
        threading.Timer(2.0, sender.start).start()
        live_done: dict[str, float] = {}
        while count(engine, Ticket.id) < args.messages + args.live:
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"timeout: {count(engine, Ticket.id)} tickets")
            with engine.connect() as conn:
                for msg_id in [m for m in live if m not in live_done]:
                    if conn.execute(select(Article.id).where(Article.message_id == msg_id)).first():
                        live_done[msg_id] = time.monotonic()
            time.sleep(0.2)
        tickets_s = time.monotonic() - started
        wait_for_acks(counter, args.messages + args.live)
        acks_s = time.monotonic() - started
        rss = peak_rss_mib(gateway.pid)
        code = stop_gateway(gateway)
        delays = [live_done.get(m, time.monotonic()) - t for m, t in live.items()]
        return {"messages": args.messages, "database": args.database, "batch": args.batch,
                "tickets_seconds": round(tickets_s, 1), "tickets_per_second": round(args.messages / tickets_s, 1),
                "acks_seconds": round(acks_s, 1), "acks": counter.value, "peak_rss_mib": rss, "exit_code": code,
                "live_smtp_to_ticket_s": {"median": round(statistics.median(delays), 2),
                                          "max": round(max(delays), 2)} if delays else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--live", type=int, default=20, help="SMTP messages sent during the backlog")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=600)
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
