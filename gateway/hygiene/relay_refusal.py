"""A relay's permanent refusal of a recipient at RCPT (550 5.1.1 User unknown), handled like that status in a DSN.

Postfix usually refuses an unknown recipient synchronously instead of accepting and bouncing. The
dispatcher (outbound/) has marked the outbox row failed; in the same transaction this gives the
ticket what a believed permanent delivery report gives it (bounce_records.py): an internal note
for the technician, the `bounced` event and, unless it is a staff address, a block on automatic
mail to the address. The relay said it to us directly, so no signature is needed to believe it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlmodel import Session

from helpdesk.gateway.ground.outgoing import SendResult
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.gateway.hygiene.bounce_records import _block
from helpdesk.store.models import Article, Outbox
from helpdesk.store.tickets import TicketStore

_outbox, _article = Outbox.__table__, Article.__table__
REFUSED_ROW = select(_outbox.c.ticket_id, _outbox.c.kind, _outbox.c.status).where(
    _outbox.c.id == bindparam("id"))
INSERT_NOTE = insert(_article)


def record_relay_refusals(session: Session, results: list[SendResult], now: datetime, block_days: int) -> None:
    """For each mail the relay refused at RCPT: note, event and block, as for a permanent DSN."""
    store = TicketStore(session)
    for result in results:
        row = store.conn.execute(REFUSED_ROW, {"id": result.outbox_id}).first()
        if row is None or row.status != OutboxStatus.FAILED:
            continue  # not ours to record any more: another instance took the row over
        for address in result.refused_recipients:
            _record_refusal(store, result, row, address.lower(), now, block_days)


def _record_refusal(store: TicketStore, result: SendResult, row, address: str, now: datetime,
                    block_days: int) -> None:
    if row.ticket_id is not None:
        summary = (f"Delivery refused by the relay for the {row.kind} mail to {address} "
                   f"(outbox {result.outbox_id}, at RCPT): {result.detail}")
        _add_note(store, row.ticket_id, result.outbox_id, summary, now)
        store.record_event(row.ticket_id, "bounced", summary)
    _block(store, row.ticket_id, address, f"refused at RCPT: {result.detail}", now, block_days)


def _add_note(store: TicketStore, ticket_id: int, outbox_id: int, text: str, now: datetime) -> None:
    # An internal article, like the DSN's note: where the technician reads the ticket. Its
    # Message-ID is made up (articles need a unique one) and is no mail anyone can reply to.
    store.conn.execute(INSERT_NOTE, {
        "ticket_id": ticket_id, "direction": "in", "channel": "email", "sender": "",
        "subject": "Delivery refused by the relay", "message_id": f"relay-refusal.{outbox_id}.{now:%Y%m%d%H%M%S%f}"
        "@helpdesk.invalid", "text": text, "new_text": text, "visibility": "internal", "created_at": now})
