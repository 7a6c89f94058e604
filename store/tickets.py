"""Ticket-side reads and writes used by the pipeline's apply stage, on one open session."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from gateway.message import InboundMail
from store.models import Article, Attachment, Contact, ThreadRef, Ticket, TicketEvent


class TicketStore:
    """Implements gateway.thread.ThreadLookup and the writes of one message, in the caller's transaction."""

    def __init__(self, session: Session):
        self.session = session

    def ticket_exists(self, number: int) -> bool:
        return self.session.get(Ticket, number) is not None

    def ticket_for_message_ids(self, message_ids: tuple[str, ...]) -> int | None:
        rows = self.session.execute(
            select(ThreadRef.message_id, ThreadRef.ticket_id).where(ThreadRef.message_id.in_(message_ids))
        ).all()
        by_id = dict(rows)
        # The first candidate is the most direct parent (In-Reply-To before References).
        return next((by_id[m] for m in message_ids if m in by_id), None)

    def has_article(self, message_id: str) -> bool:
        found = self.session.execute(select(Article.id).where(Article.message_id == message_id)).first()
        return found is not None

    def get_ticket(self, number: int) -> Ticket:
        return self.session.get(Ticket, number)

    def get_contact(self, contact_id: int) -> Contact:
        return self.session.get(Contact, contact_id)

    def find_or_create_contact(self, email: str, display_name: str) -> Contact:
        contact = self.session.execute(select(Contact).where(Contact.email == email)).scalar_one_or_none()
        if contact is None:
            contact = Contact(email=email, display_name=display_name)
            self.session.add(contact)
            self.session.flush()
        elif display_name and not contact.display_name:
            contact.display_name = display_name
        return contact

    def create_ticket(self, **fields) -> Ticket:
        ticket = Ticket(**fields)
        self.session.add(ticket)
        self.session.flush()  # the database issues the number here
        return ticket

    def add_inbound_article(self, ticket: Ticket, mail: InboundMail) -> Article:
        article = Article(
            ticket_id=ticket.id, inbound_id=mail.inbound_id, direction="in", channel=mail.channel,
            sender=mail.sender, subject=mail.subject, message_id=mail.message_id, text=mail.text,
        )
        self.session.add(article)
        self.session.flush()
        for att in mail.attachments:
            self.session.add(Attachment(article_id=article.id, filename=att.filename,
                                        content_type=att.content_type, size=len(att.data), data=att.data))
        self.add_thread_ref(mail.message_id, ticket.id)
        return article

    def add_thread_ref(self, message_id: str, ticket_id: int) -> None:
        if self.session.get(ThreadRef, message_id) is None:
            self.session.add(ThreadRef(message_id=message_id, ticket_id=ticket_id))

    def record_event(self, ticket_id: int, kind: str, detail: str = "") -> None:
        self.session.add(TicketEvent(ticket_id=ticket_id, kind=kind, detail=detail))

