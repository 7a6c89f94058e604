"""A technician's answer on a ticket that came by SMS goes back by SMS, cut to the segment limit.

When the client also has an address, the whole answer goes there by mail as usual and the SMS
says so; without one, the SMS is all they get (cut at a word, with "..."). A number that opted
out gets nothing by SMS (sms_out.py records that).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.ground.records import ContactRow
from helpdesk.store.models import Article
from helpdesk.store.sms_people import phone_of

_article = Article.__table__
FIRST_CLIENT_CHANNEL = (select(_article.c.channel).where(
    _article.c.ticket_id == bindparam("number"), _article.c.direction == "in", _article.c.author_id.is_(None))
    .order_by(_article.c.id).limit(1))


def came_by_sms(conn: Connection, number: int) -> bool:
    return conn.execute(FIRST_CLIENT_CHANNEL, {"number": number}).scalar() == "sms"


def sms_answer(conn: Connection, renderer, number: int, requester: ContactRow, text: str,
               author_name: str) -> OutboundIntent | None:
    """The SMS carrying the answer, or None when the ticket did not come by SMS or there is no number."""
    if not text or not came_by_sms(conn, number):
        return None
    phone, _ = phone_of(conn, requester.id)
    if not phone:
        return None
    note = renderer.render("sms_full_answer_note", requester.locale, {"email": requester.email}).body.strip() \
        if requester.email else ""
    return OutboundIntent(kind="sms_reply", ticket_number=number, to_address=phone, to_name="",
                          locale=requester.locale, in_reply_to=None, channel="sms", sms_note=note,
                          context={"text": text, "author_name": author_name}, auto_submitted=None)
