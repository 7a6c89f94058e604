"""The order of the stages a stored message goes through, as data: parse, then the table STAGES.

Every stage has one signature: it takes the message in process and returns an Outcome when it
has decided the message (the later stages are then skipped), or None to pass it on. Each one
writes what it decided to the processing log. Branches are stages too: a delivery report, staff
mail on a ticket and a client's answer to a resolved ticket end the pipeline early.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session

from helpdesk.gateway.alerts.ticket_alert import alert_new_ticket
from helpdesk.gateway.billing.approval_mail import invoice_reply
from helpdesk.gateway.conversation.closed_policy import follow_up_instead
from helpdesk.gateway.conversation.closing import close_confirmed, thanks_after_close
from helpdesk.gateway.conversation.confirmation import read_answer
from helpdesk.gateway.conversation.thread import TicketRef, find_ticket_ref
from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome, Refusal
from helpdesk.gateway.ground.processing_log import ProcessingLog, describe_parsed
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition, TicketStatus
from helpdesk.gateway.hygiene.bounce import parse_bounce
from helpdesk.gateway.hygiene.bounce_records import record_bounce
from helpdesk.gateway.hygiene.classify import Classification, classify, from_mail_system
from helpdesk.gateway.hygiene.quoting import strip_quoted
from helpdesk.gateway.hygiene.sender_proof import prove_sender as sender_proof
from helpdesk.gateway.objects.faults import absorb_report
from helpdesk.gateway.objects.object_links import NamedObjects, read_names
from helpdesk.gateway.objects.object_mail import ObjectRefusal, object_mail
from helpdesk.gateway.pipeline.apply import apply_mail
from helpdesk.gateway.pipeline.context import MessageInProcess, PipelineContext
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.pipeline.notify import plan_notifications
from helpdesk.gateway.pipeline.steps import may_continue_ticket, route_new, staff_news, staff_sender, verification
from helpdesk.gateway.sms.keyword_replies import keyword_reply
from helpdesk.gateway.sms.sms_thread import sms_ticket_ref
from helpdesk.gateway.staff_mailbox.mail_commands import parse_commands
from helpdesk.gateway.staff_mailbox.staff_mail import StaffMail, handle_staff_mail
from helpdesk.gateway.staff_mailbox.unverified import keep_unverified
from helpdesk.store import workflow as q
from helpdesk.store.faults import start_ticket
from helpdesk.store.object_links import ticket_object
from helpdesk.store.tickets import TicketStore
from helpdesk.store.workflow import reply_identities

log = logging.getLogger("helpdesk.pipeline")
Stage = Callable[[MessageInProcess], Outcome | None]


def parse_stored(inbound_id: int, raw: bytes, envelope_from: str | None, envelope_to: str, source: str,
                 ctx: PipelineContext) -> InboundMail:
    """The parse stage, outside any transaction (it is the costliest and needs no database)."""
    s = ctx.settings
    if source == "twilio":  # an SMS: its webhook's form, not RFC 5322
        return ctx.parse_sms(raw, inbound_id, source)
    mail = ctx.parse(raw, inbound_id, envelope_from, tuple(filter(None, envelope_to.split(","))), source,
                     max_attachment_bytes=s.max_attachment_bytes, max_attachments_total=s.max_attachments_total)
    bounce = parse_bounce(raw) if _may_be_report(mail, s) else None
    return replace(mail, new_text=strip_quoted(mail.text), bounce=bounce)


def _may_be_report(mail: InboundMail, settings: Settings) -> bool:
    """Cheap signs of a delivery report, so only those are parsed a second time."""
    bounce_prefix = f"{settings.bounce_local_part.lower()}+"
    return (mail.headers.get("content-type", "").lower().startswith("multipart/report") or from_mail_system(mail)
            or any(bounce_prefix in rcpt.lower() for rcpt in mail.envelope_to))


def skip_duplicate(m: MessageInProcess) -> Outcome | None:
    if m.store.has_article(m.mail.message_id):
        m.trace.add("duplicate", "an article with this Message-ID is already stored")
        return Outcome(Disposition.DUPLICATE, m.mail)
    return None


def sms_keyword(m: MessageInProcess) -> Outcome | None:
    if (answered := keyword_reply(m)) is None:
        return None
    outcome, intents = answered
    queue_mail(m.session, intents, m.ctx, m.trace, writer=m.mail.sender)
    return outcome


def record_delivery_report(m: MessageInProcess) -> Outcome | None:
    if m.mail.bounce is not None and (outcome := record_bounce(m.store, m.mail, m.ctx, m.ctx.clock())):
        m.trace.add("bounce", outcome.no_reply_reason or "recorded against the outbound mail it reports; "
                    "no ticket, no reply")
        return outcome
    return None


def classify_sender(m: MessageInProcess) -> None:
    s = m.ctx.settings
    classification = classify(m.mail, s.accepted_addresses, s.support_address, s.bounce_local_part if s.verp else "")
    m.verified = verification(m.mail, s.trusted_authservs)
    if m.verified.reason:
        m.trace.add("verification", m.verified.reason)
    if m.verified.verified is False and not classification.no_reply_reason:
        # No automatic reply to a sender who may be forged: it would go to the real owner (backscatter).
        classification = Classification(False, f"sender not verified ({m.verified.reason})")
    m.classification = classification
    m.trace.add("classified", f"no automatic reply: {classification.no_reply_reason}"
                if classification.no_reply_reason else "a person's mail")


def prove_sender(m: MessageInProcess) -> None:
    """A signed reply address issued to the sender, or a trusted pass for the From domain."""
    conn = m.store.conn
    m.proof = sender_proof(m.mail, m.verified, m.ctx.replies,
                           lambda address: reply_identities(conn, [address]).get(address.lower()))
    m.trace.add("proof", f"{'sender proven' if m.proof.proven else 'sender not proven'}: {m.proof.how}")


def find_thread(m: MessageInProcess) -> None:
    # A verified reply address names its ticket, whatever the subject says: it was issued for that one.
    if m.proof.ticket is not None and m.store.ticket_exists(m.proof.ticket):
        m.ref = TicketRef(m.proof.ticket, "signed reply address")
    elif m.mail.channel == "sms":
        m.ref = sms_ticket_ref(m.mail.text, m.ctx.settings.sms_ticket_pattern, m.store)
    else:
        m.ref = find_ticket_ref(m.mail, m.store, m.ctx.settings.ticket_tag, m.ctx.signer)
    m.trace.add("thread", f"ticket {m.ref.number} via {m.ref.via}" if m.ref else "names no ticket of ours")
    if m.ref is not None:  # two instances decide a ticket's status in turn
        m.store.lock_ticket(m.ref.number)


def staff_on_ticket(m: MessageInProcess) -> Outcome | None:
    """Mail from staff on a ticket: when proven, an answer for the client, a note or commands;
    when not, an internal note marked unverified, and a notice to the real staff address."""
    store = m.store
    if m.ref is None or not (staff := staff_sender(store, m.mail)):
        return None
    state = q.ticket_state(store.conn, m.ref.number)
    sm = StaffMail(m.mail, staff, state, store.get_contact(state.requester_id))
    if not m.proof.proven:
        m.trace.add("staff", f"{staff.email} on ticket {m.ref.number}, not proven: kept as an unverified note")
        outcome, intents = keep_unverified(store, sm, m.proof.how, m.ctx)
        queue_mail(m.session, intents, m.ctx, m.trace)
        return outcome
    if store.lift_block(m.mail.sender):
        m.trace.add("unblocked", f"{m.mail.sender} wrote to us: automatic mail to it may go again")
    m.trace.add("staff", f"{staff.email} ({', '.join(sorted(staff.roles))}) on ticket {m.ref.number}")
    outcome, intents = handle_staff_mail(store, sm, m.classification, m.ctx)
    queue_mail(m.session, intents, m.ctx, m.trace, writer=m.mail.sender)
    return outcome


def check_continuation(m: MessageInProcess) -> Outcome | None:
    """A stranger naming someone's ticket gets a ticket of their own (apply records the refusal)."""
    if m.ref is None:
        return None
    verdict = may_continue_ticket(m.session, m.store, m.mail, m.ref, m.verified, m.proof)
    m.trace.add("continue", f"{'allowed' if verdict else 'refused'}: {verdict.reason}")
    m.continue_verdict = verdict
    if not verdict:
        m.refused, m.ref = Refusal(m.ref.number, verdict.reason), None
    return None


def answer_to_finished(m: MessageInProcess) -> Outcome | None:
    """A client's yes to a resolved ticket closes it; a yes soon after closing is only kept."""
    if m.ref is None or m.classification.is_automatic:
        return None
    state = q.ticket_state(m.store.conn, m.ref.number)
    if state.status not in FINISHED_STATUSES or not (answer := read_answer(m.mail.new_text)).confirms:
        return None
    rating, now = f", rating {answer.rating}" if answer.rating else "", m.ctx.clock()
    if state.status == TicketStatus.RESOLVED and not m.proof.proven:
        # Closing acts for the client: an unproven "yes" is kept as their text, like any other mail.
        m.trace.add("confirmation", f"not taken as the client's agreement: {m.proof.how}")
        return None
    if state.status == TicketStatus.RESOLVED:
        m.trace.add("confirmation", f"the client agrees the ticket may be closed{rating}")
        outcome, intents = close_confirmed(m.store, m.mail, state, answer, now)
        queue_mail(m.session, intents, m.ctx, m.trace, writer=m.mail.sender)
        return outcome
    closed_at = m.store.get_ticket(m.ref.number).finished_at
    if closed_at and now - as_utc(closed_at) <= timedelta(days=m.ctx.settings.confirm_close_days):
        m.trace.add("confirmation", f"agreement after closing; kept without reopening{rating}")
        return thanks_after_close(m.store, m.mail, state, answer, now)
    return None


def closed_ticket_policy(m: MessageInProcess) -> None:
    """Mail to a closed ticket reopens it, or opens a new one linked to it (HELPDESK_CLOSED_TICKET_POLICY)."""
    if m.ref is not None:
        s = m.ctx.settings
        m.follow_up = follow_up_instead(m.store.get_ticket(m.ref.number), s.closed_ticket_policy,
                                        s.reopen_within_days, m.ctx.clock())
        m.ref = None if m.follow_up else m.ref


def route_and_apply(m: MessageInProcess, names: NamedObjects | None = None, machine: bool = False) -> Outcome:
    """Route a new ticket by the rules, write the message (apply), plan and queue its mail (notify).
    `names`: the object a monitoring report names; `machine`: a monitoring system's report (never
    answered, but staff hear of its ticket as of any other)."""
    s, store, mail = m.ctx.settings, m.store, m.mail
    decision = None
    if m.ref is None:
        decision = route_new(store, mail, m.ctx)
        m.trace.add("route", f"queue {decision.queue}, priority {decision.priority}, assignment {decision.assign} "
                    f"(rule {decision.rule})")
        names = names or read_names(mail, s.object_tag_pattern, decision.object)
    verdict = m.continue_verdict
    outcome = apply_mail(store, mail, m.classification, m.ref, decision, s.ticket_tag,
                         own_addresses=s.accepted_addresses, refused=m.refused, follow_up=m.follow_up,
                         allowed_because=verdict.reason if verdict else "",
                         believe_recipients=m.proof.proven, names=names if decision else None)
    if outcome.ticket_number and parse_commands(mail.new_text).commands:
        m.trace.add("commands", "ignored: only verified staff may give commands")
        store.record_event(outcome.ticket_number, "commands-ignored", f"{mail.sender} is not verified staff: "
                           "the commands in the mail were not carried out")
    for address in store.unblocked:
        m.trace.add("unblocked", f"{address} wrote to us: automatic mail to it may go again")
    intents = plan_notifications(outcome)
    if machine or not m.classification.is_automatic:
        intents += staff_news(store, outcome, m.proof, s.accepted_addresses)
    queued: list = []
    queue_mail(m.session, intents, m.ctx, m.trace, writer=mail.sender, queued_rows=queued)
    if decision is not None and (alert := alert_new_ticket(m.session, m.ctx, outcome, decision.alert, decision.rule,
                                                           queued, bool(names), machine)):
        m.trace.add("alert", alert)
    return outcome


def about_object(m: MessageInProcess) -> Outcome | None:
    """A document, `#docs` or `#inspected` for a client's object. Mail naming an object its sender
    may not act on goes the usual way (a ticket, or the ticket it continues), which records why the
    object was not touched."""
    decided = object_mail(m)
    if not isinstance(decided, ObjectRefusal):
        return decided
    after = next(i for i, (name, _) in enumerate(STAGES) if name == "object-mail") + 1
    outcome = next(o for _, stage in STAGES[after:] if (o := stage(m)) is not None)
    if outcome.ticket_number:
        m.store.record_event(outcome.ticket_number, "object-refused", decided.reason)
    return outcome


def machine_fault(m: MessageInProcess) -> Outcome | None:
    """A monitoring system's report: counted on its fault's ticket, or a new ticket for a new fault."""
    if (rule := m.ctx.rules().monitoring.rule_for(m.mail.sender)) is None or m.verified.verified is False:
        return None  # a trusted host saw the From fail: not the monitoring system, whatever it says
    reason = f"machine-reported (monitoring {rule.name}): automatic mail is never answered"
    m.classification = Classification(True, reason)
    if (report := rule.read(m.mail.subject, m.mail.new_text or m.mail.text)) is None:
        m.trace.add("fault", f"monitoring {rule.name}: no problem key found; an ordinary ticket")
        return None
    now = m.ctx.clock()
    absorbed, fault = absorb_report(m.store, m.mail, rule, report, reason, now, m.proof.proven)
    m.trace.add("fault", f"{report.fingerprint}: {'recovery' if report.recovery else 'failure'}, "
                + (f"ticket {fault.ticket_id}" if absorbed else "a new ticket"))
    if absorbed is not None:
        if absorbed.reopened:
            intents = staff_news(m.store, absorbed.outcome, m.proof, m.ctx.settings.accepted_addresses)
            queue_mail(m.session, intents, m.ctx, m.trace, writer=m.mail.sender)
        return absorbed.outcome
    m.ref = m.refused = m.follow_up = None
    names = NamedObjects(by_rule=report.object_identifier, rule_kind=f"monitoring {rule.name}")
    outcome = route_and_apply(m, names, machine=True)
    link = ticket_object(m.store.conn, outcome.ticket_number)
    start_ticket(m.store.conn, report.fingerprint, outcome.ticket_number, link.id if link else None, now)
    return outcome


# The order, in one place. The last stage always decides.
STAGES: tuple[tuple[str, Stage], ...] = (
    ("duplicate", skip_duplicate),
    ("sms-keyword", sms_keyword),
    ("bounce", record_delivery_report),
    ("classify", classify_sender),
    ("prove", prove_sender),
    ("invoice-reply", invoice_reply),
    ("object-mail", about_object),
    ("thread", find_thread),
    ("staff", staff_on_ticket),
    ("machine-fault", machine_fault),
    ("continue", check_continuation),
    ("confirmation", answer_to_finished),
    ("closed-policy", closed_ticket_policy),
    ("route-apply-notify", route_and_apply),
)


def process_mail(session: Session, mail: InboundMail, ctx: PipelineContext) -> Outcome:
    """The stages after parsing, inside the caller's transaction."""
    trace = ProcessingLog()
    trace.add("parsed", describe_parsed(mail))
    message = MessageInProcess(session, TicketStore(session, ctx.sla), mail, ctx, trace)
    outcome = next(o for _, stage in STAGES if (o := stage(message)) is not None)
    trace.add("result", f"{outcome.disposition}" + (f", ticket {outcome.ticket_number}"
                                                     if outcome.ticket_number else ""))
    return replace(outcome, log=tuple(trace.lines))
