"""A staff member's mail on a ticket: commands, an answer for the client, or an internal note.

The answer goes to the requester (and the people CC'd on the ticket) From the support address
under the technician's name, threaded into the client's conversation. A note (`#note`, or mail
to the notes address) and any automatic mail from staff (an out-of-office reply to a
notification) stay internal: they must never reach the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.records import ContactRow
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition, TicketStatus
from helpdesk.gateway.hygiene.classify import Classification
from helpdesk.gateway.hygiene.quoting import strip_quoted
from helpdesk.gateway.hygiene.signoff import split_signoff
from helpdesk.gateway.objects.problems import is_problem, resolve_incidents
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.notify import answer_thread
from helpdesk.gateway.sms.sms_answers import sms_answer
from helpdesk.gateway.staff_mailbox.mail_commands import ParsedCommands, parse_commands
from helpdesk.gateway.staff_mailbox.staff_notify import new_ticket, update
from helpdesk.gateway.staff_mailbox.ticket_actions import Applied, apply_commands, check_commands
from helpdesk.store import workflow as q
from helpdesk.store.tickets import TicketStore

# A question in the last paragraph (above any sign-off) means the technician waits for the client (pending).
_ASKS = re.compile(r"\?\s*$")


@dataclass(frozen=True)
class StaffMail:
    mail: InboundMail
    staff: q.Person
    state: q.TicketState
    requester: ContactRow


def _store(store: TicketStore, sm: StaffMail, visibility: str, new_text: str) -> None:
    store.add_inbound_article(sm.state.number, sm.mail, visibility=visibility, author_id=sm.staff.user_id,
                              new_text=new_text)


def _outcome(sm: StaffMail, disposition: str, reason: str | None = None) -> Outcome:
    return Outcome(disposition, sm.mail, sm.state.number, sm.state.subject, sm.requester, no_reply_reason=reason)


def _client_recipients(store: TicketStore, sm: StaffMail, own: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The ticket's other participants (CC'd clients): never staff, never our own addresses."""
    cc = []
    for address in sorted(store.participants(sm.state.number) - {sm.requester.email}):
        if "@" not in address or base_address(address) in own:  # a number that texted is no mail recipient
            continue
        person = q.person_by_address(store.conn, address)
        if person is None or not person.is_staff:
            cc.append((address, person.name if person else ""))
    return tuple(cc)


def _to_client(store: TicketStore, sm: StaffMail, text: str, resolved: bool, public: bool,
               ctx: PipelineContext) -> OutboundIntent:
    """The answer (or the confirmation request of #resolve). Attachments go along only with a
    public answer: those of an internal note (#resolve + #note) never leave."""
    thread = q.client_message_ids(store.conn, sm.state.number)
    references = tuple(thread[:1] + thread[-3:]) if len(thread) > 4 else tuple(thread)
    return OutboundIntent(
        kind="resolved" if resolved else "reply", ticket_number=sm.state.number,
        to_address=sm.requester.email, to_name=sm.requester.display_name, locale=sm.requester.locale,
        in_reply_to=thread[-1] if thread else None, references=references,
        context={"subject": sm.state.subject, "requester_name": sm.requester.display_name,
                 **salutation(sm.requester.display_name),
                 "author_name": sm.staff.name or ctx.settings.support_name, "text": text,
                 # A technician who signed their answer is not signed a second time by the template.
                 "author_signed": split_signoff(text, [sm.staff.name]).named,
                 "confirm_days": ctx.settings.confirm_close_days},
        cc=_client_recipients(store, sm, ctx.settings.accepted_addresses),
        from_name=f"{sm.staff.name} ({ctx.settings.support_name})" if sm.staff.name else None,
        attachments=sm.mail.attachments if public else (),
        auto_submitted="auto-generated" if resolved and not text else None)


def _refuse(store: TicketStore, sm: StaffMail, errors: list[str]) -> tuple[Outcome, list[OutboundIntent]]:
    _store(store, sm, "internal", sm.mail.new_text)
    store.record_event(sm.state.number, "commands-refused", f"mail from {sm.staff.email}: " + "; ".join(errors))
    in_reply_to, references = answer_thread(sm.mail)
    reply = OutboundIntent(kind="command_result", ticket_number=sm.state.number, to_address=sm.staff.email,
                           to_name=sm.staff.name, locale=sm.staff.locale, in_reply_to=in_reply_to,
                           references=references, context={"subject": sm.state.subject, "errors": errors})
    return _outcome(sm, Disposition.COMMANDS_REFUSED), [reply]


def _status_after_reply(applied: Applied, text: str, explicit: bool, author: str) -> str | None:
    """A technician's answer means the ticket is worked on; one that asks something waits for the client.
    The question is looked for above the sign-off: "…na ekranie?\n\nMarek" asks."""
    if explicit or applied.status in FINISHED_STATUSES:
        return None
    last_paragraph = split_signoff(text, [author]).body.split("\n\n")[-1]
    return TicketStatus.PENDING if _ASKS.search(last_paragraph) else TicketStatus.OPEN


def _is_note(parsed: ParsedCommands, mail: InboundMail, notes_address: str | None) -> bool:
    # The notes address may be in the envelope (SMTP, pipe) or only in To/Cc (IMAP, an MX alias).
    addressed = {base_address(a) for a in mail.envelope_to + mail.recipients}
    return "note" in parsed.names or bool(notes_address and notes_address in addressed)


def handle_staff_mail(store: TicketStore, sm: StaffMail, classification: Classification,
                      ctx) -> tuple[Outcome, list[OutboundIntent]]:
    if classification.is_automatic:
        _store(store, sm, "internal", sm.mail.new_text)
        store.record_event(sm.state.number, "staff-automatic", f"automatic mail from {sm.staff.email} kept "
                           f"as an internal note ({classification.no_reply_reason})")
        return _outcome(sm, Disposition.STAFF_NOTE, classification.no_reply_reason), []
    # Strictly the new text: when nothing is new (an attachment alone), the quoted part is our own
    # notification, which must never be forwarded to the client.
    parsed = parse_commands(strip_quoted(sm.mail.text, fallback=False))
    errors = list(parsed.errors) + check_commands(store.conn, sm.staff, sm.state, parsed.commands,
                                                  set(ctx.rules().queues))
    if errors:
        return _refuse(store, sm, errors)
    applied = apply_commands(store, sm.staff, sm.state, parsed.commands, ctx.clock())
    note = _is_note(parsed, sm.mail, ctx.settings.notes_address)
    public = bool(parsed.text or sm.mail.attachments) and not note
    _store(store, sm, "public" if public else "internal", parsed.text)
    explicit = bool(parsed.names & {"pending", "resolve", "close", "reopen"})
    status = public and _status_after_reply(applied, parsed.text, explicit, sm.staff.name)
    if status and status != sm.state.status:
        store.update_ticket(sm.state.number, status=status, first_response=True)
        applied.events.append(f"status {sm.state.status} -> {status} by {sm.staff.email}'s answer")
    elif public:  # the first public answer by staff stops the SLA's first-response clock
        store.update_ticket(sm.state.number, first_response=True)
    for event in applied.events:
        store.record_event(sm.state.number, "command", event)
    store.record_event(sm.state.number, "staff-reply" if public else "note",
                       f"{'answer to the client' if public else 'internal note'} from {sm.staff.email}")
    intents = _follow_on_mail(store, sm, applied, parsed.text if public else "", public, ctx)
    return _outcome(sm, Disposition.STAFF_REPLY if public else Disposition.STAFF_NOTE), intents


def _follow_on_mail(store: TicketStore, sm: StaffMail, applied: Applied, text: str, public: bool,
                    ctx) -> list[OutboundIntent]:
    intents = []
    texted = sms_answer(store.conn, ctx.renderer, sm.state.number, sm.requester, text,
                        sm.staff.name or ctx.settings.support_name) if public else None
    if texted is not None:
        intents.append(texted)
    if (public or applied.resolved) and (sm.requester.email or texted is None):  # mail too, when there is an address
        intents.append(_to_client(store, sm, text, applied.resolved, public, ctx))
    if applied.resolved and is_problem(store.conn, sm.state.number):  # its incidents are resolved with it
        s, monitoring = ctx.settings, ctx.rules().monitoring
        intents += resolve_incidents(store, sm.state.number, ctx.clock(), support_name=s.support_name,
                                     confirm_days=s.confirm_close_days,
                                     is_machine=lambda address: monitoring.rule_for(address) is not None)
    state = q.ticket_state(store.conn, sm.state.number)
    if applied.assigned_to is not None:
        intents += update(store.conn, state, sm.requester, "assigned", sm.mail.new_text, actor_name=sm.staff.name,
                          people=[applied.assigned_to])
    elif applied.moved_to_queue and state.assignee_id is None:
        intents += new_ticket(store.conn, state, sm.requester, q.latest_client_text(store.conn, state.number),
                              exclude=sm.staff.email)
    return intents
