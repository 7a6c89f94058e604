"""Hostile SMTP clients against the real gateway: its memory under 1,000 connections at once.

Starts `helpdesk serve` on a fresh SQLite database (its own process, log level WARNING, no
relay), then opens N connections at once. Each one that is greeted sends a command line that
never ends (`--mode at-once`: 1 MiB in one write; `slow`: in chunks with pauses) or nothing at
all (`idle`), and holds the connection. Meanwhile the gateway's VmRSS is sampled from
/proc/<pid>/status. Then every client ends its line (the answer is counted) and closes, and
the RSS is read again after a pause. Finally one ordinary mail must still get its 250.

Reports the gateway's RSS before, at peak (sampled VmRSS, and VmHWM) and after, how many
connections were greeted and how many got 421, and the gateway's CPU time.

Run from the repository root:  .venv/bin/python bench/hostile_smtp.py --connections 1000
Old code for comparison: --code /path/to/another/checkout (run through PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

from gateway_harness import SUPPORT, code_version, free_port, gateway_env, helpdesk_cmd, start_gateway, stop_gateway
from proc_stats import cpu_seconds

MIB = 1 << 20


def log(msg: str) -> None:
    print(f"[hostile] {msg}", file=sys.stderr, flush=True)


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak since start) of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every 20 ms and keeps the largest."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, memory_mib(self.pid)["VmRSS"])


class Hostiles:
    """N clients that connect at once, send an unfinished command line, hold, then end it and leave."""

    def __init__(self, args, port: int):
        self.args, self.port = args, port
        self.line = b"MAIL FROM:<" + b"x" * args.line_bytes  # no CRLF
        self.tally: Counter[str] = Counter()
        self.placed: set[int] = set()  # clients holding their connection, or done

    async def run(self, on_holding) -> Counter[str]:
        release = asyncio.Event()
        tasks = [asyncio.create_task(self.client(i, release)) for i in range(self.args.connections)]
        deadline = time.monotonic() + 120
        while len(self.placed) < len(tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(on_holding)  # the clients hold their connections meanwhile
        release.set()
        await asyncio.gather(*tasks)
        return self.tally

    async def client(self, i: int, release: asyncio.Event) -> None:
        source = f"127.0.0.{1 + i % self.args.source_ips}"  # Linux answers for all of 127/8
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0), limit=MIB), 60)
        except (OSError, asyncio.TimeoutError) as exc:
            self.tally[f"connect failed: {type(exc).__name__}"] += 1
            self.placed.add(i)
            return
        try:
            await self.converse(i, reader, writer, release)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
            self.tally[f"error: {type(exc).__name__}"] += 1
        finally:
            self.placed.add(i)
            writer.close()

    async def converse(self, i: int, reader, writer, release: asyncio.Event) -> None:
        greeting = await asyncio.wait_for(reader.readline(), 60)
        self.tally[f"greeting {greeting[:3].decode(errors='replace') or 'none'}"] += 1
        if not greeting.startswith(b"220"):
            return
        await self.send_line(writer)
        self.placed.add(i)
        await release.wait()
        if self.args.mode != "idle":
            writer.write(b">\r\n")
            answer = await asyncio.wait_for(reader.readline(), 60)
            self.tally[f"line answered {answer[:3].decode(errors='replace') or 'none'}"] += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()

    async def send_line(self, writer) -> None:
        if self.args.mode == "idle":
            return
        step = len(self.line) if self.args.mode == "at-once" else self.args.chunk_bytes
        for start in range(0, len(self.line), step):
            writer.write(self.line[start:start + step])
            await writer.drain()
            if self.args.mode == "slow":
                await asyncio.sleep(self.args.chunk_pause)


def ordinary_mail_code(port: int) -> int:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "jan@client.example", SUPPORT, "After the storm"
    msg.set_content("Still there?")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(msg)
        return 250
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code


def measure(args, gateway: subprocess.Popen, port: int) -> dict:
    time.sleep(args.settle)  # let start-up allocations (templates, rules, migrations) finish
    before, cpu0 = memory_mib(gateway.pid), cpu_seconds(gateway.pid)
    sampler = RssSampler(gateway.pid)
    sampler.start()
    t0 = time.monotonic()
    holding: dict = {}

    def hold() -> None:
        holding["load_s"] = round(time.monotonic() - t0, 2)
        time.sleep(args.hold)
        holding.update(memory_mib(gateway.pid))

    tally = asyncio.run(Hostiles(args, port).run(hold))
    sampler.stop.set()
    sampler.join()
    time.sleep(args.settle)  # the gateway closes its side and frees what it can
    after = memory_mib(gateway.pid)
    return {"rss_before_mib": before["VmRSS"], "rss_while_held_mib": holding.get("VmRSS"),
            "rss_peak_sampled_mib": sampler.peak, "vmhwm_mib": after["VmHWM"], "rss_after_mib": after["VmRSS"],
            "connect_and_send_s": holding.get("load_s"), "gateway_cpu_s": round(cpu_seconds(gateway.pid) - cpu0, 2),
            "clients": dict(sorted(tally.items())), "ordinary_mail_after": ordinary_mail_code(port)}


def checkout_env(env: dict, code: Path | None, tmp: Path) -> dict:
    """Run another checkout's code: a `helpdesk` symlink to it goes first on PYTHONPATH."""
    if code is None:
        return env
    shim = tmp / "pythonpath"
    shim.mkdir()
    (shim / "helpdesk").symlink_to(code.resolve())
    return {**env, "PYTHONPATH": str(shim)}


def code_of(code: Path | None) -> str:
    if code is None:
        return code_version()
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=code, capture_output=True, check=False).stdout.decode().strip()
    dirty = "+uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty} at {code}"


def run(args) -> dict:
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    config.update(code=code_of(args.code), load_avg_1m_at_start=round(os.getloadavg()[0], 2))
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-hostile-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        port, url = free_port(), f"sqlite:///{tmp}/helpdesk.db"
        env = checkout_env(gateway_env(url, tmp, port, 0), args.code, tmp)
        env.pop("HELPDESK_RELAY")  # outbound mail as .eml files: no sink needed
        subprocess.run([helpdesk_cmd(), "db", "upgrade"], env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        gateway = start_gateway(env, port, tmp / "gateway.log", stack)
        log(f"gateway pid {gateway.pid} on port {port}; {args.connections} connections, mode {args.mode}")
        result = measure(args, gateway, port)
        result["gateway_exit_code"] = stop_gateway(gateway)
        lines = (tmp / "gateway.log").read_text(errors="replace").splitlines()
        result["gateway_log_sample"] = [ln for ln in lines if " WARNING " in ln or " ERROR " in ln][:4]
        return {"config": config, "results": result}


def print_summary(out: dict) -> None:
    c, r = out["config"], out["results"]
    print(f"hostile SMTP: {c['connections']} connections from {c['source_ips']} IP(s), mode {c['mode']}, "
          f"line {c['line_bytes']} bytes, held {c['hold']} s; code {c['code']}, load {c['load_avg_1m_at_start']}")
    print(f"  gateway RSS     before {r['rss_before_mib']} MiB, while held {r['rss_while_held_mib']} MiB, "
          f"peak {r['rss_peak_sampled_mib']} MiB (VmHWM {r['vmhwm_mib']}), after {r['rss_after_mib']} MiB")
    print(f"  clients         {r['clients']}")
    print(f"  connect+send    {r['connect_and_send_s']} s; gateway CPU {r['gateway_cpu_s']} s; "
          f"ordinary mail after: {r['ordinary_mail_after']}; exit code {r['gateway_exit_code']}")
    for line in r["gateway_log_sample"]:
        print(f"    {line}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--source-ips", type=int, default=1, help="spread clients over 127.0.0.1..N")
    p.add_argument("--mode", choices=("at-once", "slow", "idle"), default="at-once")
    p.add_argument("--line-bytes", type=int, default=MIB, help="length of the unfinished command line")
    p.add_argument("--chunk-bytes", type=int, default=64 * 1024, help="--mode slow: bytes per write")
    p.add_argument("--chunk-pause", type=float, default=0.1, help="--mode slow: seconds between writes")
    p.add_argument("--hold", type=float, default=3.0, help="seconds the connections are held once in place")
    p.add_argument("--settle", type=float, default=2.0, help="seconds to wait before the first and last reading")
    p.add_argument("--code", type=Path, help="run the gateway from this checkout instead (PYTHONPATH)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    out = run(args)
    print(json.dumps(out)) if args.json else print_summary(out)
    return 0 if out["results"]["ordinary_mail_after"] == 250 and out["results"]["gateway_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
