"""The listener's idle timeout: one timer per connection, moved lazily, and a 421 when it ends one.

aiosmtpd restarts its timeout at every recognised command by cancelling the timer and scheduling
a new one: three or four timers per mail, each a heap entry the event loop sifts and later drops.
Here a command only moves the deadline (one clock read). When the timer fires early, because
commands came meanwhile, it is set again for what is left. What counts as activity is unchanged:
only a recognised command, so an endless line or a silent client is still cut off.

At the end the client is told why (RFC 5321 4.2.2's 421, as Postfix's "timeout exceeded") rather
than finding the connection simply closed. A close waits until what is queued for the client has
been sent; a client that reads nothing (it pipelines commands and never takes a reply) would keep
that close, and its connection slot, waiting for ever. So a close still pending when the timer
next fires is cut: CLOSE_GRACE_SECONDS after the idle timeout's own close, or at the idle
deadline after any other (aiosmtpd's after QUIT, or ours at shutdown).
"""

from __future__ import annotations

import logging

log = logging.getLogger("helpdesk.inbound")

CLOSE_GRACE_SECONDS = 30.0  # for a client to take the 421 before the connection is cut
S421_IDLE_TIMEOUT = "421 4.4.2 Idle too long, closing connection"


class LazyIdleTimeout:
    """Mixed into the listener's aiosmtpd session, ahead of aiosmtpd's SMTP class; the 421 is
    counted with the session's other replies (`count_reply`)."""

    _idle_deadline = 0.0
    _idle_armed = False  # a timer is scheduled and has not fired yet

    def _reset_timeout(self, duration: float | None = None) -> None:
        self._idle_deadline = self.loop.time() + (duration or self._timeout_duration)
        handle = self._timeout_handle
        if self._idle_armed and not handle.cancelled() and handle.when() <= self._idle_deadline:
            return  # it fires first and sets itself again for the rest
        if handle is not None:
            handle.cancel()  # a shorter wait than the pending one (aiosmtpd's PROXY timeout)
        self._arm()

    def _arm(self) -> None:
        self._timeout_handle = self.loop.call_at(self._idle_deadline, self._timeout_cb)
        self._idle_armed = True

    def _timeout_cb(self) -> None:
        # Fired: whatever happens below, the next reset arms a new timer. The handle itself stays,
        # as aiosmtpd's connection_lost cancels it (and asserts there is one).
        self._idle_armed = False
        if self.loop.time() < self._idle_deadline:  # a command came since the timer was set
            self._arm()
            return
        transport = self.transport
        if transport is None:
            return
        peer = self.session.peer if self.session else None
        if transport.is_closing():
            # A close still waiting to send what a client that reads nothing will never take
            # (asyncio's close waits for its buffer): cut, or it would hold its slot for good.
            log.info("%r: closing took too long, connection cut", peer)
            transport.abort()
            return
        log.info("%r: idle too long, connection closed", peer)
        try:
            transport.write(S421_IDLE_TIMEOUT.encode("ascii") + b"\r\n")
            self.count_reply(S421_IDLE_TIMEOUT[:3])
        finally:
            transport.close()
            self._idle_deadline = self.loop.time() + CLOSE_GRACE_SECONDS
            self._arm()  # connection_lost cancels it once the close is done
