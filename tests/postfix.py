"""A private, real Postfix on a loopback port that relays everything to an SMTP sink (after
../shared/recipes/postfix_relay.sh): its own config, queue and data folders, no chroot, no DNS,
no TLS, its log in a file the tests read. Needs Debian's `postfix` (scripts/test installs it) and root.

Set like a usual relay in front of a mail system: mail to `relay_domains` is accepted only for
the addresses in its recipient map (others: 550 5.1.1 at RCPT), and the client must say a fully
qualified EHLO name. `smtpd_timeout` is short so an idle client is dropped within a test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.mail import wait_until

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


class Postfix:
    def __init__(self, port: int, relay_port: int, **main_cf: str):
        # Postfix's own daemons run as `postfix`: pytest's tmp_path (mode 0700) is closed to them.
        directory = Path(tempfile.mkdtemp(prefix="helpdesk-postfix-"))
        directory.chmod(0o755)
        self.dir, self.port, self.relay_port = directory, port, relay_port
        self.etc, self.log = directory / "etc", directory / "maillog"
        self.main_cf = {
            "compatibility_level": "3.6", "queue_directory": f"{directory}/spool",
            "data_directory": f"{directory}/lib", "maillog_file_prefixes": "/tmp /var",
            "maillog_file": str(self.log), "inet_interfaces": "loopback-only", "inet_protocols": "ipv4",
            "myhostname": "relay.test", "mydestination": "", "mynetworks": "127.0.0.0/8",
            "alias_maps": "", "alias_database": "", "relayhost": f"[127.0.0.1]:{relay_port}",
            "smtp_dns_support_level": "disabled", "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none", "maximal_queue_lifetime": "60s", "bounce_queue_lifetime": "60s",
            "smtpd_helo_required": "yes", "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
            # the qmgr picks up new mail at once instead of on its next scan
            "queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
            **main_cf,
        }

    def start(self) -> Postfix:
        if not os.path.exists(POSTFIX):
            raise RuntimeError("Postfix is not installed: apt-get install postfix (scripts/test does)")
        for sub in ("etc", "spool", "lib"):
            (self.dir / sub).mkdir(parents=True)
        shutil.chown(self.dir / "lib", "postfix", "postfix")  # master.lock lives in data_directory
        shutil.copy("/etc/postfix/master.cf", self.etc / "master.cf")
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in self.main_cf.items()))
        subprocess.run(["postconf", "-c", str(self.etc), "-F", "*/*/chroot = n"], check=True)
        master = (self.etc / "master.cf").read_text()
        (self.etc / "master.cf").write_text(re.sub(r"(?m)^smtp(\s+)inet", f"127.0.0.1:{self.port}\\1inet", master,
                                                   count=1))
        # postfix(1) reports start errors only to syslog unless stderr is a terminal: script(1) gives it one.
        done = subprocess.run(["script", "-qec", f"{POSTFIX} -c {self.etc} start", "/dev/null"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"postfix did not start: {done.stdout} {self.log_text()}")
        wait_until(self._answers, timeout=15)
        return self

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.5).close()
            return True
        except OSError:
            return False

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, pattern: str, after: int = 0, timeout: float = 15.0) -> re.Match:
        """The first match of `pattern` in the log past offset `after` (a length of log_text())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.compile(pattern).search(self.log_text(), after):
                return match
            time.sleep(0.05)
        raise TimeoutError(f"no {pattern!r} in the Postfix log:\n{self.log_text()[after:][-3000:]}")

    def stop(self) -> None:
        if (self.dir / "spool" / "pid" / "master.pid").exists():
            subprocess.run(["script", "-qec", f"{POSTFIX} -c {self.etc} stop", "/dev/null"], capture_output=True,
                           timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)
