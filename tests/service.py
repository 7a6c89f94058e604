"""Run the real `helpdesk` command in a subprocess, as an operator or an MTA would."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def helpdesk_command() -> list[str]:
    beside_python = Path(sys.executable).parent / "helpdesk"
    found = str(beside_python) if beside_python.exists() else shutil.which("helpdesk")
    assert found, "the helpdesk command is not installed (pip install -e .)"
    return [found]


def service_env(db_url: str, smtp_port: int, relay_port: int | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({
        "HELPDESK_ENV_FILE": "/nonexistent/helpdesk.env",
        "HELPDESK_DATABASE_URL": db_url, "HELPDESK_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "HELPDESK_SUPPORT_ADDRESS": "support@helpdesk.test", "HELPDESK_SECRET_KEY": "test-secret-key-0123456789",
        "HELPDESK_RULES": str(REPO / "tests" / "rules" / "minimal.yaml"),
        "HELPDESK_SEND_RETRY_BASE_SECONDS": "0.2", "HELPDESK_SEND_CLAIM_LEASE_SECONDS": "2",
        "HELPDESK_HTTP_LISTEN": "127.0.0.1:0",  # any free port: tests run side by side
    })
    if relay_port:
        env["HELPDESK_RELAY"] = f"127.0.0.1:{relay_port}"
    env.update(extra)
    return env


_zygote = None


def run_helpdesk(args: list[str], env: dict[str, str], stdin: bytes | None = None, cwd=None, *,
                 installed: bool = False):
    """The command in a process of its own: a fork of a zygote that has imported the CLI once
    (tests/cli_zygote.py), or with `installed` the installed entry point itself."""
    global _zygote
    if installed:
        return subprocess.run(helpdesk_command() + args, env=env, input=stdin, capture_output=True, timeout=60,
                              cwd=cwd)
    if _zygote is None:
        from tests.cli_zygote import ZygoteClient

        _zygote = ZygoteClient()
        atexit.register(_zygote.close)
    return _zygote.run(args, env, stdin, cwd)


class Service:
    """`helpdesk serve` as a child process; waits for its ready line."""

    def __init__(self, env: dict[str, str], cwd=None, args: tuple[str, ...] = ("serve",)):
        self.proc = subprocess.Popen(helpdesk_command() + list(args), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError("serve exited before ready:\n" + "".join(self.lines))
            self.lines.append(line)
            if "ready: SMTP on" in line:
                return
        raise TimeoutError("serve not ready")

    def stop(self, sig: int = 15, timeout: float = 30) -> tuple[int, str]:
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, "".join(self.lines) + out.decode()
