"""What a monitoring system's report does to the fault it names: count a repeat, record a recovery
(and resolve), reopen a flapping ticket, or ask for a new ticket.

One fingerprint (object + problem key) has one row, locked before it is read, so a storm of
reports handled by several instances makes one ticket. While that ticket is open a repeat only
counts on the row: the raw mail is stored as every message is, but no article, no event and no
mail are written per repeat (`helpdesk tickets show` prints the counts). Recoveries and flaps
change the ticket, so they are written to it as articles and events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition, TicketStatus
from helpdesk.gateway.objects.fault_rules import FaultReport, MonitorRule
from helpdesk.store import faults as f
from helpdesk.store.tickets import INSERT_THREAD_REF, TicketStore


@dataclass(frozen=True)
class Absorbed:
    """A report the fault's ticket took: the outcome, and whether staff should hear of it (a reopen)."""

    outcome: Outcome
    reopened: bool = False


def _seen_before(store: TicketStore, mail: InboundMail) -> bool:
    """A repeat has no article (whose Message-ID the duplicate stage looks for), so its Message-ID is
    kept as a thread reference: a sender's retry after a lost 250 is then not counted twice. A
    Message-ID the parser made up says nothing, so such mail is always counted."""
    if mail.message_id_synthesized:
        return False
    return store.ticket_for_message_ids((mail.message_id,)) is not None


def _count(store: TicketStore, mail: InboundMail, fault: f.FaultRow, now: datetime) -> None:
    f.count_repeat(store.conn, fault.fingerprint, now)
    if not mail.message_id_synthesized:  # _seen_before found none: inserted without looking again
        store.conn.execute(INSERT_THREAD_REF, {"message_id": mail.message_id, "ticket_id": fault.ticket_id})


def _outcome(store: TicketStore, mail: InboundMail, number: int, disposition: str, reason: str) -> Outcome:
    ticket = store.get_ticket(number)
    return Outcome(disposition, mail, number, ticket.subject, store.get_contact(ticket.requester_id),
                   no_reply_reason=reason)


def _recover(store: TicketStore, mail: InboundMail, rule: MonitorRule, fault: f.FaultRow, reason: str,
             now: datetime, proven: bool) -> Outcome:
    number = fault.ticket_id
    if fault.state == "recovered":  # said twice: counted like a repeat
        _count(store, mail, fault, now)
        return _outcome(store, mail, number, Disposition.APPENDED, reason)
    f.record_recovery(store.conn, fault.fingerprint, now)
    store.add_inbound_article(number, mail, visibility="internal")
    store.record_event(number, "recovered", f"{rule.name} reports recovery after {fault.occurrences} "
                       f"occurrence(s) since {as_utc(fault.first_seen):%Y-%m-%d %H:%M} UTC")
    resolves = rule.resolve_on_recovery and fault.ticket_status not in FINISHED_STATUSES
    if resolves and not (proven or rule.trust_unproven):
        # A From line proves nothing: a forged "RESOLVED" must not close someone's outage.
        store.record_event(number, "recovery-unproven", f"not resolved: nothing proves the recovery came from "
                           f"{mail.sender} (monitoring {rule.name} resolves only proven mail or with trust_unproven)")
    elif resolves:
        # The usual resolve: the clock stops and the auto-close waits for the requester, which is
        # the monitoring address (automatic mail: it is never written to).
        store.update_ticket(number, status=TicketStatus.RESOLVED, resolved_at=now)
        store.record_event(number, "resolved", f"resolved by the recovery reported by {rule.name}")
    return _outcome(store, mail, number, Disposition.APPENDED, reason)


def _flapping(fault: f.FaultRow, rule: MonitorRule, now: datetime) -> bool:
    return fault.state == "recovered" and fault.recovered_at is not None \
        and now - as_utc(fault.recovered_at) <= timedelta(minutes=rule.flapping_minutes)


def _fail(store: TicketStore, mail: InboundMail, rule: MonitorRule, fault: f.FaultRow, reason: str,
          now: datetime) -> Absorbed | None:
    number, status = fault.ticket_id, fault.ticket_status
    if status not in FINISHED_STATUSES and fault.state == "failing":  # a repeat: counted, nothing else
        _count(store, mail, fault, now)
        return Absorbed(_outcome(store, mail, number, Disposition.APPENDED, reason))
    flapping = _flapping(fault, rule, now)
    if status not in FINISHED_STATUSES or (status == TicketStatus.RESOLVED and flapping):
        f.fail_again(store.conn, fault.fingerprint, now)
        store.add_inbound_article(number, mail, visibility="internal")
        store.record_event(number, "flapping" if flapping else "failing-again",
                           f"{rule.name} reports the fault again"
                           + (f" within {rule.flapping_minutes} min of its recovery" if flapping else ""))
        if status == TicketStatus.RESOLVED:
            store.update_ticket(number, status=TicketStatus.OPEN, closed_at=None, resolved_at=None)
            store.record_event(number, "reopened", "the fault came back after its recovery (flapping)")
            return Absorbed(_outcome(store, mail, number, Disposition.REOPENED, reason), reopened=True)
        return Absorbed(_outcome(store, mail, number, Disposition.APPENDED, reason))
    return None  # closed, or back after the window: a new ticket


def absorb_report(store: TicketStore, mail: InboundMail, rule: MonitorRule, report: FaultReport, reason: str,
                  now: datetime, proven: bool) -> tuple[Absorbed | None, f.FaultRow]:
    """What the fault's ticket makes of the report; None when a new ticket is needed (the caller
    creates it and calls f.start_ticket while the row is still locked). `proven`: the sender is
    proven (only then may a recovery resolve, unless the entry trusts unproven mail)."""
    fault = f.lock_fault(store.conn, report.fingerprint, None, now)
    if fault.ticket_id is not None and _seen_before(store, mail):  # the same report delivered again
        return Absorbed(_outcome(store, mail, fault.ticket_id, Disposition.DUPLICATE, reason)), fault
    if report.recovery and fault.ticket_id is None:
        # Nothing to recover: a ticket saying all is well helps nobody. The mail stays stored as received.
        return Absorbed(Outcome(Disposition.APPENDED, mail, no_reply_reason=f"{reason}; recovery of a fault "
                                "with no ticket: kept as received only")), fault
    if fault.ticket_id is None or fault.ticket_status is None:
        return None, fault
    if report.recovery:
        return Absorbed(_recover(store, mail, rule, fault, reason, now, proven)), fault
    return _fail(store, mail, rule, fault, reason, now), fault
