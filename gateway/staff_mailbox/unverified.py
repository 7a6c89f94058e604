"""Mail whose From names a technician but that proves nothing: it must not act for them.

Nothing reaches the client and no command runs; the text is kept on the ticket as an internal
note marked unverified (it may be a genuine technician on a setup that cannot prove it yet, or
someone phishing through our domain). The real staff address hears of it, at most once an hour,
so a flood of forgeries cannot turn into a flood of notices.
"""

from __future__ import annotations

from datetime import timedelta

from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import Disposition
from helpdesk.gateway.staff_mailbox.staff_mail import StaffMail
from helpdesk.store.outbox import recent_mail_to
from helpdesk.store.tickets import TicketStore

NOTICE_KIND = "unverified_staff"
NOTICE_INTERVAL = timedelta(hours=1)


def keep_unverified(store: TicketStore, sm: StaffMail, why: str, ctx) -> tuple[Outcome, list[OutboundIntent]]:
    # author_id stays empty: the staff member did not prove they wrote it.
    store.add_inbound_article(sm.state.number, sm.mail, visibility="internal", author_id=None)
    store.record_event(sm.state.number, "staff-unverified",
                       f"mail with the From of {sm.staff.email} not carried out and kept internal: {why}")
    outcome = Outcome(Disposition.STAFF_UNVERIFIED, sm.mail, sm.state.number, sm.state.subject, sm.requester,
                      no_reply_reason=f"unverified mail in the name of staff ({why})")
    now = ctx.clock()
    if recent_mail_to(store.conn, sm.staff.email, now - NOTICE_INTERVAL, kind=NOTICE_KIND):
        return outcome, []
    notice = OutboundIntent(kind=NOTICE_KIND, ticket_number=sm.state.number, to_address=sm.staff.email,
                            to_name=sm.staff.name, locale=sm.staff.locale, in_reply_to=None,
                            context={"subject": sm.state.subject, "staff_email": sm.staff.email, "proof": why},
                            auto_submitted="auto-generated")
    return outcome, [notice]
