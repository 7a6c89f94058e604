"""Send due outbox rows through the transport and record every attempt; safe to run in several instances."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.outgoing import ClaimedMail, SendResult
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.outbox import claim_due, record_results, release_claims
from helpdesk.outbound.transport import SendError, Transport
from helpdesk.store.db import new_session

log = logging.getLogger("helpdesk.outbound")


class Dispatcher:
    def __init__(self, engine: Engine, transport: Transport, settings: Settings,
                 clock: Callable[[], datetime] = utcnow, batch: int = 50, signer: MessageIdSigner | None = None):
        self.engine, self.transport, self.settings = engine, transport, settings
        self.clock, self.batch = clock, batch
        # signs the VERP envelope senders; the service passes the pipeline's, so the key is read once
        self.signer = signer or MessageIdSigner(settings.signing_secret(), settings.message_id_domain)

    def _envelope_sender(self, mail: ClaimedMail) -> str:
        s = self.settings
        if not s.verp:
            return mail.mail_from
        return self.signer.bounce_address(mail.id, s.bounce_local_part.lower(), s.bounce_address.rsplit("@", 1)[1])

    def _claim(self) -> list[ClaimedMail]:
        with new_session(self.engine) as session, session.begin():
            lease = timedelta(seconds=self.settings.send_claim_lease_seconds)
            return claim_due(session, self.clock(), self.batch, lease)

    def _send(self, mail: ClaimedMail) -> SendResult:
        try:
            where = self.transport.send(self._envelope_sender(mail), mail.rcpt_to, mail.raw, f"{mail.id:08d}")
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
        started, budget = time.monotonic(), self.settings.send_claim_lease_seconds / 2
        results, unsent = [], []
        for mail in claimed:
            if time.monotonic() - started > budget:
                unsent.append(mail.id)
            else:
                results.append(self._send(mail))
        s = self.settings
        with new_session(self.engine) as session, session.begin():
            record_results(session, results, self.clock(), max_attempts=s.send_max_attempts,
                           retry_base=s.send_retry_base_seconds, retry_max=s.send_retry_max_seconds)
            release_claims(session, unsent)
        return len(claimed)

    def drain(self) -> int:
        """Send everything due now (used at shutdown and by tests); returns rows handled."""
        total = 0
        while (handled := self.run_once()):
            total += handled
        return total
