"""An SMS that is only a keyword (STOP, START, HELP, or their Polish, Czech, Russian and Croatian
equivalents) changes the number's SMS opt-out instead of opening a ticket.

STOP records the opt-out on every user with the number (an unknown number becomes a contact, so
the opt-out is remembered) and sends nothing: an opted-out number gets no SMS of any kind (for
Twilio's own English keywords Twilio answers itself). START lifts it and confirms; HELP answers
with how the helpdesk is reached.
"""

from __future__ import annotations

from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.statuses import Disposition
from helpdesk.gateway.pipeline.context import MessageInProcess
from helpdesk.gateway.sms.keywords import keyword_of
from helpdesk.store.sms_people import set_opt_out

_KINDS = {"start": "sms_started", "help": "sms_help"}


def keyword_reply(m: MessageInProcess) -> tuple[Outcome, list[OutboundIntent]] | None:
    """None unless the SMS is a keyword; else the outcome and the SMS to send."""
    word = keyword_of(m.mail.text) if m.mail.channel == "sms" else None
    if word is None:
        return None
    phone, conn = m.mail.sender, m.store.conn
    contact = m.store.find_or_create_texter(phone)
    if word in ("stop", "start"):
        set_opt_out(conn, phone, m.ctx.clock() if word == "stop" else None)
    m.trace.add("sms-keyword", f"{word.upper()} from {phone}: " + {
        "stop": "no SMS of any kind goes to this number from now on", "start": "SMS may go to this number again",
        "help": "answered with how to reach the helpdesk"}[word])
    outcome = Outcome(Disposition.SMS_KEYWORD, m.mail, requester=contact,
                      no_reply_reason=f"SMS keyword {word.upper()}")
    if word not in _KINDS:
        return outcome, []
    return outcome, [OutboundIntent(kind=_KINDS[word], ticket_number=0, to_address=phone, to_name="",
                                    locale=contact.locale, in_reply_to=None, channel="sms")]
