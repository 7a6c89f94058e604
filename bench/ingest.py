"""Benchmark of the gateway's SMTP intake: new-ticket mail in, acknowledgements out.

Starts a fresh database (SQLite file or a new PostgreSQL database), optionally prefilled with
existing tickets, an SMTP sink as the relay (own process) and `helpdesk serve` (own process),
then sends N pre-built new-ticket messages over C connections and measures:

- accepted msgs/s: messages / (first MAIL FROM .. last 250 after DATA)
- DATA->250 latency per message: end of DATA ("\\r\\n.\\r\\n" written) to the reply (p50/p99/max)
- end-to-end msgs/s: messages / (first MAIL FROM .. last acknowledgement at the sink)
- 250->ack delay per message (ack matched by its In-Reply-To), and how many took over 2 s
- peak RSS (VmHWM) of the gateway process
- CPU per message of the gateway (all instances), the load generator and a local PostgreSQL server
- from the database afterwards: one ticket and one article per message, none processed twice

`--instances N` (PostgreSQL) starts N gateways on the one database and spreads the connections;
`--instance-cpus Q` caps each at Q CPUs (bench/cpu_quota.py), to compare N with one on a machine
that has fewer cores than N instances would need.

Run from the repository root:  .venv/bin/python bench/ingest.py --messages 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import gc_pauses
from cpu_quota import join, make_quota_group
from gateway_harness import (
    SUPPORT,
    code_version,
    free_port,
    gateway_env,
    helpdesk_cmd,
    start_gateway,
    start_sink,
    stop_gateway,
    wait_for_acks,
)
from host_speed import calibration_ms
from proc_stats import cpu_seconds, own_cpu_seconds, peak_rss_mib, postgres_cpu_seconds
from scratch_db import create_database
from smtp_load import build_messages, run_load

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def prefill(url: str, count: int, chunk: int = 10_000) -> None:
    """Bulk-insert `count` tickets, each with its requester (a client user), one inbound article and a thread_ref."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, insert, text

    from helpdesk.gateway.ground.statuses import TicketStatus
    from helpdesk.store.account_tables import User, UserEmail, UserRole
    from helpdesk.store.models import Article, ThreadRef, Ticket

    engine, now = create_engine(url), datetime.now(UTC)
    with engine.begin() as conn:
        for lo in range(1, count + 1, chunk):
            ids = range(lo, min(lo + chunk, count + 1))
            conn.execute(insert(User), [dict(id=i, display_name=f"Old {i}", active=True, created_at=now)
                                        for i in ids])
            conn.execute(insert(UserEmail), [dict(address=f"old{i}@customer.example", user_id=i, is_primary=True)
                                             for i in ids])
            conn.execute(insert(UserRole), [dict(user_id=i, role="client") for i in ids])
            conn.execute(insert(Ticket), [dict(id=i, subject=f"Old problem {i}", requester_id=i, created_at=now,
                                               status=list(TicketStatus)[i % 5], priority="normal", queue="general",
                                               updated_at=now, closed_at=now if i % 5 == 4 else None)
                                          for i in ids])
            conn.execute(insert(Article), [dict(ticket_id=i, direction="in", channel="email", created_at=now,
                                                sender=f"old{i}@customer.example", subject=f"Old problem {i}",
                                                message_id=f"old-{i}@customer.example", text=f"Old text {i}. " * 20)
                                           for i in ids])
            conn.execute(insert(ThreadRef), [dict(message_id=f"old-{i}@customer.example", ticket_id=i) for i in ids])
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("user_account", "ticket"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Start from a tidy state: WAL folded into the file / statistics as autovacuum would have them.
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)" if conn.dialect.name == "sqlite" else "ANALYZE"))
    engine.dispose()


def dist(seconds: list[float], digits: int = 1) -> dict:
    """p50/p99/max (nearest rank) of durations in seconds, in ms."""
    ordered = sorted(seconds)
    at = lambda p: round(1000 * ordered[max(0, -(-len(ordered) * p // 100) - 1)], digits)  # noqa: E731
    return {"p50": at(50), "p99": at(99), "max": at(100)} if ordered else {"p50": None, "p99": None, "max": None}


def summarize(res, ids: list[str], arrivals: list, ack_wait: float) -> dict:
    n = len(ids)
    ok = [i for i in range(n) if res.codes[i] == 250]
    acks = {mid: t for mid, t in arrivals if mid is not None}
    ack_delays = [acks[ids[i]] - res.replied[i] for i in ok if ids[i] in acks]
    first = min(t for t in res.started if t > 0)
    our_acks = [acks[m] for m in ids if m in acks]
    return {
        "sent": n, "replies_250": len(ok), "replies_other": sum(1 for c in res.codes if c not in (0, 250)),
        "no_reply": res.codes.count(0), "acks_received": len(our_acks),
        "acks_unmatched": len(arrivals) - len(our_acks), "client_errors": res.errors[:5],
        "accepted_per_s": round(len(ok) / (max(res.replied[i] for i in ok) - first), 1) if ok else None,
        "data_to_250_ms": dist([res.replied[i] - res.data_end[i] for i in ok], 2),
        "end_to_end_per_s": round(n / (max(our_acks) - first), 1) if len(our_acks) == n else None,
        "ack_delay_ms": {**dist(ack_delays), "over_2s": sum(1 for d in ack_delays if d > 2.0)},
        "ack_wait_s": round(ack_wait, 2),
    }


def start_profiler(args, pid: int) -> subprocess.Popen | None:
    if not args.py_spy:
        return None
    # gil: in one process, what holds the GIL is what costs throughput; waits: every thread of every
    # process (HELPDESK_PROCESSING_PROCESSES's too), waiting included, to see what each one waits for;
    # cpu: every process, only threads on a CPU, to see where the whole gateway's CPU goes.
    mode = {"gil": ["--gil"], "waits": ["--idle", "--subprocesses"], "cpu": ["--subprocesses"]}[args.py_spy_mode]
    proc = subprocess.Popen([args.py_spy_bin, "record", *mode, "-r", "250", "-o", args.py_spy, "--format", "raw",
                             "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # let it attach
    return proc


def processed_once(url: str, messages: int) -> dict:
    """What the database says: each sent message made one ticket and one article, none twice."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        articles, distinct = conn.execute(text(
            "SELECT count(*), count(DISTINCT message_id) FROM article WHERE direction = 'in'")).one()
        tickets = conn.execute(text("SELECT count(*) FROM ticket")).scalar_one()
    engine.dispose()
    return {"tickets": tickets, "inbound_articles": articles, "processed_twice": articles - distinct,
            "all_once": tickets == articles == distinct == messages}


def measure(args, gateways: list[subprocess.Popen], smtp_ports: list[int], sink_conn, counter,
            sink_pid: int) -> dict:
    """Send the load, wait for the acknowledgements, collect the figures (gateways still running)."""
    senders, payloads, ids = build_messages(args.messages, secrets.token_hex(4), SUPPORT)
    profiler = start_profiler(args, gateways[0].pid)
    log(f"gateway pids {[g.pid for g in gateways]} ready on ports {smtp_ports}; sending {args.messages} messages")
    yardstick = calibration_ms()  # the host's speed now, as the load starts
    cpu0, own0 = [cpu_seconds(g.pid) for g in gateways], time.process_time()
    main0, sink0 = [own_cpu_seconds(g.pid) for g in gateways], own_cpu_seconds(sink_pid)
    pg0 = postgres_cpu_seconds() if args.database == "postgresql" else 0.0
    gc0 = gc_pauses.totals(args.gc_dir)
    res = asyncio.run(run_load("127.0.0.1", smtp_ports, SUPPORT, senders, payloads, args.concurrency, args.rate,
                             args.client_pipelining))
    own_cpu = time.process_time() - own0
    ack_wait = wait_for_acks(counter, sum(1 for c in res.codes if c == 250))
    gateway_cpu = [cpu_seconds(g.pid) - c for g, c in zip(gateways, cpu0)]
    main_cpu = [own_cpu_seconds(g.pid) - c for g, c in zip(gateways, main0)]
    sink_cpu = own_cpu_seconds(sink_pid) - sink0
    pg_cpu = postgres_cpu_seconds() - pg0 if args.database == "postgresql" else None
    gc_spent = gc_pauses.during(gc0, gc_pauses.totals(args.gc_dir)) if args.gc_dir else None
    if profiler:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(60)
    rss = max(peak_rss_mib(g.pid) or 0 for g in gateways)
    sink_conn.send("stop")
    result = summarize(res, ids, sink_conn.recv() if sink_conn.poll(30) else [], ack_wait)
    result.update(gateway_cpu_ms_per_msg=round(1000 * sum(gateway_cpu) / args.messages, 2),
                  instance_cpu_s=[round(c, 2) for c in gateway_cpu],
                  main_process_cpu_ms_per_msg=round(1000 * sum(main_cpu) / args.messages, 2),
                  postgres_cpu_ms_per_msg=None if pg_cpu is None else round(1000 * pg_cpu / args.messages, 2),
                  loadgen_cpu_ms_per_msg=round(1000 * own_cpu / args.messages, 3),
                  sink_cpu_ms_per_msg=round(1000 * sink_cpu / args.messages, 3),
                  gateway_peak_rss_mib=round(rss, 1) if rss else None, gc_during_load=gc_spent,
                  host_yardstick_ms=yardstick,
                  gateway_cpu_per_yardstick=round(sum(gateway_cpu) / args.messages / yardstick * 1e6, 1))
    return result


def run(args) -> dict:
    config = {k: v for k, v in vars(args).items() if k not in ("py_spy_bin", "pg_admin_url")}
    config.update(code=code_version(), load_avg_1m_at_start=round(os.getloadavg()[0], 2))
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        url = create_database(args.database, tmp, stack, args.pg_admin_url)
        smtp_ports = [free_port() for _ in range(args.instances)]
        logs = [tmp / f"gateway{n + 1}.log" for n in range(args.instances)]
        subprocess.run([helpdesk_cmd(), "db", "upgrade"], env=gateway_env(url, tmp, smtp_ports[0], 0), cwd=tmp,
                       check=True, stdout=subprocess.DEVNULL)
        if args.prefill:
            t = time.monotonic()
            prefill(url, args.prefill)
            log(f"prefilled {args.prefill} tickets in {time.monotonic() - t:.1f} s")
        sink_pids: list[int] = []
        sink_port, sink_conn, counter = start_sink(stack, not args.relay_without_pipelining, sink_pids)
        extra = dict(item.split("=", 1) for item in args.gateway_env)
        args.gc_dir = tmp / "gc" if args.gc_timing else None
        if args.gc_dir:
            extra.update(gc_pauses.gateway_env(args.gc_dir))
        quotas = [join(make_quota_group(f"helpdesk-bench-{os.getpid()}-{n + 1}", args.instance_cpus, stack))
                  if args.instance_cpus else None for n in range(args.instances)]
        gateways = [start_gateway({**gateway_env(url, tmp, port, sink_port), **extra}, port, logfile, stack, quota)
                    for port, logfile, quota in zip(smtp_ports, logs, quotas)]
        result = measure(args, gateways, smtp_ports, sink_conn, counter, sink_pids[0])
        result["gateway_exit_code"] = max(stop_gateway(g) for g in gateways)
        result.update(processed_once(url, args.messages))
        lines = [ln for logfile in logs for ln in logfile.read_text(errors="replace").splitlines()]
        problems = [ln for ln in lines if " WARNING " in ln or " ERROR " in ln or "Traceback" in ln]
        result.update(gateway_log_problems=len(problems), gateway_log_sample=problems[:3])
        return {"config": config, "results": result}


def print_summary(out: dict) -> None:
    c, r = out["config"], out["results"]
    lat, ack = r["data_to_250_ms"], r["ack_delay_ms"]
    print(f"helpdesk intake: {c['messages']} msgs, concurrency {c['concurrency']}, instances {c['instances']}"
          + (f" at {c['instance_cpus']} CPUs each" if c.get("instance_cpus") else "") + ", "
          f"rate {c['rate'] or 'max'}, {c['database']}, prefill {c['prefill']}")
    print(f"  code {c['code']}, load average at start {c['load_avg_1m_at_start']}")
    print(f"  sent {r['sent']}  250 {r['replies_250']}  other {r['replies_other']}  no reply {r['no_reply']}  "
          f"acks {r['acks_received']} (unmatched {r['acks_unmatched']})")
    print(f"  accepted        {r['accepted_per_s']} msgs/s")
    print(f"  DATA->250       p50 {lat['p50']} ms  p99 {lat['p99']} ms  max {lat['max']} ms")
    print(f"  end to end      {r['end_to_end_per_s']} msgs/s")
    print(f"  250->ack        p50 {ack['p50']} ms  p99 {ack['p99']} ms  max {ack['max']} ms  "
          f"over 2 s: {ack['over_2s']}")
    print(f"  CPU per message gateway {r['gateway_cpu_ms_per_msg']} ms (instances' CPU {r['instance_cpu_s']} s, "
          f"{r['main_process_cpu_ms_per_msg']} ms/msg in the main processes), "
          f"load generator {r['loadgen_cpu_ms_per_msg']} ms, sink {r['sink_cpu_ms_per_msg']} ms"
          + (f", PostgreSQL server {r['postgres_cpu_ms_per_msg']} ms" if r["postgres_cpu_ms_per_msg"] else ""))
    print(f"  host yardstick  {r['host_yardstick_ms']} ms (bench/host_speed.py); gateway CPU per message "
          f"{r['gateway_cpu_per_yardstick']} µs per ms of it")
    if r.get("gc_during_load"):
        print("  collections     " + ", ".join(f"generation {g}: {v['collections']} in {v['ms']} ms"
                                             for g, v in r["gc_during_load"].items()))
    print(f"  database        {r['tickets']} tickets, {r['inbound_articles']} inbound articles, "
          f"processed twice: {r['processed_twice']}")
    print(f"  gateway         peak RSS {r['gateway_peak_rss_mib']} MiB, exit code {r['gateway_exit_code']}, "
          f"{r['gateway_log_problems']} warning/error log lines")
    for line in r["gateway_log_sample"] + r["client_errors"]:
        print(f"    {line}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--rate", type=float, default=0, help="offered msgs/s (0 = as fast as possible)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--prefill", type=int, default=0, help="existing tickets to create first")
    p.add_argument("--instances", type=int, default=1,
                   help="gateway processes on the one database (PostgreSQL), the connections spread over them")
    p.add_argument("--instance-cpus", type=float, metavar="Q",
                   help="each instance (with its processing processes) in a cgroup of its own, limited to Q CPUs "
                        "(root; bench/cpu_quota.py): instances compared without oversubscribing the machine")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--client-pipelining", action="store_true",
                   help="the load generator pipelines MAIL, RCPT and DATA, as MTAs do (the listener offers it)")
    p.add_argument("--relay-without-pipelining", action="store_true",
                   help="the sink does not offer PIPELINING (by default it does, as Postfix)")
    p.add_argument("--gc-timing", action="store_true",
                   help="time the gateway's garbage collections during the load (bench/gc_pauses.py)")
    p.add_argument("--gateway-env", action="append", default=[], metavar="HELPDESK_X=V",
                   help="a setting for the gateways (repeatable), e.g. HELPDESK_RELAY_CONNECTIONS=4")
    p.add_argument("--pg-admin-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES", PG_ADMIN))
    p.add_argument("--py-spy", metavar="FILE", help="record a py-spy profile (raw format) of the gateway")
    p.add_argument("--py-spy-mode", choices=("gil", "waits", "cpu"), default="gil",
                   help="gil: what holds the GIL; waits: all threads of all the gateway's processes, waiting included; "
                        "cpu: all processes, only what runs on a CPU")
    p.add_argument("--py-spy-bin", default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"))
    args = p.parse_args()
    if args.instances > 1 and args.database != "postgresql":
        p.error("several instances share a PostgreSQL database; SQLite is one instance's embedded store")
    out = run(args)
    print(json.dumps(out)) if args.json else print_summary(out)
    r = out["results"]
    good = r["replies_250"] == r["sent"] == r["acks_received"] and r["gateway_exit_code"] == 0 and r["all_once"]
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
