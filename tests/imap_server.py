"""A real Dovecot on a loopback port (tests/dovecot.sh), with one mail user per test."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

SCRIPT = Path(__file__).parent / "dovecot.sh"
PASSWORD = "secret"


@dataclass
class Dovecot:
    directory: str
    port: int
    users: itertools.count

    @classmethod
    def start(cls, port: int, users: int = 40) -> "Dovecot":
        if not shutil.which("dovecot"):
            raise RuntimeError("dovecot is not installed: apt-get install -y dovecot-imapd (.ci/run does it)")
        directory = tempfile.mkdtemp(prefix="dovecot-")
        server = cls(directory, port, itertools.count(1))
        server.users_spec = " ".join(f"u{i}:{PASSWORD}" for i in range(1, users + 1))
        server.run("start")
        return server

    def run(self, action: str) -> None:
        env = {**os.environ, "DOVECOT_PORT": str(self.port), "DOVECOT_USERS": self.users_spec}
        subprocess.run([str(SCRIPT), action, self.directory], env=env, check=True, capture_output=True, timeout=60)
        if action == "stop":
            # The master leaves its imap, log and stats children running (seen with 2.3.19): end
            # them too, as a real server restart would, so clients see their connection drop.
            subprocess.run(["pkill", "-f", f"dovecot-test-{self.port}/"], check=False)

    def restart(self) -> None:
        """Stop and start the master (mail stays: start rewrites only config and empty user dirs)."""
        self.run("stop")
        mail = Path(self.directory) / "mail"
        keep = Path(tempfile.mkdtemp(prefix="dovecot-mail-"))
        shutil.copytree(mail, keep / "mail", symlinks=True)
        self.run("start")
        shutil.rmtree(mail)
        shutil.copytree(keep / "mail", mail, symlinks=True)
        subprocess.run(["chown", "-R", "mail:mail", str(mail)], check=False)
        shutil.rmtree(keep, ignore_errors=True)

    def stop(self) -> None:
        self.run("stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def new_user(self) -> str:
        return f"u{next(self.users)}"

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client(user)
        for raw in messages:
            client.append(folder, raw)
        client.logout()

    def count(self, user: str, folder: str, criteria=("ALL",)) -> int:
        client = self.client(user)
        client.select_folder(folder, readonly=True)
        found = len(client.search(list(criteria)))
        client.logout()
        return found
