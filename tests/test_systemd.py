"""The systemd units and the service as they run it: readiness, watchdog and stop over NOTIFY_SOCKET."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from helpdesk.app.env_example import render_env_example
from helpdesk.app.service import SHUTDOWN_GRACE
from helpdesk.app.systemd_notify import SystemdNotifier, notify_address, watchdog_interval
from helpdesk.gateway.ground.settings import Settings
from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import REPO, Service, helpdesk_command

SYSTEMD = REPO / "systemd"
UNITS = ("helpdesk.service", "helpdesk@.service")


def unit_directives(path: Path) -> dict[str, list[str]]:
    """Key -> values of a unit file (keys may repeat, as EnvironmentFile= does in the template)."""
    directives: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze missing (scripts/test installs Debian's systemd)")
def test_the_units_and_the_port_25_drop_in_pass_systemd_analyze_verify(tmp_path):
    # verify insists that ExecStart= exists: point the copies at the helpdesk installed here.
    installed = helpdesk_command()[0]
    for unit in UNITS:
        text = (SYSTEMD / unit).read_text().replace("/opt/helpdesk/bin/helpdesk", installed)
        (tmp_path / unit.replace("@.", "@second.")).write_text(text)
    for unit in ("helpdesk.service.d", "helpdesk@second.service.d"):
        (tmp_path / unit).mkdir()
        shutil.copy(SYSTEMD / "helpdesk-port25.conf", tmp_path / unit / "port25.conf")
    result = subprocess.run(["systemd-analyze", "verify", "helpdesk.service", "helpdesk@second.service"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # An unknown or misspelt key is only a warning to systemd: any output counts as a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_waits_for_readiness_keeps_a_watchdog_and_is_hardened(unit):
    d = unit_directives(SYSTEMD / unit)
    assert d["Type"] == ["notify"] and d["ExecStart"] == ["/opt/helpdesk/bin/helpdesk serve"]
    assert d["User"] == ["helpdesk"] and d["Restart"] == ["on-failure"] and int(d["WatchdogSec"][0]) > 0
    assert d["EnvironmentFile"][0] == "/etc/helpdesk/helpdesk.env"
    assert d["WorkingDirectory"] == ["/var/lib/" + d["StateDirectory"][0]]
    # SMTP transactions, then processing, then the last delivery pass, IMAP readers: each has the grace.
    assert int(d["TimeoutStopSec"][0]) >= 4 * SHUTDOWN_GRACE + 30
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert d[key] == ["true"], key
    assert d["ProtectSystem"] == ["strict"] and d["SystemCallFilter"] == ["@system-service"]
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"] and d["CapabilityBoundingSet"] == [""]
    port25 = unit_directives(SYSTEMD / "helpdesk-port25.conf")
    assert port25["AmbientCapabilities"] == port25["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]


def test_each_template_instance_has_its_own_env_file_and_state_directory():
    d = unit_directives(SYSTEMD / "helpdesk@.service")
    assert d["EnvironmentFile"] == ["/etc/helpdesk/helpdesk.env", "/etc/helpdesk/%i.env"]
    assert d["StateDirectory"] == ["helpdesk/%i"]


def test_the_env_example_is_the_one_generated_from_the_settings():
    committed = (SYSTEMD / "helpdesk.env.example").read_text()
    assert committed == render_env_example(), \
        "regenerate: python -m helpdesk.app.env_example > systemd/helpdesk.env.example"
    for name in Settings.model_fields:
        assert f"HELPDESK_{name.upper()}=" in committed


def test_notify_socket_addresses_and_the_watchdog_interval():
    assert notify_address("@helpdesk/notify") == b"\0helpdesk/notify"
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert notify_address(None) is None and notify_address("vsock:2:1") is None
    assert watchdog_interval({"WATCHDOG_USEC": "400000"}) == 0.2
    assert watchdog_interval({"WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(os.getpid())}) == 0.2
    assert watchdog_interval({"WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert watchdog_interval({}) is None and watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert SystemdNotifier({"WATCHDOG_USEC": "400000"}).interval is None  # no socket, nobody to ping


def test_a_notify_socket_path_gets_the_messages(tmp_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(5)
        SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "notify")}).stopping()
        assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping: finishing in-flight work"


class NotifyListener:
    """The systemd side: a datagram socket in the abstract namespace; checks SMTP the moment READY=1 comes."""

    def __init__(self, smtp_port: int):
        self.name = f"@helpdesk-test-{secrets.token_hex(6)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(notify_address(self.name))
        self.sock.settimeout(0.2)
        self.smtp_port, self.messages, self.smtp_at_ready = smtp_port, [], None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        while not self.done.is_set():
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            if message.startswith("READY=1"):
                self.smtp_at_ready = _smtp_greeting(self.smtp_port)
            self.messages.append((time.monotonic(), message))

    def received(self, field: str) -> list[float]:
        return [at for at, message in list(self.messages) if field in message.split("\n")]

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def _smtp_greeting(port: int) -> int | None:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            return smtp.noop()[0]
    except OSError:
        return None


def env_file_like_the_example(path: Path, **values: str) -> Path:
    """The committed example with the test's database, ports and rules put in."""
    lines = []
    for line in (SYSTEMD / "helpdesk.env.example").read_text().splitlines():
        key = line.split("=", 1)[0].lstrip("#")
        lines.append(f"{key}={values.pop(key)}" if key in values else line)
    path.write_text("\n".join(lines + [f"{k}={v}" for k, v in values.items()]) + "\n")
    return path


def test_the_service_started_like_the_unit_reports_ready_pings_the_watchdog_and_says_stopping(
        db_url, sink, tmp_path):
    smtp_port = free_port()
    env_file = env_file_like_the_example(
        tmp_path / "helpdesk.env", HELPDESK_DATABASE_URL=db_url, HELPDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        HELPDESK_RELAY=f"127.0.0.1:{sink.port}", HELPDESK_SUPPORT_ADDRESS="support@helpdesk.test",
        HELPDESK_RULES=str(REPO / "tests" / "rules" / "minimal.yaml"), HELPDESK_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
        HELPDESK_SECRET_KEY_FILE=str(tmp_path / "helpdesk.secret"))
    (tmp_path / "helpdesk.secret").write_text(secrets.token_hex(32))
    state = tmp_path / "state"  # the unit's WorkingDirectory
    state.mkdir()
    systemd = NotifyListener(smtp_port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "WATCHDOG_"))}
    env.update(HELPDESK_ENV_FILE=str(env_file), NOTIFY_SOCKET=systemd.name, WATCHDOG_USEC="400000")
    args = tuple(unit_directives(SYSTEMD / "helpdesk.service")["ExecStart"][0].split()[1:])
    try:
        service = Service(env, cwd=state, args=args)
        wait_until(lambda: systemd.received("READY=1"), timeout=10)
        assert systemd.smtp_at_ready == 250  # the listener answered when systemd was told
        ready = next(m for _, m in systemd.messages if m.startswith("READY=1"))
        assert f"STATUS=ready: SMTP on 127.0.0.1:{smtp_port}" in ready
        send(smtp_port, client_mail())
        assert len(sink.wait_for(1)) == 1
        # Pings every WATCHDOG_USEC/2 = 0.2 s, from the event loop, for as long as it runs.
        wait_until(lambda: len([t for t in systemd.received("WATCHDOG=1") if t > systemd.received("READY=1")[0]])
                   >= 3, timeout=5)
        code, log = service.stop(signal.SIGTERM)
        assert code == 0, log
        wait_until(lambda: systemd.received("STOPPING=1"), timeout=5)
    finally:
        systemd.close()
    stopping = next(m for _, m in systemd.messages if m.startswith("STOPPING=1"))
    assert "STATUS=stopping" in stopping
    assert systemd.received("STOPPING=1")[0] > systemd.received("READY=1")[0]
