"""The end of a ticket: the client confirms a resolved ticket, or it closes itself after the wait.

A resolved ticket waits HELPDESK_CONFIRM_CLOSE_DAYS for the requester's answer; a yes (with
an optional 1-5 rating, kept against the technician) closes it, and silence closes it too,
with a notice to the requester. Anything else the client writes reopens it (gateway/apply.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.conversation.confirmation import Answer
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import Disposition, TicketStatus
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.staff_mailbox.staff_notify import update
from helpdesk.store import workflow as q
from helpdesk.store.tickets import TicketStore

log = logging.getLogger("helpdesk.closing")


def close_confirmed(store: TicketStore, mail: InboundMail, state: q.TicketState, answer: Answer,
                    now: datetime) -> tuple[Outcome, list[OutboundIntent]]:
    """The requester (or a participant) said yes: close, keep the rating, tell the technician."""
    requester = store.get_contact(state.requester_id)
    store.find_or_create_contact(mail.sender, mail.sender_name)
    store.add_inbound_article(state.number, mail)
    store.update_ticket(state.number, status=TicketStatus.CLOSED, closed_at=now)
    rating = f", rating {answer.rating} of 5" if answer.rating else ""
    store.record_event(state.number, "closed", f"confirmed by {mail.sender}{rating}")
    if answer.rating:
        q.record_rating(store.conn, state.number, state.assignee_id, answer.rating, now)
    intents = update(store.conn, state, requester, "confirmed", mail.new_text or mail.text, mail=mail,
                     rating=answer.rating)
    outcome = Outcome(Disposition.CONFIRMED, mail, state.number, state.subject, requester,
                      no_reply_reason="the client confirmed; nothing to answer")
    return outcome, intents


def thanks_after_close(store: TicketStore, mail: InboundMail, state: q.TicketState, answer: Answer,
                       now: datetime) -> Outcome:
    """A yes (or a second thank-you) to a ticket closed lately is kept, not taken as a new problem:
    reopening it would send notices and notify staff for nothing."""
    requester = store.get_contact(state.requester_id)
    store.find_or_create_contact(mail.sender, mail.sender_name)
    store.add_inbound_article(state.number, mail)
    rating = ""
    if answer.rating and not q.has_rating(store.conn, state.number):
        q.record_rating(store.conn, state.number, state.assignee_id, answer.rating, now)
        rating = f"; rating {answer.rating} of 5 kept"
    store.record_event(state.number, "appended", f"agreement from {mail.sender} after closing; not reopened{rating}")
    return Outcome(Disposition.CONFIRMED, mail, state.number, state.subject, requester,
                   no_reply_reason="the client agreed after closing; nothing to answer")


def _auto_close_one(store: TicketStore, number: int, days: int, now: datetime) -> OutboundIntent | None:
    state = q.ticket_state(store.conn, number)
    requester = store.get_contact(state.requester_id)
    if not q.close_if_still_resolved(store.conn, number, now - timedelta(days=days), now):
        return None  # the client answered in the meantime
    store.update_ticket(number, status=TicketStatus.CLOSED)  # the SLA clock stops counting the wait
    store.record_event(number, "closed", f"automatically: no answer from the requester within {days} days")
    return OutboundIntent(kind="auto_closed", ticket_number=number, to_address=requester.email,
                          to_name=requester.display_name, locale=requester.locale, in_reply_to=None,
                          context={"subject": state.subject, "requester_name": requester.display_name,
                                   **salutation(requester.display_name), "confirm_days": days},
                          auto_submitted="auto-generated")


def close_unconfirmed(session: Session, ctx: PipelineContext, now: datetime, limit: int = 500) -> int:
    """Close resolved tickets whose wait ran out (one transaction, the caller's); returns how many."""
    days = ctx.settings.confirm_close_days
    store = TicketStore(session, ctx.sla)
    due = q.resolved_before(store.conn, now - timedelta(days=days), limit)
    intents = [i for number in due if (i := _auto_close_one(store, number, days, now))]
    queue_mail(session, intents, ctx)
    if intents:
        log.info("closed %d resolved tickets without an answer for %d days: %s", len(intents), days,
                 ", ".join(str(i.ticket_number) for i in intents))
    return len(intents)
