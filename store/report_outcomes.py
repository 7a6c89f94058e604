"""What became of each SLA target of a ticket, as SQL both reports select and filter on.

A target is met when the working seconds used when it was reached are within it; breached when
they exceed it, or when it is not reached yet and the clock has already marked it breached
(`sla_breached`: bit 1 first response, bit 2 resolution, as gateway/sla/clock.py sets them); not
reached yet otherwise (the first response pending, the resolution open); a ticket without the
target (NULL) has none. The database computes it: one small code per row is cheaper to fetch
than the four columns it comes from, and the SLA and workload reports cannot disagree on it.
"""

from __future__ import annotations

from sqlalchemy import and_, case, or_

from helpdesk.store.models import Ticket

MET, BREACHED, NOT_REACHED, NO_TARGET = 0, 1, 2, 3
FIRST_RESPONSE_BIT, RESOLUTION_BIT = 1, 2
# How the reports name the codes; "not reached" reads differently for each target.
FIRST_RESPONSE_NAMES = {MET: "met", BREACHED: "breached", NOT_REACHED: "pending", NO_TARGET: "no_target"}
RESOLUTION_NAMES = {MET: "met", BREACHED: "breached", NOT_REACHED: "open", NO_TARGET: "no_target"}


def _outcome(used, target, bit: int):
    return case((target.is_(None), NO_TARGET),
                (and_(used.is_not(None), used <= target), MET),
                (used.is_not(None), BREACHED),
                (Ticket.sla_breached.op("&")(bit) != 0, BREACHED),
                else_=NOT_REACHED)


FIRST_RESPONSE_OUTCOME = _outcome(Ticket.first_response_used_s, Ticket.first_response_target_s, FIRST_RESPONSE_BIT)
RESOLUTION_OUTCOME = _outcome(Ticket.resolution_used_s, Ticket.resolution_target_s, RESOLUTION_BIT)
ANY_BREACHED = or_(FIRST_RESPONSE_OUTCOME == BREACHED, RESOLUTION_OUTCOME == BREACHED)
