"""Record a delivery status notification against the outbound mail it reports.

The report is matched by the signed VERP address it was sent to, else by the Message-ID of
the returned original. A match marks the outbox row bounced (or notes a delay), puts an
internal note on the ticket and, for a permanent failure, blocks the address for automatic
mail. No ticket and no reply come of it. A report that matches nothing of ours is left to
the normal pipeline (a ticket flagged as automatic), so it is never lost.
"""

from __future__ import annotations

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
OUTBOX_BY_MESSAGE_ID = select(_outbox.c.id, _outbox.c.ticket_id, _outbox.c.kind, _outbox.c.rcpt_to).where(
    _outbox.c.message_id == bindparam("message_id"))
MARK_BOUNCED = update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(
    status=OutboxStatus.BOUNCED, last_error=bindparam("error"))
BLOCK = update(_email).where(_email.c.address == bindparam("b_address")).values(
    blocked_until=bindparam("until"), block_reason=bindparam("reason"))
BLOCKED_UNTIL = select(_email.c.blocked_until, _email.c.block_reason).where(_email.c.address == bindparam("b_address"))


def _reported_row(conn: Connection, mail: InboundMail, report: BounceReport, signer, local: str):
    for rcpt in mail.envelope_to:
        outbox_id = signer.outbox_id(rcpt, local)
        if outbox_id is not None and (row := conn.execute(OUTBOX_BY_ID, {"id": outbox_id}).first()):
            return row, "VERP address"
    # Anyone who got a mail of ours knows its Message-ID: that path is only for mail that looks
    # like it comes from a mail system (null sender or MAILER-DAEMON/postmaster).
    if report.original_message_id and from_mail_system(mail):
        row = conn.execute(OUTBOX_BY_MESSAGE_ID, {"message_id": report.original_message_id}).first()
        if row is not None:
            return row, "returned Message-ID"
    return None, ""


def record_bounce(store: TicketStore, mail: InboundMail, ctx: PipelineContext, now: datetime) -> Outcome | None:
    """The outcome of a report about our mail, or None when it is about nothing we sent."""
    report, s = mail.bounce, ctx.settings
    row, matched_by = _reported_row(store.conn, mail, report, ctx.signer, s.bounce_local_part.lower())
    if row is None:
        return None
    row_id, ticket_id, kind, rcpt_to = row
    ours = [a.strip().lower() for a in rcpt_to.split(",") if a.strip()]
    # Only an address that mail really went to can be reported; a report naming another is not believed.
    recipient = report.recipient.lower() if report.recipient.lower() in ours else ours[0] if ours else ""
    what = f"{report.status or 'no status'}: {report.diagnostic or 'no diagnostic'}"
    if report.action == "failed":
        store.conn.execute(MARK_BOUNCED, {"row_id": row_id, "error": f"bounced {what}"})
    if ticket_id is not None:
        summary = (f"Delivery report ({report.action}) for the {kind} mail to {recipient} "
                   f"(outbox {row_id}, matched by {matched_by}): {what}")
        store.add_inbound_article(ticket_id, mail, visibility="internal", new_text=summary)
        store.record_event(ticket_id, "bounced" if report.action == "failed" else "delivery-" + report.action,
                           summary)
    if report.permanent and recipient:
        _block(store, ticket_id, recipient, what, now, s.hard_bounce_block_days)
    return Outcome(Disposition.BOUNCE, mail, ticket_id, no_reply_reason="delivery status notification")


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
