"""The gateway's counters: intake, processor, dispatcher and scheduler increment them, /metrics reads them.

One `Metrics` per running gateway, each with a registry of its own (no module-level state), so
several gateways in one process (the tests) count apart. Only counters and the latency histogram
live here: what the database knows (outbox depth, open tickets) is read at scrape time
(app/http/db_collector.py). On the hot path a message costs a few increments, nothing more.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# What processing made of a message, in the words of the issue; Disposition values map onto them.
NEW_TICKET, APPENDED, DUPLICATE, SUPPRESSED, BOUNCE, QUARANTINED = (
    "new_ticket", "appended", "duplicate", "suppressed", "bounce", "quarantined")
_OUTCOMES = {"created": NEW_TICKET, "duplicate": DUPLICATE, "bounce": BOUNCE}
# Automatic mail (RFC 3834) still creates or continues a ticket, but its answer is suppressed.
_AUTOMATIC = {"created", "appended", "reopened"}

# Stored → processed: milliseconds when the processor keeps up, minutes when it is behind.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def message_outcome(disposition: str, reply_suppressed: bool) -> str:
    """The `outcome` label of a processed message: reopened, staff mail, confirmations count as appended."""
    if reply_suppressed and disposition in _AUTOMATIC:
        return SUPPRESSED
    return _OUTCOMES.get(disposition, APPENDED)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages = Counter("helpdesk_messages_received", "Inbound messages processed, by channel and outcome",
                                ("channel", "outcome"), registry=r)
        self.smtp_replies = Counter("helpdesk_smtp_replies", "Replies the SMTP listener sent, by code",
                                    ("code",), registry=r)
        self.processing_seconds = Histogram("helpdesk_processing_seconds",
                                            "Time from a message being stored to it being processed",
                                            buckets=LATENCY_BUCKETS, registry=r)
        self.send_attempts = Counter("helpdesk_send_attempts", "Attempts to hand an outbox row to the relay, by result",
                                     ("result",), registry=r)
        self.job_runs = Counter("helpdesk_scheduler_job_runs", "Scheduled job runs, by job", ("job",), registry=r)
        self.job_failures = Counter("helpdesk_scheduler_job_failures", "Scheduled job runs that failed, by job",
                                    ("job",), registry=r)
        self._children: dict[tuple, Counter] = {}

    def _count(self, counter: Counter, *labels: str) -> None:
        # Counted for every mail: each label's child is looked up once (`labels` costs a microsecond).
        child = self._children.get((counter, labels))
        if child is None:
            child = self._children[(counter, labels)] = counter.labels(*labels)
        child.inc()

    def count_reply(self, code: str) -> None:
        """One SMTP reply (a mail has four)."""
        self._count(self.smtp_replies, code)

    def count_attempt(self, result: str) -> None:
        """One attempt to hand a mail to the relay: sent, temporary, permanent or unreachable."""
        self._count(self.send_attempts, result)

    def count_message(self, channel: str, outcome: str, seconds_since_stored: float | None) -> None:
        self._count(self.messages, channel, outcome)
        if seconds_since_stored is not None:
            self.processing_seconds.observe(max(seconds_since_stored, 0.0))
