"""Which ticket an SMS names: a number written in the text (`HD#12` anywhere, `#12` at the start).

An SMS has no headers to thread by, so the number is all there is; whether the sender may
continue that ticket is decided as for mail (the number must belong to its requester or a
participant), so a guessed number opens a new ticket instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from helpdesk.gateway.conversation.thread import ThreadLookup, TicketRef


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def sms_ticket_ref(text: str, pattern: str, lookup: ThreadLookup) -> TicketRef | None:
    match = _compiled(pattern).search(text)
    if match is None:
        return None
    digits = next((g for g in match.groups() if g), None)
    if digits is None or len(digits) > 18:
        return None
    number = int(digits)
    return TicketRef(number, "number in the SMS") if lookup.ticket_exists(number) else None
