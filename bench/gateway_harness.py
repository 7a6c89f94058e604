"""Start and stop what a benchmark measures: `helpdesk serve` on a given database, and an SMTP sink
standing in for the relay (each its own process), with free ports and the gateway's environment.
bench/ingest.py and the other benchmarks share it."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from smtp_load import run_sink

REPO = Path(__file__).resolve().parent.parent
SUPPORT = "support@helpdesk.test"
ACK_WAIT_SECONDS = 60.0


def code_version() -> str:
    """HEAD plus a hash of uncommitted changes, so figures can be tied to the code they measured."""
    def git(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, check=False).stdout.strip()
    diff = git("diff", "HEAD")
    dirty = f"+diff {hashlib.sha1(diff).hexdigest()[:8]}" if diff else ""
    return (git("rev-parse", "--short", "HEAD").decode() or "unknown") + dirty


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_env(url: str, tmp: Path, smtp_port: int, sink_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_DATABASE_URL=url, HELPDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
               HELPDESK_HTTP_LISTEN="127.0.0.1:0",  # any free port: HTTP is not what is measured
               HELPDESK_RELAY=f"127.0.0.1:{sink_port}", HELPDESK_SUPPORT_ADDRESS=SUPPORT,
               HELPDESK_RULES=str(REPO / "rules.yaml"), HELPDESK_LOG_LEVEL="WARNING",
               HELPDESK_ENV_FILE=str(tmp / "none.env"), HELPDESK_OUTBOX_DIR=str(tmp / "outbox"))
    return env


def helpdesk_cmd() -> str:
    local = Path(sys.executable).parent / "helpdesk"
    return str(local) if local.exists() else (shutil.which("helpdesk") or "helpdesk")


def start_sink(stack: ExitStack, pipelining: bool = True, pids: list[int] | None = None):
    """The SMTP sink in its own process: (port, connection, ack counter); its pid goes to `pids`."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    counter, port = ctx.Value("l", 0, lock=False), free_port()
    proc = ctx.Process(target=run_sink, args=(port, child, counter, pipelining), daemon=True)
    proc.start()
    if pids is not None:
        pids.append(proc.pid)
    stack.callback(lambda: (proc.kill(), proc.join(5)) if proc.is_alive() else None)
    if not parent.poll(30) or parent.recv() != "ready":
        raise SystemExit("SMTP sink did not start")
    return port, parent, counter


def start_gateway(env: dict, port: int, logfile: Path, stack: ExitStack, preexec=None) -> subprocess.Popen:
    """Start `helpdesk serve`; ready when it logs the ready line or its port answers. `preexec`: run
    in the child before the gateway starts (`--instance-cpus` joins its cgroup there)."""
    with logfile.open("wb") as log_fh:
        proc = subprocess.Popen([helpdesk_cmd(), "serve"], env=env, cwd=logfile.parent, preexec_fn=preexec,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_fh)
    stack.callback(lambda: (proc.kill(), proc.wait()) if proc.poll() is None else None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gateway exited with {proc.returncode}:\n{logfile.read_text()[-2000:]}")
        if "ready: SMTP on" in logfile.read_text(errors="replace"):
            return proc
        try:  # at log level WARNING the ready line is not printed: probe the port instead
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return proc
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gateway did not become ready within 60 s")


def wait_for_acks(counter, expected: int) -> float:
    start = time.monotonic()
    while counter.value < expected and time.monotonic() - start < ACK_WAIT_SECONDS:
        time.sleep(0.02)
    return time.monotonic() - start


def stop_gateway(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
