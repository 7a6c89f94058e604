"""Whom on the staff a ticket's news goes to, and the notification mail they get.

New tickets follow the assignment strategy: the assignee; else, for broadcast queues, every
available technician of the queue (its dispatchers when it has none); else the queue's
dispatchers (its technicians when it has none). A queue nobody watches (no available, active
member) would announce a ticket to nobody: the active admins hear of it instead, the log
warns naming the queue, and the ticket records it. Follow-ups go to the assignee, or to the
same people as a new ticket while nobody has it.

Everything one technician hears about one ticket is one thread in their mail client: one subject (the
ticket's), and each notification refers to the ones before it (In-Reply-To the latest, References from
the first), so the first notification is the thread's root.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.records import ContactRow
from helpdesk.store import workflow as q
from helpdesk.store.queue_watchers import active_admins
from helpdesk.store.tickets import record_event
from helpdesk.store.transaction_memo import remembered

log = logging.getLogger("helpdesk.staff_notify")


@dataclass(frozen=True)
class Writer:
    """Who really wrote the mail staff hear of (not always the requester), and whether it is proven."""

    email: str
    name: str = ""
    proven: bool = True
    proof: str = ""
    not_added: tuple[str, ...] = ()   # addresses unproven mail named in To/Cc, not made participants

    def context(self) -> dict:
        return {"writer_email": self.email, "writer_name": self.name or self.email, "sender_proven": self.proven,
                "sender_proof": self.proof, "cc_not_added": list(self.not_added)}


def _queue_watchers(conn: Connection, state: q.TicketState) -> list[q.Person]:
    # Once per batch: its new tickets are mostly in a few queues, and mail changes nobody's membership.
    members = remembered(conn, ("queue staff", state.queue), lambda: q.queue_staff(conn, state.queue))
    dispatchers, technicians = members["dispatcher"], members["technician"]
    return list((technicians or dispatchers) if state.assignment == "broadcast" else (dispatchers or technicians))


def _audience(conn: Connection, state: q.TicketState) -> tuple[list[q.Person], bool]:
    """Who hears of the ticket, and whether that is the admins because nobody watches its queue."""
    if state.assignee_id is not None:
        return [p for p in [q.person(conn, state.assignee_id)] if p is not None and p.active], False
    watchers = _queue_watchers(conn, state)
    if watchers:
        return watchers, False
    admins = list(remembered(conn, "active admins", lambda: active_admins(conn)))
    if _warn_now(conn, state.queue):
        log.warning("ticket %s is in queue %s, which nobody watches (no available dispatcher or technician): %s; "
                    "said once per queue every %d minutes, each ticket records it", state.number, state.queue,
                    _told(admins), WARN_EVERY_SECONDS // 60)
    return admins, True


WARN_EVERY_SECONDS = 600
_last_warned: dict[tuple[str, str], float] = {}


def _warn_now(conn: Connection, queue: str) -> bool:
    """One WARNING per unwatched queue (and database) every WARN_EVERY_SECONDS: a queue nobody
    watches would otherwise write a line for every new ticket, a flood in a burst."""
    key, now = (str(conn.engine.url), queue), time.monotonic()
    if now - _last_warned.get(key, -WARN_EVERY_SECONDS) < WARN_EVERY_SECONDS:
        return False
    _last_warned[key] = now
    return True


def _told(admins: list[q.Person]) -> str:
    if not admins:
        return "nobody hears of it, there is no active admin either"
    return "told the admins " + ", ".join(a.email for a in admins)


def recipients(conn: Connection, state: q.TicketState, exclude: str = "") -> list[q.Person]:
    people, _ = _audience(conn, state)
    return [p for p in people if p.email and p.email != exclude]


def _context(state: q.TicketState, requester: ContactRow, text: str, writer: Writer | None = None,
             **extra) -> dict:
    writer = writer or Writer(requester.email, requester.display_name)
    return {"subject": state.subject, "requester_name": requester.display_name or requester.email,
            "requester_email": requester.email, "queue": state.queue, "priority": state.priority,
            "text": text, **writer.context(), **extra}


# The References of a long thread: its root and the latest few. Trimming from the middle and keeping the root
# is how clients shorten the field (RFC 5537 3.4.4): still enough to thread, and the header stays short.
_THREAD_TAIL = 9


def notification_for(person: q.Person, kind: str, state: q.TicketState, context: dict,
                     earlier: dict[str, list[str]], attachments=()) -> OutboundIntent:
    """`earlier`: the Message-IDs of the notifications each address got about this ticket, oldest first."""
    thread = earlier.get(person.email.lower(), [])
    references = tuple(thread[:1] + thread[1:][-_THREAD_TAIL:])
    return OutboundIntent(kind=kind, ticket_number=state.number, to_address=person.email, to_name=person.name,
                          locale=person.locale, in_reply_to=thread[-1] if thread else None, references=references,
                          context=context, attachments=tuple(attachments), auto_submitted="auto-generated")


def new_ticket(conn: Connection, state: q.TicketState, requester: ContactRow, text: str, attachments=(),
               exclude: str = "", writer: Writer | None = None) -> list[OutboundIntent]:
    """`text` is the client's (new) text; `exclude` an address not to notify (whoever caused it)."""
    audience, unwatched = _audience(conn, state)
    people = [p for p in audience if p.email and p.email != exclude]
    if unwatched:  # `tickets show` says why the admins, not the queue, were told
        record_event(conn, state.number, "unwatched-queue", f"nobody watches queue {state.queue}: {_told(audience)}")
    earlier = q.staff_notification_ids(conn, state.number) if people else {}
    return [notification_for(p, "staff_new", state, _context(
        state, requester, text, writer, assigned_to_you=p.user_id == state.assignee_id,
        strategy=state.assignment), earlier, attachments) for p in people]


def update(conn: Connection, state: q.TicketState, requester: ContactRow, event: str, text: str = "", *,
           mail: InboundMail | None = None, rating: int | None = None, actor_name: str = "",
           people: list[q.Person] | None = None, writer: Writer | None = None) -> list[OutboundIntent]:
    """`event`: follow-up, reopened, confirmed or assigned (the template words each)."""
    people = recipients(conn, state, exclude=mail.sender if mail else "") if people is None else people
    attachments = mail.attachments if mail else ()
    earlier = q.staff_notification_ids(conn, state.number) if people else {}
    context = _context(state, requester, text, writer, event=event, rating=rating, actor_name=actor_name)
    return [notification_for(p, "staff_update", state, context, earlier, attachments) for p in people]
