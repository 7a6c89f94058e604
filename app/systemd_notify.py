"""Tell systemd how the service is doing: the sd_notify(3) protocol over $NOTIFY_SOCKET.

A `Type=notify` unit counts as started only at READY=1, which `helpdesk serve` sends once its
listeners are bound and the database answered (so `systemctl start` and units ordered after it
wait for a gateway that takes mail). With `WatchdogSec=` systemd sets WATCHDOG_USEC and
restarts the service when WATCHDOG=1 stops coming; the pings come from a task on the event
loop, so a loop that hangs stops them. Outside systemd (no NOTIFY_SOCKET) all of this does
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("helpdesk.service")


def notify_address(value: str | None) -> str | bytes | None:
    """$NOTIFY_SOCKET as a socket address: a path, or '@name' for Linux's abstract namespace."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value if value.startswith("/") else None  # (vsock addresses are not ours to handle)


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Seconds between keep-alive pings: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises;
    None when systemd set no watchdog, or set it for another process (WATCHDOG_PID)."""
    usec, pid = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 2 / 1_000_000


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] = os.environ):
        self.address = notify_address(environ.get("NOTIFY_SOCKET"))
        self.interval = watchdog_interval(environ) if self.address else None
        self.watchdog: asyncio.Task | None = None
        self._warned = False

    def send(self, *fields: str) -> None:
        if self.address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:  # systemd gone or the socket unwritable: the gateway keeps working
            if not self._warned:
                log.warning("cannot notify systemd at %s: %s", os.environ.get("NOTIFY_SOCKET"), exc.strerror)
            self._warned = True

    def ready(self, status: str) -> None:
        """READY=1 with a status line; starts the watchdog pings (call from the event loop)."""
        self.send("READY=1", f"STATUS={status}")
        if self.interval is not None:
            self.watchdog = asyncio.create_task(self._keep_alive(self.interval))

    def stopping(self, status: str = "stopping: finishing in-flight work") -> None:
        self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        """Stop the pings; only when the gateway is done, so a slow shutdown is not taken for a hang."""
        if self.watchdog:
            self.watchdog.cancel()

    async def _keep_alive(self, interval: float) -> None:
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(interval)
