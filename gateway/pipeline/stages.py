"""The order of the stages a stored message goes through: parse, classify, thread, route, apply, notify.

This module only wires the stages; each lives in its own module and can be tested alone.
Mail from staff on a ticket branches off after threading (gateway/staff_mail.py), as do
delivery reports (gateway/bounce_records.py) and a client's answer to a resolved ticket
(gateway/closing.py). Every decision is written to the message's processing log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Callable

from sqlmodel import Session

from helpdesk.gateway.conversation.closed_policy import follow_up_instead
from helpdesk.gateway.conversation.closing import close_confirmed, thanks_after_close
from helpdesk.gateway.conversation.confirmation import read_answer
from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.conversation.thread import TicketRef, find_ticket_ref
from helpdesk.gateway.ground.clock import as_utc, utcnow
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome, Refusal
from helpdesk.gateway.ground.processing_log import ProcessingLog, describe_parsed
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition, TicketStatus
from helpdesk.gateway.hygiene.bounce import parse_bounce
from helpdesk.gateway.hygiene.bounce_records import record_bounce
from helpdesk.gateway.hygiene.classify import Classification, classify, from_mail_system
from helpdesk.gateway.hygiene.quoting import strip_quoted
from helpdesk.gateway.pipeline.apply import apply_mail
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.pipeline.notify import plan_notifications
from helpdesk.gateway.pipeline.steps import may_continue_ticket, route_new, staff_news, staff_sender, verification
from helpdesk.gateway.routing.rules import Rules
from helpdesk.gateway.staff_mailbox.mail_commands import parse_commands
from helpdesk.gateway.staff_mailbox.staff_mail import StaffMail, handle_staff_mail
from helpdesk.inbound.parse import parse_mail
from helpdesk.outbound.render import Renderer
from helpdesk.store import workflow as q
from helpdesk.store.tickets import TicketStore

log = logging.getLogger("helpdesk.pipeline")


@dataclass
class PipelineContext:
    settings: Settings
    renderer: Renderer
    rules: Callable[[], Rules]  # current rules; reloading swaps what this returns
    mailbox_queues: dict[str, str] = field(default_factory=dict)  # "imap:<name>" -> queue
    signer: MessageIdSigner | None = None  # signs our Message-IDs and checks the ones replies name

    def __post_init__(self):
        if self.signer is None:
            self.signer = MessageIdSigner(self.settings.signing_secret(), self.settings.message_id_domain)


def parse_stored(inbound_id: int, raw: bytes, envelope_from: str | None, envelope_to: str,
                 source: str = "", settings: Settings | None = None) -> InboundMail:
    """Stage 1, outside any transaction (it is the costliest and needs no database)."""
    limits = {"max_attachment_bytes": settings.max_attachment_bytes,
              "max_attachments_total": settings.max_attachments_total} if settings else {}
    mail = parse_mail(raw, inbound_id, envelope_from, tuple(filter(None, envelope_to.split(","))), source,
                      **limits)
    bounce = parse_bounce(raw) if _may_be_report(mail, settings) else None
    return replace(mail, new_text=strip_quoted(mail.text), bounce=bounce)


def _may_be_report(mail: InboundMail, settings: Settings | None) -> bool:
    """Cheap signs of a delivery report, so only those are parsed a second time."""
    bounce_prefix = f"{settings.bounce_local_part.lower()}+" if settings else "+"
    return (mail.headers.get("content-type", "").lower().startswith("multipart/report") or from_mail_system(mail)
            or any(bounce_prefix in rcpt.lower() for rcpt in mail.envelope_to))


def process_mail(session: Session, mail: InboundMail, ctx: PipelineContext) -> Outcome:
    """Stages 2 to 6 for a parsed message, inside the caller's transaction."""
    trace = ProcessingLog()
    trace.add("parsed", describe_parsed(mail))
    outcome = _process(session, mail, ctx, trace)
    trace.add("result", f"{outcome.disposition}" + (f", ticket {outcome.ticket_number}"
                                                     if outcome.ticket_number else ""))
    return replace(outcome, log=tuple(trace.lines))


def _process(session: Session, mail: InboundMail, ctx: PipelineContext, trace: ProcessingLog) -> Outcome:
    s, store = ctx.settings, TicketStore(session)
    if store.has_article(mail.message_id):
        trace.add("duplicate", "an article with this Message-ID is already stored")
        return Outcome(Disposition.DUPLICATE, mail)
    if mail.bounce is not None and (outcome := record_bounce(store, mail, ctx, utcnow())):
        trace.add("bounce", "recorded against the outbound mail it reports; no ticket, no reply")
        return outcome
    classification = classify(mail, s.accepted_addresses, s.support_address,
                              s.bounce_local_part if s.verp else "")
    verified = verification(mail, s.trusted_authservs)
    if verified.reason:
        trace.add("verification", verified.reason)
    if verified.verified is False and not classification.no_reply_reason:
        # No automatic reply to a sender who may be forged: it would go to the real owner (backscatter).
        classification = Classification(False, f"sender not verified ({verified.reason})")
    trace.add("classified", f"no automatic reply: {classification.no_reply_reason}"
              if classification.no_reply_reason else "a person's mail")
    ref = find_ticket_ref(mail, store, s.ticket_tag, ctx.signer)
    trace.add("thread", f"ticket {ref.number} via {ref.via}" if ref else "names no ticket of ours")
    if ref is not None:
        store.lock_ticket(ref.number)
    if ref is not None and (staff := staff_sender(store, mail, verified, s.staff_mail_requires_pass)):
        state = q.ticket_state(store.conn, ref.number)
        if store.lift_block(mail.sender):
            trace.add("unblocked", f"{mail.sender} wrote to us: automatic mail to it may go again")
        trace.add("staff", f"{staff.email} ({', '.join(sorted(staff.roles))}) on ticket {ref.number}")
        outcome, intents = handle_staff_mail(store, StaffMail(mail, staff, state, store.get_contact(
            state.requester_id)), classification, ctx)
        queue_mail(session, intents, ctx, trace, writer=mail.sender)
        return outcome
    return _client_mail(session, store, mail, ref, classification, verified, ctx, trace)


def _client_mail(session, store: TicketStore, mail: InboundMail, ref: TicketRef | None, classification,
                 verified, ctx, trace: ProcessingLog) -> Outcome:
    s = ctx.settings
    decision, refused, verdict, follow_up = None, None, None, None
    if ref is not None:
        verdict = may_continue_ticket(session, store, mail, ref, verified)
        trace.add("continue", f"{'allowed' if verdict else 'refused'}: {verdict.reason}")
        if not verdict:  # a stranger naming someone's ticket gets a ticket of their own
            refused, ref = Refusal(ref.number, verdict.reason), None
        else:
            if (answered := _answer_to_finished(session, store, mail, ref, classification, ctx, trace)) is not None:
                return answered
            follow_up = follow_up_instead(store.get_ticket(ref.number), s.closed_ticket_policy,
                                          s.reopen_within_days, utcnow())
            ref = None if follow_up else ref
    if ref is None:
        decision = route_new(store, mail, ctx)
        trace.add("route", f"queue {decision.queue}, priority {decision.priority}, assignment {decision.assign} "
                  f"(rule {decision.rule})")
    outcome = apply_mail(store, mail, classification, ref, decision, s.ticket_tag,
                         own_addresses=s.accepted_addresses, refused=refused, follow_up=follow_up,
                         allowed_because=verdict.reason if verdict else "", verified=verified.verified is not False)
    if outcome.ticket_number and parse_commands(mail.new_text).commands:
        trace.add("commands", "ignored: only verified staff may give commands")
        store.record_event(outcome.ticket_number, "commands-ignored", f"{mail.sender} is not verified staff: "
                           "the commands in the mail were not carried out")
    for address in store.unblocked:
        trace.add("unblocked", f"{address} wrote to us: automatic mail to it may go again")
    intents = plan_notifications(outcome)
    if not classification.is_automatic:
        intents += staff_news(store, outcome)
    queue_mail(session, intents, ctx, trace, writer=mail.sender)
    return outcome


def _answer_to_finished(session, store: TicketStore, mail: InboundMail, ref: TicketRef, classification, ctx,
                        trace: ProcessingLog) -> Outcome | None:
    """A client's yes to a resolved ticket closes it; a yes soon after closing is only kept."""
    state = q.ticket_state(store.conn, ref.number)
    if state.status not in FINISHED_STATUSES or classification.is_automatic:
        return None
    answer = read_answer(mail.new_text)
    if not answer.confirms:
        return None
    rating = f", rating {answer.rating}" if answer.rating else ""
    if state.status == TicketStatus.RESOLVED:
        trace.add("confirmation", f"the client agrees the ticket may be closed{rating}")
        outcome, intents = close_confirmed(store, mail, state, answer, utcnow())
        queue_mail(session, intents, ctx, trace, writer=mail.sender)
        return outcome
    closed_at = store.get_ticket(ref.number).finished_at
    if closed_at and utcnow() - as_utc(closed_at) <= timedelta(days=ctx.settings.confirm_close_days):
        trace.add("confirmation", f"agreement after closing; kept without reopening{rating}")
        return thanks_after_close(store, mail, state, answer, utcnow())
    return None
