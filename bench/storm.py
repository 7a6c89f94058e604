"""Benchmark of a monitoring storm: 1,000 mails for 5 fingerprints from a client's monitoring system,
sent within 10 seconds over several SMTP connections to a real `helpdesk serve`.

Starts a fresh database (SQLite file, or a new PostgreSQL database with --database-url), an SMTP
sink as the relay (own process) and the gateway (own process) with a rules file whose
`monitoring:` section names the storm's sender, one client organization with five objects and one
technician in the queue. Then it sends the storm and reports:
- absorbed_s: first MAIL FROM .. every stored message processed
- DATA->250 per message (p50/p99/max)
- tickets (must be 5), the occurrence counts per fingerprint (must sum to the mails sent),
  notifications at the sink (5: one per new ticket to the technician), lost mail (must be 0)

Run from the repository root:  .venv/bin/python bench/storm.py [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_harness import (  # noqa: E402  (bench modules import each other by path, as ingest.py does)
    SUPPORT,
    code_version,
    free_port,
    gateway_env,
    helpdesk_cmd,
    start_gateway,
    start_sink,
    stop_gateway,
)
from ingest import dist  # noqa: E402
from proc_stats import cpu_seconds  # noqa: E402
from scratch_db import create_database  # noqa: E402
from smtp_load import run_load  # noqa: E402

MONITOR = "zabbix@storm.example"
TECHNICIAN = "tech@provider.example"
RULES = f"""\
queues:
  operations: Operation problems
default: {{queue: operations, priority: high, assign: broadcast}}
monitoring:
  - name: storm-zabbix
    senders: [{MONITOR}]
    subject: '^(?P<state>PROBLEM|RESOLVED): (?P<problem>.+?) on (?P<object>[A-Za-z0-9._-]+)$'
    recovery: RESOLVED
    resolve_on_recovery: true
    flapping_minutes: 30
"""
PROBLEMS = [("Disk full", "SRV-01"), ("CPU load", "SRV-02"), ("Ping loss", "SRV-03"), ("Disk full", "SRV-04"),
            ("Service down", "SRV-05")]


def log(msg: str) -> None:
    print(f"[storm] {msg}", file=sys.stderr, flush=True)


def build_storm(n: int, run_id: str) -> tuple[list[bytes], list[bytes]]:
    """n monitoring mails cycling through the five fingerprints."""
    senders, payloads, date = [], [], formatdate(localtime=False)
    for i in range(n):
        problem, host = PROBLEMS[i % len(PROBLEMS)]
        text = (f"From: Zabbix <{MONITOR}>\r\nTo: {SUPPORT}\r\nSubject: PROBLEM: {problem} on {host}\r\n"
                f"Date: {date}\r\nMessage-ID: <storm-{run_id}-{i}@storm.example>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Trigger: {problem}\r\nHost: {host}\r\nSeverity: High\r\nEvent ID: {i}\r\n")
        senders.append(MONITOR.encode())
        payloads.append(text.encode() + b".\r\n")
    return senders, payloads


def provision(url: str) -> None:
    """The client with its objects, and a technician in the queue (the queue row exists once serve started)."""
    from helpdesk.gateway.accounts.directory import add_org, add_user
    from helpdesk.gateway.accounts.queues import find_queue, set_membership
    from helpdesk.store.db import make_engine, new_session
    from helpdesk.store.object_tables import ClientObject

    engine = make_engine(url)
    with new_session(engine) as session, session.begin():
        org = add_org(session, "Storm Client", ["storm.example"])
        session.flush()
        session.add_all([ClientObject(organization_id=org.id, identifier=host, name=host) for _, host in PROBLEMS])
        add_user(session, "Tech One", [TECHNICIAN], roles=("technician",))
        set_membership(session, find_queue(session, "operations"), TECHNICIAN, member=True)
    engine.dispose()


def database_state(url: str) -> dict:
    from sqlalchemy import func, select

    from helpdesk.store.db import make_engine, new_session
    from helpdesk.store.models import InboundMessage, Ticket
    from helpdesk.store.object_tables import Fault

    engine = make_engine(url)
    with new_session(engine) as s:
        statuses = dict(s.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status)).all())
        faults = {f.fingerprint: f.occurrences for f in s.execute(select(Fault)).scalars()}
        tickets = s.execute(select(func.count()).select_from(Ticket)).scalar()
    engine.dispose()
    return {"inbound": statuses, "faults": faults, "tickets": tickets}


def wait_absorbed(url: str, expected: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = database_state(url)
        if state["inbound"].get("processed", 0) + state["inbound"].get("quarantined", 0) >= expected \
                or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def run(args) -> dict:
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-storm-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        url = create_database("postgresql" if args.database_url else "sqlite", tmp, stack, args.database_url
                              or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        rules = tmp / "rules.yaml"
        rules.write_text(RULES, encoding="utf-8")
        smtp_port = free_port()
        env = gateway_env(url, tmp, smtp_port, 0) | {"HELPDESK_RULES": str(rules)}
        subprocess.run([helpdesk_cmd(), "db", "upgrade"], env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        sink_port, sink_conn, counter = start_sink(stack)
        env = gateway_env(url, tmp, smtp_port, sink_port) | {"HELPDESK_RULES": str(rules)}
        gateway = start_gateway(env, smtp_port, tmp / "gateway.log", stack)
        provision(url)
        senders, payloads = build_storm(args.messages, secrets.token_hex(4))
        rate = args.messages / args.seconds
        log(f"sending {args.messages} mails over {args.connections} connections at {rate:.0f}/s")
        cpu0, t0 = cpu_seconds(gateway.pid), time.monotonic()
        res = asyncio.run(run_load("127.0.0.1", smtp_port, SUPPORT, senders, payloads, args.connections, rate))
        sent_s = max(res.replied) - t0
        state = wait_absorbed(url, sum(1 for c in res.codes if c == 250))
        absorbed_s = time.monotonic() - t0
        gateway_cpu = cpu_seconds(gateway.pid) - cpu0
        time.sleep(args.settle)  # the dispatcher hands the notifications to the sink
        notifications = counter.value
        stop_gateway(gateway)
        accepted = sum(1 for c in res.codes if c == 250)
        processed = state["inbound"].get("processed", 0)
        return {"config": {**vars(args), "database": "postgresql" if args.database_url else "sqlite",
                           "code": code_version(), "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
                "results": {"sent": args.messages, "accepted_250": accepted, "sent_within_s": round(sent_s, 2),
                            "absorbed_s": round(absorbed_s, 2),
                            "data_to_250_ms": dist([res.replied[i] - res.data_end[i]
                                                    for i in range(args.messages) if res.codes[i] == 250], 2),
                            "tickets": state["tickets"], "occurrences": state["faults"],
                            "occurrences_sum": sum(state["faults"].values()), "notifications": notifications,
                            "inbound": state["inbound"], "lost": args.messages - processed,
                            "gateway_cpu_ms_per_msg": round(1000 * gateway_cpu / args.messages, 2),
                            "client_errors": res.errors[:5]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="send the storm within this many seconds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server's admin URL: a new database is made on it (default: SQLite)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait for notifications to reach the sink")
    out = run(parser.parse_args())
    print(json.dumps(out, indent=2))
    r = out["results"]
    ok = r["tickets"] == 5 and r["occurrences_sum"] == r["sent"] and r["notifications"] == 5 and r["lost"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
