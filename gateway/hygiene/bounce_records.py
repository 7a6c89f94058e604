"""Record a delivery status notification against the outbound mail it reports.

A report is believed only when it arrives at the signed VERP address of one outbox row
(bounces+<id>-<signature>@, message_ids.py) and names, as Final-Recipient or Original-Recipient,
an address that row was sent to. A believed report marks the row bounced (or notes a delay),
puts an internal note on the ticket and, for a permanent failure, blocks that address for
automatic mail. Anyone who got a mail of ours knows its Message-ID, so a report matched only
by the returned Message-ID, or naming an address the mail did not go to, is kept on the ticket
with the reason it was not acted on, and changes nothing else. No ticket and no reply come of
any report about our mail; one that matches nothing of ours is left to the normal pipeline (a
ticket flagged as automatic), so it is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.message import BounceReport, InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.statuses import Disposition, OutboxStatus
from helpdesk.gateway.hygiene.classify import from_mail_system
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store.account_tables import UserEmail
from helpdesk.store.models import Outbox
from helpdesk.store.tickets import TicketStore
from helpdesk.store.workflow import person_by_address

_outbox, _email = Outbox.__table__, UserEmail.__table__
OUTBOX_BY_ID = select(_outbox.c.id, _outbox.c.ticket_id, _outbox.c.kind, _outbox.c.rcpt_to).where(
    _outbox.c.id == bindparam("id"))
# Several rows can share a Message-ID (one copy per recipient): any of them names the ticket.
OUTBOX_BY_MESSAGE_ID = select(_outbox.c.id, _outbox.c.ticket_id, _outbox.c.kind, _outbox.c.rcpt_to).where(
    _outbox.c.message_id == bindparam("message_id")).order_by(_outbox.c.id)
MARK_BOUNCED = update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(
    status=OutboxStatus.BOUNCED, last_error=bindparam("error"))
BLOCK = update(_email).where(_email.c.address == bindparam("b_address")).values(
    blocked_until=bindparam("until"), block_reason=bindparam("reason"))
BLOCKED_UNTIL = select(_email.c.blocked_until, _email.c.block_reason).where(_email.c.address == bindparam("b_address"))
NOT_SIGNED = "not received at the signed bounce address of that mail"


@dataclass(frozen=True)
class ReportedMail:
    """The outbox row a report is about, and whether it came through that row's own bounce address."""

    row_id: int
    ticket_id: int | None
    kind: str
    rcpt_to: tuple[str, ...]
    signed: bool  # received at bounces+<row_id>-<valid signature>@

    @classmethod
    def of(cls, row, signed: bool) -> ReportedMail:
        row_id, ticket_id, kind, rcpt_to = row
        return cls(row_id, ticket_id, kind, tuple(a.strip().lower() for a in rcpt_to.split(",") if a.strip()),
                   signed)


def _reported_mail(conn: Connection, mail: InboundMail, report: BounceReport, signer,
                   local: str) -> ReportedMail | None:
    for rcpt in mail.envelope_to:
        outbox_id = signer.outbox_id(rcpt, local)
        if outbox_id is not None and (row := conn.execute(OUTBOX_BY_ID, {"id": outbox_id}).first()):
            return ReportedMail.of(row, signed=True)
    # Only mail that looks like it comes from a mail system (null sender, MAILER-DAEMON/postmaster)
    # is matched by Message-ID, and then only to note it on the ticket: anyone can write those.
    if report.original_message_id and from_mail_system(mail):
        row = conn.execute(OUTBOX_BY_MESSAGE_ID, {"message_id": report.original_message_id}).first()
        if row is not None:
            return ReportedMail.of(row, signed=False)
    return None


def _believed_recipient(report: BounceReport, reported: ReportedMail) -> tuple[str, str]:
    """(the address of that mail the report is believed for, "") or ("", why it is not believed).

    The signature proves the report reached the envelope sender of that one row, which only the
    relays on its way (and its recipients, in Return-Path) ever saw; the named address must then
    be one the row really went to, or a recipient of it could get another address blocked."""
    if not reported.signed:
        return "", NOT_SIGNED
    named = [a for a in (report.recipient, report.original_recipient) if a]
    address = next((a for a in named if a in reported.rcpt_to), "")
    if address:
        return address, ""
    if not named:
        return "", f"it names no recipient of outbox {reported.row_id}"
    return "", f"the mail of outbox {reported.row_id} was not sent to {' or '.join(named)}"


def record_bounce(store: TicketStore, mail: InboundMail, ctx: PipelineContext, now: datetime) -> Outcome | None:
    """The outcome of a report about our mail, or None when it is about nothing we sent."""
    report, s = mail.bounce, ctx.settings
    reported = _reported_mail(store.conn, mail, report, ctx.signer, s.bounce_local_part.lower())
    if reported is None:
        return None
    recipient, doubt = _believed_recipient(report, reported)
    if doubt:
        _note_unbelieved(store, mail, report, reported, doubt)
        return Outcome(Disposition.BOUNCE, mail, reported.ticket_id,
                       no_reply_reason=f"delivery status notification, not acted on: {doubt}")
    what = _what(report)
    if report.action == "failed":
        store.conn.execute(MARK_BOUNCED, {"row_id": reported.row_id, "error": f"bounced {what}"})
    if reported.ticket_id is not None:
        summary = (f"Delivery report ({report.action}) for the {reported.kind} mail to {recipient} "
                   f"(outbox {reported.row_id}, matched by VERP address): {what}")
        store.add_inbound_article(reported.ticket_id, mail, visibility="internal", new_text=summary)
        store.record_event(reported.ticket_id, "bounced" if report.action == "failed"
                           else "delivery-" + report.action, summary)
    if report.permanent:
        _block(store, reported.ticket_id, recipient, what, now, s.hard_bounce_block_days)
    return Outcome(Disposition.BOUNCE, mail, reported.ticket_id, no_reply_reason="delivery status notification")


def _what(report: BounceReport) -> str:
    return f"{report.status or 'no status'}: {report.diagnostic or 'no diagnostic'}"


def _note_unbelieved(store: TicketStore, mail: InboundMail, report: BounceReport, reported: ReportedMail,
                     doubt: str) -> None:
    """Kept where staff look, so a real problem behind it can still be seen; nothing else changes."""
    note = f"delivery report for {report.recipient or 'an unnamed recipient'}, not acted on: {doubt}"
    if reported.ticket_id is None:
        return
    store.add_inbound_article(reported.ticket_id, mail, visibility="internal",
                              new_text=f"{note} (outbox {reported.row_id}, it says {report.action}, {_what(report)})")
    store.record_event(reported.ticket_id, "delivery-report-not-acted-on", note)


def _block(store: TicketStore, ticket_id: int | None, recipient: str, what: str, now: datetime, days: int) -> None:
    person = person_by_address(store.conn, recipient)
    if person is not None and person.is_staff:  # staff must keep hearing of tickets; say so instead
        if ticket_id is not None:
            store.record_event(ticket_id, "staff-bounce", f"mail to staff address {recipient} bounced "
                               f"permanently ({what}); not blocked, check the address")
        return
    until = now + timedelta(days=days)
    store.conn.execute(BLOCK, {"b_address": recipient, "until": until,
                               "reason": f"bounced permanently ({what}) on {now:%Y-%m-%d}"})
    if ticket_id is not None:
        store.record_event(ticket_id, "address-blocked", f"no automatic mail to {recipient} until "
                           f"{until:%Y-%m-%d} (or until mail comes from it)")


def blocked_reason(conn: Connection, address: str, now: datetime) -> str | None:
    row = conn.execute(BLOCKED_UNTIL, {"b_address": address.lower()}).first()
    if row is None or row[0] is None:
        return None
    until = as_utc(row[0])
    return f"{row[1]}; blocked until {until:%Y-%m-%d}" if until > now else None
