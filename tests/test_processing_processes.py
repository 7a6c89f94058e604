"""HELPDESK_PROCESSING_PROCESSES: the pipeline in processes of its own, seen from outside, as an
operator runs it: mail in over SMTP, acknowledgements out to the sink, /metrics, SIGTERM, SIGHUP,
and a processing process that dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import REPO, Service, helpdesk_command, service_env

ONE_QUEUE = (REPO / "tests" / "rules" / "minimal.yaml").read_text()
PRINTERS_TO_OPERATIONS = ONE_QUEUE + """rules:
  - name: printers
    when:
      subject: [printer]
    then:
      queue: operations
"""


def _processes(db_url: str) -> str:
    return "1" if db_url.startswith("sqlite") else "2"  # PostgreSQL's claims let several share the work


class _Followed(Service):
    """The service with its output read as it comes (into `lines`), for tests that wait for a line."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env)
        self.follower = threading.Thread(target=self._follow, daemon=True)
        self.follower.start()

    def _follow(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            self.lines.append(raw.decode())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        self.follower.join(5)
        return self.proc.returncode, "".join(self.lines)


@pytest.fixture
def serve(db_url, sink):
    """Starts `helpdesk serve` with processing processes; whatever a failing test left running is
    killed at teardown, children included (they end with their parent's pipe)."""
    started: list[_Followed] = []

    def start(**extra: str) -> tuple[_Followed, int, int]:
        service, port, http = _service(db_url, sink.port, **extra)
        started.append(service)
        return service, port, http
    yield start
    for service in started:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait(10)


def _service(db_url: str, sink_port: int | None, **extra: str) -> tuple[_Followed, int, int]:
    http = free_port()
    env = service_env(db_url, free_port(), sink_port, HELPDESK_PROCESSING_PROCESSES=_processes(db_url),
                      HELPDESK_HTTP_LISTEN=f"127.0.0.1:{http}", **extra)
    service = _Followed(env)
    line = next(line for line in service.lines if "ready: SMTP on" in line)
    return service, int(line.split("ready: SMTP on ")[1].split(",")[0].rsplit(":", 1)[1]), http


def _children(pid: int) -> list[int]:
    """Processing processes of `pid` (multiprocessing's resource tracker aside)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != pid:
                continue
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def _metric(http_port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def test_mail_goes_through_processing_processes_and_their_counts_reach_metrics(serve, db_url, sink, db):
    service, port, http = serve()
    assert len(_children(service.proc.pid)) == int(_processes(db_url))
    mails = [client_mail(sender=f"p{i}@client.example") for i in range(12)]
    for mail in mails:
        assert send(port, mail) == {}
    answered = {m.message["In-Reply-To"] for m in sink.wait_for(12)}
    assert answered == {m["Message-ID"] for m in mails}
    assert len(db.tickets()) == 12
    wait_until(lambda: _metric(http, "helpdesk_messages_received_total") == 12)
    code, log = service.stop(signal.SIGTERM)
    assert code == 0, log
    assert log.rstrip().endswith("stopped") and "Traceback" not in log


def test_sigterm_lets_the_processing_processes_finish_what_is_stored_then_they_are_gone(serve, sink, db):
    service, port, _ = serve()
    children = _children(service.proc.pid)
    for i in range(20):
        assert send(port, client_mail(sender=f"t{i}@client.example")) == {}
    code, log = service.stop(signal.SIGTERM)  # at once: some of the 20 may still be pending
    assert code == 0, log
    assert [r.status for r in db.inbound()] == ["processed"] * 20
    assert len(sink.wait_for(20)) == 20  # and the dispatcher sent what they queued before it stopped
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def test_a_processing_process_that_dies_is_started_again_and_nothing_is_lost(serve, db_url, sink, db):
    service, port, _ = serve()
    victim = _children(service.proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: any("exited with code -9; starting it again" in line for line in service.lines), timeout=10)
    for i in range(5):
        assert send(port, client_mail(sender=f"d{i}@client.example")) == {}
    assert len(sink.wait_for(5)) == 5
    assert victim not in _children(service.proc.pid)
    wait_until(lambda: len(_children(service.proc.pid)) == int(_processes(db_url)), timeout=10)  # back
    assert service.stop()[0] == 0


def test_changed_rules_reach_the_processing_processes(serve, sink, db, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(ONE_QUEUE)
    service, port, _ = serve(HELPDESK_RULES=str(rules))
    send(port, client_mail(subject="printer jammed", sender="before@client.example"))
    sink.wait_for(1)
    rules.write_text(PRINTERS_TO_OPERATIONS)
    service.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: any("rules reloaded" in line for line in service.lines), timeout=10)
    send(port, client_mail(subject="printer jammed again", sender="after@client.example"))
    sink.wait_for(2)
    queues = {t["subject"]: t["queue"] for t in db.tickets()}
    assert queues == {"printer jammed": "general", "printer jammed again": "operations"}
    assert service.stop()[0] == 0


def test_more_than_one_processing_process_on_sqlite_is_refused_in_one_line(tmp_path):
    env = service_env(f"sqlite:///{tmp_path}/helpdesk.db", free_port(), None, HELPDESK_PROCESSING_PROCESSES="2")
    _assert_refused(env, "HELPDESK_PROCESSING_PROCESSES above 1 needs PostgreSQL (SQLite has one writer)")


def test_a_port_in_use_after_the_processes_started_ends_the_gateway_and_them(db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = service_env(db_url, port, None, HELPDESK_PROCESSING_PROCESSES=_processes(db_url))
        _assert_refused(env, f"cannot listen on 127.0.0.1:{port}")


def _assert_refused(env: dict[str, str], line_end: str) -> None:
    """serve ends at once (no process left waiting for it) with one line naming the problem."""
    result = subprocess.run(helpdesk_command() + ["serve"], env=env, capture_output=True, timeout=60)
    errors = result.stderr.decode()
    assert result.returncode != 0 and "Traceback" not in errors
    assert line_end in errors.strip().splitlines()[-1]

