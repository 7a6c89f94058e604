"""Send due SMS outbox rows through the SMS provider and record every attempt; safe to run in several instances."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.outgoing import ClaimedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.ports import MailRenderer
from helpdesk.outbound.acceptances import AcceptanceRecorder
from helpdesk.outbound.sms_providers import SmsProvider, SmsSendResult

log = logging.getLogger("helpdesk.outbound")
SUMMARY_KIND = "sms_summary"  # the template, and the outbox kind of the summary row (store/sms_outbox.py)
MAX_LISTED_TICKETS = 10


class SmsOutbox(Protocol):
    """Due SMS rows leased to the dispatcher, the hourly limit, and what the provider answered
    (store/sms_outbox.py)."""

    def summarise_held(self, now: datetime, write_text: Callable[[int, list[int], str | None], str]) -> int: ...
    def claim(self, now: datetime, limit: int, lease: timedelta) -> tuple[list[ClaimedMail], int]: ...
    def record(self, results: list[SendResult], unsent: list[int], now: datetime,
               provider_refs: dict[int, str] | None = None, opted_out: list[str] | None = None) -> None: ...


class SummaryText:
    """The text of the one SMS that tells of those held back: the sms_summary template in the
    recipient's language when there is one (`renderer` None otherwise), else a plain English line."""

    def __init__(self, renderer: MailRenderer | None, support_name: str, support_address: str):
        self.renderer, self.support_name, self.support_address = renderer, support_name, support_address

    def __call__(self, count: int, tickets: list[int], locale: str | None) -> str:
        if self.renderer is not None:
            body = self.renderer.render(SUMMARY_KIND, locale, {
                "count": count, "tickets": tickets, "support_name": self.support_name,
                "support_address": self.support_address}).body
            return " ".join(body.split())  # one SMS: line breaks only cost characters
        listed = ", ".join(str(number) for number in tickets[:MAX_LISTED_TICKETS])
        more = ", ..." if len(tickets) > MAX_LISTED_TICKETS else ""
        about = f" (tickets {listed}{more})" if tickets else ""
        return (f"{self.support_name}: {count} more SMS were held back in the last hour{about}. "
                "See your mail or the helpdesk.")


class SmsDispatcher:
    """`outbox` leases due SMS rows (store/sms_outbox.py); `summary_text` writes the summary of held ones."""

    def __init__(self, outbox: SmsOutbox, provider: SmsProvider, policy: DeliveryPolicy,
                 summary_text: Callable[[int, list[int], str | None], str], clock: Clock = utcnow, batch: int = 50):
        self.outbox, self.provider, self.policy = outbox, provider, policy
        self.summary_text, self.clock, self.batch = summary_text, clock, batch
        # Why the provider cannot be used, while it cannot: logged when it starts and when it ends.
        self.provider_down: str | None = None

    def run_once(self) -> int:
        """Summarise what the limit held back, claim a batch, send it, record it; returns rows handled.

        Each acceptance is committed while the next SMS is sent (outbound/acceptances.py), so after
        a kill only SMS whose acceptance was not committed yet can be sent again."""
        now = self.clock()
        summaries = self.outbox.summarise_held(now, self.summary_text)
        claimed, settled = self.outbox.claim(now, self.batch, timedelta(seconds=self.policy.claim_lease_seconds))
        if not claimed:
            close_if_idle = getattr(self.provider, "close_if_idle", None)  # a relay connection, say
            if close_if_idle is not None:
                close_if_idle()
            return summaries + settled
        refs: dict[int, str] = {}
        accepted = AcceptanceRecorder(lambda results: self.outbox.record(results, [], self.clock(), refs))
        try:
            failures, unsent, opted_out = self._send_batch(claimed, accepted, refs)
        finally:
            accepted.close()
        self.outbox.record(failures, unsent, self.clock(), opted_out=opted_out)
        return summaries + settled + len(claimed)

    def _send_batch(self, claimed: list[ClaimedMail], accepted: AcceptanceRecorder, refs: dict[int, str]):
        # A slow provider must not outlast the lease, or another instance could send the same rows:
        # past half the lease, the rest of the batch goes back unsent.
        started, budget = time.monotonic(), self.policy.claim_lease_seconds / 2
        failures: list[SendResult] = []
        opted_out: list[str] = []
        for index, sms in enumerate(claimed):
            if time.monotonic() - started > budget:
                return failures, [s.id for s in claimed[index:]], opted_out
            number = sms.rcpt_to[0]
            answer = self.provider.send(number, sms.raw.decode("utf-8", "replace"))
            self._note(sms, answer)
            result = SendResult(sms.id, ok=answer.ok, permanent=answer.permanent, code=answer.code,
                                detail=answer.detail)
            if answer.ok:
                if answer.provider_ref:
                    refs[sms.id] = answer.provider_ref  # before add(): the commit thread reads it
                accepted.add(result)
                continue
            failures.append(result)
            if answer.opted_out:
                opted_out.append(number)
            if answer.unavailable:  # the rest would fail the same way now: they wait with it
                failures += [SendResult(s.id, ok=False, detail=f"not tried: {answer.detail}")
                             for s in claimed[index + 1:]]
                break
        return failures, [], opted_out

    def _note(self, sms: ClaimedMail, answer: SmsSendResult) -> None:
        if answer.unavailable:
            if self.provider_down is None:
                log.warning("SMS provider %s unavailable, SMS wait and are retried: %s", self.provider.name,
                            answer.detail)
            self.provider_down = answer.detail
            return
        if self.provider_down is not None:
            log.info("SMS provider %s answers again, sending the waiting SMS", self.provider.name)
            self.provider_down = None
        if answer.opted_out:
            log.warning("outbox %d failed: the recipient unsubscribed; no more SMS go to the number: %s",
                        sms.id, answer.detail)
        elif not answer.ok and answer.permanent:
            log.warning("outbox %d failed: refused permanently: %s", sms.id, answer.detail)
        elif not answer.ok and sms.attempts == 0:  # later refusals are in `helpdesk outbox show`
            log.warning("outbox %d: refused for now, will retry: %s", sms.id, answer.detail)

    def drain(self) -> int:
        """Send everything due now (used at shutdown and by tests); returns rows handled."""
        total = 0
        while (handled := self.run_once()):
            total += handled
        return total
