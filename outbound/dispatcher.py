"""Send due outbox rows through the transport and record every attempt; safe to run in several instances."""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta

from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.ground.outgoing import ClaimedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.ports import OutboxQueue
from helpdesk.outbound.acceptances import AcceptanceRecorder
from helpdesk.outbound.transport import SendError, Transport

log = logging.getLogger("helpdesk.outbound")


class Dispatcher:
    """`outbox` leases due rows (store/outbox.py); `envelope_sender` gives the VERP sender of a row.

    `more_transports`: further connections to the relay. A batch is then sent over all of them at
    once, each recipient's mail on one connection in the order claimed, so a client still gets the
    acknowledgement before the answer; the relay's round trips overlap instead of adding up."""

    def __init__(self, outbox: OutboxQueue, transport: Transport, policy: DeliveryPolicy,
                 envelope_sender: Callable[[ClaimedMail], str] = lambda mail: mail.mail_from,
                 clock: Clock = utcnow, batch: int = 50, metrics: Metrics | None = None,
                 more_transports: Sequence[Transport] = ()):
        self.outbox, self.transport, self.policy = outbox, transport, policy
        self.transports = (transport, *more_transports)
        self._lanes = ThreadPoolExecutor(len(more_transports), "relay-connection") if more_transports else None
        self.envelope_sender, self.clock, self.batch = envelope_sender, clock, batch
        self.metrics = metrics if metrics is not None else Metrics()
        # Why the relay cannot be reached, while it cannot: an outage is logged when it starts and
        # when it ends, not once per mail and attempt.
        self.relay_down: str | None = None
        self._relay_state = threading.Lock()  # the connections send at once, the outage is told once

    def _claim(self) -> list[ClaimedMail]:
        return self.outbox.claim(self.clock(), self.batch, timedelta(seconds=self.policy.claim_lease_seconds))

    def _send(self, mail: ClaimedMail, transport: Transport) -> SendResult:
        try:
            where = transport.send(self.envelope_sender(mail), mail.rcpt_to, mail.raw, f"{mail.id:08d}")
        except SendError as exc:
            self._note_failure(mail, exc)
            result = "unreachable" if exc.unavailable else "permanent" if exc.permanent else "temporary"
            self.metrics.count_attempt(result)
            return SendResult(mail.id, ok=False, permanent=exc.permanent, code=exc.code, detail=str(exc),
                              refused_recipients=exc.refused)
        self.metrics.count_attempt("sent")
        self._note_relay_answered()
        return SendResult(mail.id, ok=True, code=250, detail=where)

    def _note_failure(self, mail: ClaimedMail, exc: SendError) -> None:
        if exc.unavailable:
            with self._relay_state:
                if self.relay_down is None:
                    log.warning("relay unreachable, outbound mail waits and is retried: %s", exc)
                self.relay_down = str(exc)
            return
        self._note_relay_answered()
        if exc.permanent:
            log.warning("outbox %d failed: refused permanently: %s", mail.id, exc)
        elif mail.attempts == 0:  # later refusals of the same mail are in `helpdesk outbox show`
            log.warning("outbox %d: refused for now, will retry: %s", mail.id, exc)

    def _note_relay_answered(self) -> None:
        with self._relay_state:
            if self.relay_down is not None:
                log.info("relay reachable again, sending the waiting mail")
                self.relay_down = None

    def run_once(self) -> int:
        """Claim a batch, send it, record the results; returns how many rows were handled.

        Each acceptance is committed as soon as the relay's 250 is in, while the next mail is sent
        (outbound/acceptances.py): if the process is killed, only mail whose 250 was not committed
        yet can be sent again by the instance that takes its claims over. Failures are recorded
        together at the end (losing them costs a retry, not a duplicate)."""
        claimed = self._claim()
        if not claimed:
            self._close_idle_connection()
            return 0
        accepted = AcceptanceRecorder(lambda results: self.outbox.record(results, [], self.clock()))
        try:
            failures, unsent = self._send_batch(claimed, accepted)
        finally:
            accepted.close()
        if failures or unsent:  # each acceptance is committed already: no empty write transaction
            self.outbox.record(failures, unsent, self.clock())
        return len(claimed)

    def _close_idle_connection(self) -> None:
        # Quit before the relay drops us (then the next mail would find a dead connection). A
        # transport without a connection to keep need not have the method.
        for transport in self.transports:
            close_if_idle = getattr(transport, "close_if_idle", None)
            if close_if_idle is not None:
                close_if_idle()

    def close(self) -> None:
        if self._lanes is not None:
            self._lanes.shutdown()
        for transport in self.transports:
            transport.close()

    def _send_batch(self, claimed: list[ClaimedMail], accepted: AcceptanceRecorder):
        started = time.monotonic()
        if self._lanes is None or len(claimed) == 1:
            return self._send_lane(self.transport, claimed, accepted, started)
        lanes: list[list[ClaimedMail]] = [[] for _ in self.transports]
        for mail in claimed:  # one recipient, one lane: their mail keeps its order
            lanes[zlib.crc32(mail.rcpt_to[0].lower().encode()) % len(lanes)].append(mail)
        others = [self._lanes.submit(self._send_lane, transport, lane, accepted, started)
                  for transport, lane in zip(self.transports[1:], lanes[1:]) if lane]
        try:
            failures, unsent = self._send_lane(self.transport, lanes[0], accepted, started)
        finally:  # every lane has ended before the batch does, even when one failed
            wait(others)
        for lane in others:
            more_failures, more_unsent = lane.result()
            failures, unsent = failures + more_failures, unsent + more_unsent
        return failures, unsent

    def _send_lane(self, transport: Transport, claimed: list[ClaimedMail], accepted: AcceptanceRecorder,
                   started: float) -> tuple[list[SendResult], list[int]]:
        # A slow relay must not outlast the lease, or another instance could send the same rows:
        # past half the lease, the rest of the batch goes back unsent.
        budget = self.policy.claim_lease_seconds / 2
        failures: list[SendResult] = []
        for index, mail in enumerate(claimed):
            if time.monotonic() - started > budget:
                return failures, [m.id for m in claimed[index:]]
            result = self._send(mail, transport)
            if result.ok:
                accepted.add(result)
                continue
            failures.append(result)
            if self.relay_down is not None:  # unreachable: the rest would fail the same way, so they wait with it
                failures += [SendResult(m.id, ok=False, detail=f"not tried: {result.detail}")
                             for m in claimed[index + 1:]]
                break
        return failures, []

    def drain(self) -> int:
        """Send everything due now (used at shutdown and by tests); returns rows handled."""
        total = 0
        while (handled := self.run_once()):
            total += handled
        return total
