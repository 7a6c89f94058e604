"""Send due outbox rows through the transport and record every attempt; safe to run in several instances."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.outgoing import ClaimedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.ports import OutboxQueue
from helpdesk.outbound.transport import SendError, Transport

log = logging.getLogger("helpdesk.outbound")


class Dispatcher:
    """`outbox` leases due rows (store/outbox.py); `envelope_sender` gives the VERP sender of a row."""

    def __init__(self, outbox: OutboxQueue, transport: Transport, policy: DeliveryPolicy,
                 envelope_sender: Callable[[ClaimedMail], str] = lambda mail: mail.mail_from,
                 clock: Clock = utcnow, batch: int = 50):
        self.outbox, self.transport, self.policy = outbox, transport, policy
        self.envelope_sender, self.clock, self.batch = envelope_sender, clock, batch

    def _claim(self) -> list[ClaimedMail]:
        return self.outbox.claim(self.clock(), self.batch, timedelta(seconds=self.policy.claim_lease_seconds))

    def _send(self, mail: ClaimedMail) -> SendResult:
        try:
            where = self.transport.send(self.envelope_sender(mail), mail.rcpt_to, mail.raw, f"{mail.id:08d}")
        except SendError as exc:
            log.warning("outbox %d: attempt %d failed: %s", mail.id, mail.attempts + 1, exc)
            return SendResult(mail.id, ok=False, permanent=exc.permanent, code=exc.code, detail=str(exc))
        return SendResult(mail.id, ok=True, code=250, detail=where)

    def run_once(self) -> int:
        """Claim a batch, send it, record the results; returns how many rows were handled."""
        claimed = self._claim()
        if not claimed:
            return 0
        # A slow relay must not outlast the lease, or another instance could send the same rows:
        # past half the lease, the rest of the batch goes back unsent.
        started, budget = time.monotonic(), self.policy.claim_lease_seconds / 2
        results, unsent = [], []
        for mail in claimed:
            if time.monotonic() - started > budget:
                unsent.append(mail.id)
            else:
                results.append(self._send(mail))
        self.outbox.record(results, unsent, self.clock())
        return len(claimed)

    def drain(self) -> int:
        """Send everything due now (used at shutdown and by tests); returns rows handled."""
        total = 0
        while (handled := self.run_once()):
            total += handled
        return total
