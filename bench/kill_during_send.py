"""Kill -9 `helpdesk serve` while it is sending, restart it, and measure what became of the outbox.

Makes a fresh database (SQLite file or a new PostgreSQL database), an SMTP sink as the relay (in
this process; `--relay-delay` makes it take that long per mail, like a real relay, so rows are in
flight) and `helpdesk serve` (its own process, log in a file). Sends a burst of N new-ticket
mails over C connections; as soon as the sink has received K acknowledgements, the gateway is
killed with SIGKILL in the middle of the burst. Then it counts the outbox rows that were claimed
(in flight) at the kill, restarts the gateway, re-sends the mails that got no 250 (as the sending
MTA would) and waits for every acknowledgement. Reports:

- the last acknowledgement's arrival after the restart (from the new process's start, and from
  its ready line), for the mails accepted before the kill and for all;
- duplicates at the sink (copies beyond the first of a Message-ID) against the rows claimed (in
  flight) at the kill, and whether every second copy has the same bytes (receivers deduplicate);
- missing acknowledgements (must be 0).

Run from the repository root:  .venv/bin/python bench/kill_during_send.py --messages 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.ingest import PG_ADMIN, code_version, create_database, free_port, helpdesk_cmd  # noqa: E402
from tests.mail import client_mail  # noqa: E402
from tests.smtp_sink import SmtpSink, _Handler, _PortController  # noqa: E402

SUPPORT = "support@helpdesk.test"


class _SlowRelay(_Handler):
    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return await super().handle_DATA(server, session, envelope)


class Relay(SmtpSink):
    """The sink of the tests, answering each DATA after `delay` seconds."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay
        self._controller = _PortController(_SlowRelay(self), hostname=self.host, port=0, enable_SMTPUTF8=True,
                                           data_size_limit=None)


def gateway_env(url: str, tmp: Path, smtp_port: int, relay_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_DATABASE_URL=url, HELPDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
               HELPDESK_RELAY=f"127.0.0.1:{relay_port}", HELPDESK_SUPPORT_ADDRESS=SUPPORT,
               HELPDESK_RULES=str(REPO / "rules.yaml"), HELPDESK_ENV_FILE=str(tmp / "none.env"),
               HELPDESK_SECRET_KEY="bench-secret-key-0123456789", HELPDESK_OUTBOX_DIR=str(tmp / "outbox"))
    return env  # every other setting at its default: the 300-second lease, the 10-second staleness


def start_gateway(env: dict, logfile: Path) -> subprocess.Popen:
    with logfile.open("ab") as log_fh:
        proc = subprocess.Popen([helpdesk_cmd(), "serve"], env=env, cwd=logfile.parent, stdin=subprocess.DEVNULL,
                                stdout=log_fh, stderr=subprocess.STDOUT)
    deadline, seen = time.monotonic() + 60, logfile.stat().st_size if logfile.exists() else 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gateway exited with {proc.returncode}:\n{logfile.read_text()[-2000:]}")
        if "ready: SMTP on" in logfile.read_text(errors="replace")[seen:]:
            return proc
        time.sleep(0.02)
    raise SystemExit("gateway did not become ready within 60 s")


def send_burst(port: int, mails: list, connections: int) -> dict[str, bool]:
    """Send over `connections` SMTP sessions; Message-ID -> whether it got its 250 (False after the kill)."""
    accepted = {m["Message-ID"]: False for m in mails}

    def one_connection(share):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                for mail in share:
                    smtp.send_message(mail)
                    accepted[mail["Message-ID"]] = True
        except (OSError, smtplib.SMTPException):
            pass  # the gateway was killed: the rest of this share waits for the restart

    threads = [threading.Thread(target=one_connection, args=(mails[i::connections],)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted


def outbox_counts(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from helpdesk.store.db import make_engine
    from helpdesk.store.models import Outbox
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = dict(conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
    engine.dispose()
    return counts


def wait_for_acks(relay: Relay, wanted: set[str], timeout: float) -> dict[str, float]:
    """Message-ID answered -> monotonic time its first acknowledgement arrived."""
    arrived: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline and not wanted <= arrived.keys():
        for caught in relay.messages[seen:]:
            arrived.setdefault(caught.message["In-Reply-To"], time.monotonic())
            seen += 1
        time.sleep(0.005)
    return arrived


def run(args) -> dict:
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-kill-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        url = create_database(args.database, tmp, stack, args.pg_admin_url)
        relay = Relay(args.relay_delay / 1000).start()
        stack.callback(relay.stop)
        env, logfile = gateway_env(url, tmp, free_port(), relay.port), tmp / "gateway.log"
        port = int(env["HELPDESK_SMTP_LISTEN"].rsplit(":", 1)[1])
        gateway = start_gateway(env, logfile)
        mails = [client_mail(sender=f"burst{i}@client.example", subject=f"Burst {i}") for i in range(args.messages)]
        outcome: dict[str, bool] = {}
        load = threading.Thread(target=lambda: outcome.update(send_burst(port, mails, args.concurrency)))
        load.start()
        deadline = time.monotonic() + 60
        while len(relay.messages) < args.kill_after and time.monotonic() < deadline:
            time.sleep(0.001)
        gateway.send_signal(signal.SIGKILL)
        gateway.wait()
        acks_at_kill = len(relay.messages)
        load.join()
        time.sleep(0.5)  # the relay finishes the DATA that was in flight (a real relay would keep it)
        at_kill = outbox_counts(url)

        spawned = time.monotonic()
        restarted = start_gateway(env, logfile)
        ready = time.monotonic()
        unanswered = [m for m in mails if not outcome.get(m["Message-ID"])]
        resent = send_burst(port, unanswered, args.concurrency)
        accepted_before = {mid for mid, ok in outcome.items() if ok}
        wanted = {m["Message-ID"] for m in mails}
        arrived = wait_for_acks(relay, wanted, args.wait)
        restarted.send_signal(signal.SIGTERM)
        exit_code = restarted.wait(60)
        copies = defaultdict(list)
        for caught in relay.messages:
            copies[caught.message["Message-ID"]].append(caught.raw)
        last = lambda ids: max((arrived[i] for i in ids if i in arrived), default=None)  # noqa: E731
        before_last, all_last = last(accepted_before), last(wanted)
        return {
            "config": {**{k: v for k, v in vars(args).items() if k != "pg_admin_url"}, "code": code_version(),
                       "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
            "results": {
                "accepted_before_kill": len(accepted_before), "acks_at_kill": acks_at_kill,
                "outbox_at_kill": at_kill, "claimed_at_kill": at_kill.get("sending", 0),
                "resent_after_restart": len(unanswered), "resent_accepted": sum(resent.values()),
                "restart_to_ready_s": round(ready - spawned, 2),
                "last_ack_of_accepted_after_restart_s": before_last and round(before_last - spawned, 2),
                "last_ack_after_restart_s": all_last and round(all_last - spawned, 2),
                "last_ack_after_ready_s": all_last and round(all_last - ready, 2),
                "missing_acks": len(wanted - arrived.keys()),
                "duplicates": len(relay.messages) - len(copies),
                "duplicates_identical": all(len(set(raws)) == 1 for raws in copies.values()),
                "gateway_exit_code": exit_code,
            },
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--kill-after", type=int, default=40, help="kill when the sink has this many acknowledgements")
    p.add_argument("--relay-delay", type=float, default=5.0, help="ms the relay takes per mail")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the acknowledgements")
    p.add_argument("--json", action="store_true")
    p.add_argument("--pg-admin-url", default=os.environ.get("HELPDESK_BENCH_POSTGRES", PG_ADMIN))
    args = p.parse_args()
    out = run(args)
    r = out["results"]
    if args.json:
        print(json.dumps(out))
    else:
        print(f"kill -9 during send: {args.messages} mails, {args.database}, code {out['config']['code']}")
        for key, value in r.items():
            print(f"  {key:38} {value}")
    good = (r["missing_acks"] == 0 and r["duplicates"] <= r["claimed_at_kill"] and r["duplicates_identical"]
            and r["last_ack_after_restart_s"] is not None and r["last_ack_after_restart_s"] <= 10
            and r["gateway_exit_code"] == 0)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
