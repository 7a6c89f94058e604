"""Ticket-side reads and writes of the pipeline's apply stage, in the caller's transaction.

Prebuilt Core statements on the session's connection rather than ORM objects: this runs once
per message on the hot path, where the unit of work, model validation and building a
statement per call cost more than the statements themselves.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.ports import ClockKeeper
from helpdesk.gateway.ground.records import ContactRow
from helpdesk.store.account_tables import Organization, OrgDomain, User, UserEmail, UserRole
from helpdesk.store.combined_inserts import NEW_ARTICLE_WITH_THREAD_REF, NEW_CLIENT
from helpdesk.store.models import Article, Attachment, Blob, ThreadRef, Ticket, TicketEvent, TicketParticipant
from helpdesk.store.prebuilt import Prebuilt


@dataclass(frozen=True)
class TicketRow:
    number: int
    subject: str
    status: str
    requester_id: int
    finished_at: datetime | None = None  # when it was closed (or last changed, for resolved ones)


_user, _email, _org = User.__table__, UserEmail.__table__, Organization.__table__
_ticket, _article = Ticket.__table__, Article.__table__
_thread_ref, _event = ThreadRef.__table__, TicketEvent.__table__

TICKET_BY_NUMBER = select(_ticket.c.id, _ticket.c.subject, _ticket.c.status, _ticket.c.requester_id,
                          func.coalesce(_ticket.c.closed_at, _ticket.c.updated_at)).where(
    _ticket.c.id == bindparam("number"))
TICKETS_BY_MESSAGE_IDS = select(_thread_ref.c.message_id, _thread_ref.c.ticket_id).where(
    _thread_ref.c.message_id.in_(bindparam("ids", expanding=True)))
LOCK_TICKET = select(_ticket.c.id).where(_ticket.c.id == bindparam("number")).with_for_update()
ARTICLE_BY_MESSAGE_ID = select(_article.c.id).where(_article.c.message_id == bindparam("message_id"))
# Every message asks for its sender's contact and, for a sender not known yet, the organization
# owning their mail domain: one statement for both (a round trip less per new sender on PostgreSQL).
# A person's language is their own, else their organization's default; ContactRow takes the first
# six columns, routing the seventh (the organization's name), a new contact the domain's three.
_asked = select(bindparam("email", type_=String).label("email"),
                bindparam("domain", type_=String).label("domain")).subquery("asked")
_domain, _domain_org = OrgDomain.__table__, _org.alias("domain_org")
_SENDER = Prebuilt(
    select(_user.c.id, _email.c.address, _user.c.display_name, func.coalesce(_user.c.locale, _org.c.default_locale),
           _user.c.organization_id, _email.c.blocked_until, _org.c.name,
           _domain.c.organization_id, _domain_org.c.default_locale, _domain_org.c.name)
    # A flat chain of LEFT JOINs: SQLite reads a parenthesized join on the right of one by scanning it whole.
    .select_from(_asked.outerjoin(_email, _email.c.address == _asked.c.email)
                 .outerjoin(_user, _user.c.id == _email.c.user_id)
                 .outerjoin(_org, _org.c.id == _user.c.organization_id)
                 .outerjoin(_domain, _domain.c.domain == _asked.c.domain)
                 .outerjoin(_domain_org, _domain_org.c.id == _domain.c.organization_id)))
# From the user, not the address: a contact who only ever texted has a phone number and no address.
_ANY_CONTACT = (select(_user.c.id, func.coalesce(_email.c.address, ""), _user.c.display_name,
                       func.coalesce(_user.c.locale, _org.c.default_locale), _user.c.organization_id,
                       _email.c.blocked_until)
                .select_from(_user.outerjoin(_email, _email.c.user_id == _user.c.id)
                             .outerjoin(_org, _org.c.id == _user.c.organization_id)))
CONTACT_BY_ID = _ANY_CONTACT.where(_user.c.id == bindparam("contact_id")).order_by(
    _email.c.is_primary.desc(), _email.c.address).limit(1)
# The newest user with the number first: a number passed on to someone new belongs to them now.
CONTACT_BY_PHONE = _ANY_CONTACT.where(_user.c.phone == bindparam("phone")).order_by(
    _user.c.id.desc(), _email.c.is_primary.desc(), _email.c.address).limit(1)
REQUESTER_ORG_OF = select(_user.c.organization_id).where(_user.c.id == bindparam("user_id"))
_participant = TicketParticipant.__table__
PARTICIPANTS = select(_participant.c.address).where(_participant.c.ticket_id == bindparam("number"))
INSERT_PARTICIPANT = insert(_participant)
DELETE_PARTICIPANT = _participant.delete().where(_participant.c.ticket_id == bindparam("number"),
                                                 _participant.c.address == bindparam("address"))
# Mail from an address shows it works again: automatic mail may go there again.
UNBLOCK = update(_email).where(_email.c.address == bindparam("b_address"), _email.c.blocked_until.is_not(None)).values(
    blocked_until=None, block_reason=None)
INSERT_USER = insert(_user).returning(_user.c.id)
INSERT_EMAIL = insert(_email)
INSERT_ROLE = insert(UserRole.__table__)
NAME_CONTACT = update(_user).where(_user.c.id == bindparam("contact_id")).values(
    display_name=bindparam("display_name"))
INSERT_TICKET = insert(_ticket).returning(_ticket.c.id)
INSERT_ARTICLE = insert(_article).returning(_article.c.id)
INSERT_ATTACHMENT = insert(Attachment.__table__)
INSERT_THREAD_REF = insert(_thread_ref)
INSERT_EVENT = insert(_event)
# The same statements prebuilt (store/prebuilt.py) for the writes every new ticket makes; the Core
# ones above stay for callers that run them on their own connection.
_FAST_USER, _FAST_EMAIL, _FAST_ROLE = Prebuilt(INSERT_USER), Prebuilt(INSERT_EMAIL), Prebuilt(INSERT_ROLE)
_FAST_TICKET, _FAST_ARTICLE = Prebuilt(INSERT_TICKET), Prebuilt(INSERT_ARTICLE)
_FAST_EVENT, _FAST_PARTICIPANT = Prebuilt(INSERT_EVENT), Prebuilt(INSERT_PARTICIPANT)
_FAST_ARTICLE_EXISTS = Prebuilt(ARTICLE_BY_MESSAGE_ID)
_FAST_THREAD_REF_NEW = Prebuilt.per_dialect(
    lambda dialect: dialect.insert(_thread_ref).on_conflict_do_nothing(index_elements=["message_id"]))
_E164 = re.compile(r"\+[1-9]\d{5,14}")  # an SMS's sender; an address may start with "+" too
_SLA_FIELDS = frozenset({"status", "priority", "queue"})  # changes after which the SLA clock is recomputed


def record_event(conn, number: int, kind: str, detail: str = "", at: datetime | None = None) -> None:
    """A line of the ticket's history, in the caller's transaction (a prebuilt statement: notifications
    and escalations record one per ticket)."""
    _FAST_EVENT.execute(conn, {"ticket_id": number, "kind": kind, "detail": detail, "at": at or utcnow()})


class TicketStore:
    """Implements gateway.thread.ThreadLookup and the writes for one message."""

    def __init__(self, session: Session, sla: ClockKeeper | None = None):
        self.conn = session.connection()
        self.sla = sla  # keeps the SLA clock true on changes of status and priority; None: untouched
        self.unblocked: list[str] = []  # addresses whose bounce block this message lifted
        # By address: the sender's user and their domain's organization, looked up once for routing and apply.
        self._senders: dict[str, tuple[tuple | None, tuple | None]] = {}

    def ticket_exists(self, number: int) -> bool:
        return self.conn.execute(TICKET_BY_NUMBER, {"number": number}).first() is not None

    def ticket_for_message_ids(self, message_ids: tuple[str, ...]) -> int | None:
        by_id = dict(self.conn.execute(TICKETS_BY_MESSAGE_IDS, {"ids": list(message_ids)}).all())
        # The first candidate is the most direct parent (In-Reply-To before References).
        return next((by_id[m] for m in message_ids if m in by_id), None)

    def has_article(self, message_id: str) -> bool:
        return _FAST_ARTICLE_EXISTS.scalar(self.conn, {"message_id": message_id}) is not None

    def lock_ticket(self, number: int) -> None:
        """Hold the ticket's row until commit (PostgreSQL; SQLite's one writer holds everything), so
        two instances handling mail of one ticket decide on its status one after the other."""
        self.conn.execute(LOCK_TICKET, {"number": number})

    def lift_block(self, address: str) -> bool:
        """Mail from an address shows it works again: automatic mail may go there again."""
        lifted = self.conn.execute(UNBLOCK, {"b_address": address.lower()}).rowcount > 0
        if lifted:
            self.unblocked.append(address.lower())
        return lifted

    def get_ticket(self, number: int) -> TicketRow:
        return TicketRow(*self.conn.execute(TICKET_BY_NUMBER, {"number": number}).one())

    def get_contact(self, contact_id: int) -> ContactRow:
        return ContactRow(*self.conn.execute(CONTACT_BY_ID, {"contact_id": contact_id}).one())

    def find_or_create_contact(self, email: str, display_name: str) -> ContactRow:
        """The sender's user; an unknown sender becomes a client of the organization owning the domain.
        A sender in E.164 (+420...) is an SMS's number: matched to a user by phone."""
        if _E164.fullmatch(email):
            return self.find_or_create_texter(email)
        row, domain_org = self._sender(email)
        del self._senders[email]  # what follows changes it
        if row is None:
            return self._create_contact(email, display_name, domain_org)
        contact = ContactRow(*row[:6])
        if contact.blocked_until is not None:
            self.lift_block(email)
        if display_name and not contact.display_name:
            self.conn.execute(NAME_CONTACT, {"contact_id": contact.id, "display_name": display_name})
        return contact

    def find_or_create_texter(self, phone: str) -> ContactRow:
        """The user with this number; an unknown number becomes a client with no organization (the
        number says nothing about one) and no address."""
        row = self.conn.execute(CONTACT_BY_PHONE, {"phone": phone}).first()
        if row is not None:
            return ContactRow(*row)
        user_id = self.conn.execute(INSERT_USER, {"display_name": "", "organization_id": None, "phone": phone,
                                                  "active": True, "created_at": utcnow()}).scalar_one()
        self.conn.execute(INSERT_ROLE, {"user_id": user_id, "role": "client"})
        return ContactRow(user_id, "", "", None, None)

    def _sender(self, email: str) -> tuple[tuple | None, tuple | None]:
        """(the contact's row or None, the row of the organization owning the address's domain or None)."""
        if email not in self._senders:
            row = _SENDER.first(self.conn, {"email": email, "domain": email.rpartition("@")[2]})
            contact = row[:7] if row[0] is not None else None
            if contact is not None and isinstance(contact[5], str):  # the driver's row: SQLite's DateTime is text
                contact = (*contact[:5], datetime.fromisoformat(contact[5]).replace(tzinfo=UTC), contact[6])
            self._senders[email] = (contact, row[7:] if row[7] is not None else None)
        return self._senders[email]

    def sender_organization(self, email: str) -> tuple[int | None, str | None]:
        """(id, name) of the sender's organization; for an unknown sender, the one their mail domain
        will put them in (what routing asks, before apply creates the contact)."""
        row, org = self._sender(email)
        if row is not None:
            return (row[4], row[6]) if row[4] is not None else (None, None)
        return (org[0], org[2]) if org else (None, None)

    def _create_contact(self, email: str, display_name: str, org: tuple | None) -> ContactRow:
        org_id, locale = (org[0], org[1]) if org else (None, None)
        if self.conn.dialect.name == "postgresql":  # one round trip instead of three
            user_id = NEW_CLIENT.scalar(self.conn, {"display_name": display_name, "organization_id": org_id,
                                                    "created_at": utcnow(), "address": email})
            return ContactRow(user_id, email, display_name, locale, org_id)
        user_id = _FAST_USER.scalar(self.conn, {"display_name": display_name, "organization_id": org_id,
                                                "active": True, "created_at": utcnow(), "reply_generation": 0})
        _FAST_EMAIL.execute(self.conn, {"address": email, "user_id": user_id, "is_primary": True})
        _FAST_ROLE.execute(self.conn, {"user_id": user_id, "role": "client"})
        return ContactRow(user_id, email, display_name, locale, org_id)

    def create_ticket(self, subject: str, requester_id: int, routing: dict) -> int:
        """Insert a new ticket; the database issues its number (identity / AUTOINCREMENT).

        `routing` holds queue, priority, rule, category, tags, alert_level, assignment, assignee_id
        (and the SLA clock's columns).
        """
        now = utcnow()
        return _FAST_TICKET.scalar(self.conn, {
            "subject": subject, "requester_id": requester_id, "status": "new", "created_at": now,
            "updated_at": now, **routing})

    def update_ticket(self, number: int, *, first_response: bool = False, **values) -> None:
        """`first_response`: this change is staff's public answer to the client (the SLA's first response)."""
        if self.sla is not None and (first_response or not _SLA_FIELDS.isdisjoint(values)):
            values = {**values, **self.sla.changed(self.conn, number, values, first_response=first_response)}
        self.conn.execute(update(_ticket).where(_ticket.c.id == number).values(updated_at=utcnow(), **values))

    def add_inbound_article(self, number: int, mail: InboundMail, *, visibility: str = "public",
                            author_id: int | None = None, new_text: str | None = None) -> int:
        """`author_id` is the staff member who wrote it (None for clients); `new_text` overrides mail.new_text."""
        row = {"ticket_id": number, "inbound_id": mail.inbound_id, "direction": "in", "channel": mail.channel,
               "sender": mail.sender, "subject": mail.subject, "message_id": mail.message_id, "text": mail.text,
               "new_text": mail.new_text if new_text is None else new_text, "visibility": visibility,
               "author_id": author_id, "created_at": utcnow(), "media_urls": mail.headers.get("x-media-urls")}
        postgres = self.conn.dialect.name == "postgresql"
        # PostgreSQL: the article and its thread ref in one round trip (store/combined_inserts.py)
        article_id = (NEW_ARTICLE_WITH_THREAD_REF if postgres else _FAST_ARTICLE).scalar(self.conn, row)
        if mail.attachments:
            self._add_attachments(article_id, mail.attachments)
        if not postgres:
            self.add_thread_ref(mail.message_id, number)
        return article_id

    def _add_attachments(self, article_id: int, attachments) -> None:
        """Contents go to `blob` once per SHA-256; the attachment row names its blob."""
        digests = [hashlib.sha256(a.data).hexdigest() for a in attachments]
        blobs = {d: a.data for d, a in zip(digests, attachments)}
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        # ON CONFLICT DO NOTHING: another message with the same content may be stored concurrently.
        self.conn.execute(dialect.insert(Blob.__table__).on_conflict_do_nothing(index_elements=["sha256"]),
                          # in digest order, so two transactions never wait on each other's blobs
                          [{"sha256": d, "size": len(data), "data": data} for d, data in sorted(blobs.items())])
        self.conn.execute(INSERT_ATTACHMENT, [
            {"article_id": article_id, "filename": a.filename, "content_type": a.content_type,
             "size": len(a.data), "sha256": d, "data": None} for d, a in zip(digests, attachments)])

    def add_thread_ref(self, message_id: str, number: int) -> None:
        """Remember the Message-ID for the ticket; one already known keeps the ticket it names."""
        _FAST_THREAD_REF_NEW.execute(self.conn, {"message_id": message_id, "ticket_id": number})

    def record_event(self, number: int, kind: str, detail: str = "", at: datetime | None = None) -> None:
        record_event(self.conn, number, kind, detail, at)

    def participants(self, number: int) -> set[str]:
        return set(self.conn.execute(PARTICIPANTS, {"number": number}).scalars())

    def add_participants(self, number: int, addresses, new_ticket: bool = False) -> None:
        missing = set(addresses) - (set() if new_ticket else self.participants(number))
        if missing:
            _FAST_PARTICIPANT.executemany(self.conn, [{"ticket_id": number, "address": a} for a in sorted(missing)])

    def remove_participant(self, number: int, address: str) -> bool:
        return self.conn.execute(DELETE_PARTICIPANT, {"number": number, "address": address}).rowcount > 0
