"""Mail about a client's object: a document for it (`[OBJ SRV-01]` in the subject), a request for
its list of documents (`#docs SRV-01`), a technician's `#inspected SRV-01` with the report.

Only a proven sender acts on an object: a user of the object's organization, or staff. What they
sent is recorded as a ticket of its own, closed at once (it is a record, not work for anybody: a
reply to our confirmation reopens it like any closed ticket), and the sender gets a confirmation.
Anyone else's mail naming an object adds nothing to it: the pipeline keeps it as an ordinary
ticket, which says why the object was not touched, so a person can look at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.conversation.ticket_tag import clean_subject
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import Disposition, TicketStatus
from helpdesk.gateway.objects.object_links import tag_pattern, tagged_identifiers
from helpdesk.gateway.pipeline.context import MessageInProcess
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.pipeline.notify import answer_thread
from helpdesk.store import workflow as q
from helpdesk.store.object_documents import add_document, list_documents
from helpdesk.store.object_links import ObjectLink, objects_named, organization_of
from helpdesk.store.objects import record_inspection

# `#docs SRV-01` or `#inspected SRV-01 [2026-12-01]` as the first line of the new text.
_COMMAND = re.compile(r"#(docs|inspected)[ \t]+([A-Za-z0-9][A-Za-z0-9._/-]{0,63})(?:[ \t]+(\d{4}-\d{2}-\d{2}))?"
                      r"[ \t]*$", re.IGNORECASE)
STAFF_ACTING_ON_OBJECTS = frozenset({"technician", "dispatcher", "admin"})


@dataclass(frozen=True)
class ObjectRequest:
    """What the mail asks of which object: "documents" (attachments to add), "docs" or "inspected"."""

    action: str
    identifier: str
    day: str | None = None


@dataclass(frozen=True)
class ObjectRefusal:
    """The mail named an object its sender may not act on: it becomes an ordinary ticket saying so."""

    reason: str


def read_request(m: MessageInProcess) -> ObjectRequest | None:
    """From the text alone: no database for mail that names no object."""
    first = next((line.strip() for line in (m.mail.new_text or m.mail.text).splitlines() if line.strip()), "")
    if first.startswith("#") and (command := _COMMAND.match(first)):
        return ObjectRequest(command[1].lower(), command[2], command[3])
    if m.mail.attachments and (tagged := tagged_identifiers(m.ctx.settings.object_tag_pattern, m.mail.subject)):
        return ObjectRequest("documents", tagged[0])
    return None


def _why_not_day(text: str, today: date) -> str:
    """Why an inspection date is refused ("" when it is fine): not a date, or one that has not come
    yet (an inspection in the future is a typing mistake, and a date near 9999 would overflow the next
    one's); the CLI refuses the same."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return f"{text} is not a date (YYYY-MM-DD)"
    return f"{text} is in the future" if day > today else ""


def _target(m: MessageInProcess, request: ObjectRequest) -> tuple[ObjectLink | None, q.Person | None, str]:
    """The object, the acting staff member (None for a client) and, when there is no object to act
    on, why not."""
    conn = m.store.conn
    if not m.proof.proven:
        return None, None, f"the sender is not proven ({m.proof.how})"
    person = q.person_by_address(conn, m.mail.sender)
    if person is not None and not person.active:  # someone who left keeps no say over the objects
        return None, None, "the sender's account is deactivated"
    staff = person if person and STAFF_ACTING_ON_OBJECTS & set(person.roles) else None
    if request.action == "inspected" and staff is None:
        return None, None, "only the provider's technicians record inspections"
    if request.day is not None and (why := _why_not_day(request.day, m.ctx.clock().date())):
        return None, staff, why
    org_id = None if staff else organization_of(conn, m.mail.sender)
    if staff is None and org_id is None:
        return None, None, "the sender is not a user of any client organization"
    found = objects_named(conn, [request.identifier], org_id)
    if len(found) != 1:
        whose = "of any organization (or of several)" if staff else "of the sender's organization"
        return None, staff, f"{request.identifier} is not an object {whose}"
    return found[0], staff, ""


def _record_ticket(m: MessageInProcess, link: ObjectLink, what: str) -> tuple[int, object]:
    """A closed ticket holding the mail (with its attachments), so the mail is kept whole and
    the confirmation has a number to be answered on."""
    store, now = m.store, m.ctx.clock()
    contact = store.find_or_create_contact(m.mail.sender, m.mail.sender_name)
    subject = clean_subject(tag_pattern(m.ctx.settings.object_tag_pattern).sub("", m.mail.subject),
                            m.ctx.settings.ticket_tag).strip() or f"{link.identifier}: {what}"
    number = store.create_ticket(subject, contact.id, {"queue": m.ctx.rules().default.queue, "rule": "object-mail",
                                                       "object_id": link.id})
    store.add_inbound_article(number, m.mail)
    store.add_participants(number, {m.mail.sender}, new_ticket=True)
    store.record_event(number, "object-mail", f"{what} for object {link.identifier}")
    store.update_ticket(number, status=TicketStatus.CLOSED, closed_at=now)
    return number, contact


def _confirm(m: MessageInProcess, number: int, contact, kind: str, context: dict) -> Outcome:
    in_reply_to, references = answer_thread(m.mail)
    subject = m.store.get_ticket(number).subject
    intent = OutboundIntent(kind=kind, ticket_number=number, to_address=m.mail.sender, to_name=m.mail.sender_name,
                            locale=contact.locale, in_reply_to=in_reply_to, references=references,
                            context={"subject": subject, "requester_name": m.mail.sender_name,
                                     **salutation(m.mail.sender_name), **context})
    if m.classification.no_reply_reason:  # automatic mail is never answered, not even here
        m.store.record_event(number, "reply-suppressed", m.classification.no_reply_reason)
    else:
        queue_mail(m.session, [intent], m.ctx, m.trace, writer=m.mail.sender)
    return Outcome(Disposition.CREATED, m.mail, number, subject, contact,
                   no_reply_reason=m.classification.no_reply_reason)


def _documents(m: MessageInProcess, link: ObjectLink, by: int | None, number: int, kind: str) -> dict[str, int]:
    """File name -> document id of each attachment stored; one too large or badly named is only refused."""
    added, now = {}, m.ctx.clock()
    for attachment in m.mail.attachments:
        try:
            added[attachment.filename] = add_document(
                m.session, link.id, filename=attachment.filename, content_type=attachment.content_type,
                data=attachment.data, kind=kind, added_by=by, ticket_id=number, now=now,
                max_bytes=m.ctx.settings.max_attachment_bytes)
        except UserError as exc:  # kept on the ticket's article all the same
            m.store.record_event(number, "document-refused", str(exc))
    return added


def _listing(m: MessageInProcess, link: ObjectLink) -> list[dict]:
    return [{"filename": d.filename, "kind": d.kind, "size": d.size, "added_at": f"{d.added_at:%Y-%m-%d}"}
            for d in list_documents(m.store.conn, link.id)]


def _carry_out(m: MessageInProcess, request: ObjectRequest, link: ObjectLink, staff: q.Person | None) -> Outcome:
    user_id = staff.user_id if staff else m.store.find_or_create_contact(m.mail.sender, m.mail.sender_name).id
    what = {"documents": "documents sent", "docs": "list of documents asked for",
            "inspected": "inspection recorded"}[request.action]
    number, contact = _record_ticket(m, link, what)
    context = {"object_identifier": link.identifier, "object_name": link.name, "added": [],
               "inspected_on": "", "next_inspection": ""}
    if request.action == "docs":
        context["documents"] = _listing(m, link)
        m.trace.add("object", f"{link.identifier}: list of {len(context['documents'])} document(s) mailed")
        return _confirm(m, number, contact, "object_docs_list", context)
    kind = "inspection-report" if request.action == "inspected" else "document"
    # The object's history lists its documents and inspections from their own rows: no event here.
    documents = _documents(m, link, user_id, number, kind)
    context["added"] = list(documents)
    if request.action == "inspected":
        day = m.ctx.clock().date() if request.day is None else date.fromisoformat(request.day)
        report = next(iter(documents.values()), None)  # the report is the first attachment stored
        next_on = record_inspection(m.session, link.id, inspected_on=day, document_id=report, recorded_by=user_id,
                                    now=m.ctx.clock())
        context.update(inspected_on=day.isoformat(), next_inspection=next_on.isoformat() if next_on else "")
    m.trace.add("object", f"{link.identifier}: {what}; {len(context['added'])} document(s) added")
    return _confirm(m, number, contact, "object_documents", context)


def object_mail(m: MessageInProcess) -> Outcome | ObjectRefusal | None:
    """The outcome when the mail is about an object rather than a ticket; a refusal when it names
    one its sender may not act on; None for every other mail."""
    if (request := read_request(m)) is None:
        return None
    link, staff, why_not = _target(m, request)
    if link is None:
        m.trace.add("object", f"{request.action} for {request.identifier} refused: {why_not}")
        return ObjectRefusal(f"{request.action} for object {request.identifier} not carried out: {why_not}")
    return _carry_out(m, request, link, staff)
