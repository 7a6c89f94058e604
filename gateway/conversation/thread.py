"""Decide which existing ticket, if any, a message continues: subject tag first, then references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.conversation.ticket_tag import find_ticket_number
from helpdesk.gateway.ground.message import InboundMail


class ThreadLookup(Protocol):
    def ticket_exists(self, number: int) -> bool: ...

    def ticket_for_message_ids(self, message_ids: tuple[str, ...]) -> int | None: ...


@dataclass(frozen=True)
class TicketRef:
    number: int
    via: str  # "subject-tag" or "references": recorded so the decision can be explained


def find_ticket_ref(mail: InboundMail, lookup: ThreadLookup, tag: str, signer: MessageIdSigner) -> TicketRef | None:
    number = find_ticket_number(mail.subject, tag)
    if number is not None and lookup.ticket_exists(number):
        return TicketRef(number, "subject-tag")
    # In-Reply-To names the direct parent; References the chain, newest last.
    candidates = tuple(dict.fromkeys(mail.in_reply_to + tuple(reversed(mail.references))))
    theirs = []
    for message_id in candidates:
        if signer.is_ours(message_id):  # ours must carry a valid signature; forged ones count for nothing
            number = signer.verified_ticket(message_id)
            if number is not None and lookup.ticket_exists(number):
                return TicketRef(number, "signed reference")
        else:
            theirs.append(message_id)
    if theirs:  # Message-IDs of mail we received for a ticket
        found = lookup.ticket_for_message_ids(tuple(theirs))
        if found is not None:
            return TicketRef(found, "references")
    return None
