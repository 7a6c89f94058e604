"""Mail nested thousands of levels deep becomes a ticket like any other: what can be read is the text,
the rest is attached whole as nested-remainder.eml, and the sender is acknowledged."""

from __future__ import annotations

import base64
import smtplib

import pytest
from sqlalchemy import select

from helpdesk.inbound.mime_parts import MAX_DEPTH, REMAINDER_NAME
from helpdesk.inbound.parse import parse_mail
from helpdesk.store.db import new_session
from helpdesk.store.models import Attachment, Blob

LEVELS = 5000
READABLE = "The scanner on floor 3 is offline since this morning."
BOTTOM = "Text at the very bottom of the nesting."


def _multipart_chain(levels: int) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(levels))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(levels)))
    return opening + b"Content-Type: text/plain\r\n\r\n" + BOTTOM.encode() + b"\r\n" + closing


def _enclosed_chain(levels: int) -> bytes:
    """message/rfc822 inside message/rfc822, each enclosed message with a subject of its own."""
    return (b"".join(b"Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n" % i for i in range(levels))
            + b"Content-Type: text/plain\r\n\r\n" + BOTTOM.encode() + b"\r\n")


def deep_mail(chain: bytes, message_id: str) -> bytes:
    """A person's text, then the deep chain as the second part."""
    return (b"From: Jan Novak <jan@client.example>\r\nTo: support@helpdesk.test\r\nSubject: Scanner offline\r\n"
            b"Message-ID: <" + message_id.encode() + b">\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="top"\r\n\r\n'
            b"--top\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + READABLE.encode() + b"\r\n"
            b"--top\r\n" + chain + b"\r\n--top--\r\n")


CHAINS = {"multipart": _multipart_chain, "message-rfc822": _enclosed_chain}


@pytest.mark.parametrize("kind", CHAINS)
def test_a_message_nested_5000_deep_becomes_an_acknowledged_ticket(gateway, sink, db, engine, kind):
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as smtp:
        smtp.sendmail("jan@client.example", ["support@helpdesk.test"],
                      deep_mail(CHAINS[kind](LEVELS), f"deep-{kind}@client.example"))

    (ack,) = sink.wait_for(1)
    (ticket,) = db.tickets()
    assert ack.rcpt_tos == ["jan@client.example"] and f"[HD#{ticket['number']}]" in ack.message["Subject"]
    (row,) = db.processed(1)
    assert row.status == "processed" and row.ticket_id == ticket["number"]
    assert f"nested deeper than {MAX_DEPTH} levels: the rest (1 part(s)" in row.processing_log
    assert f"attached unread as {REMAINDER_NAME}" in row.processing_log

    (article,) = db.ticket(ticket["number"])["articles"]
    assert READABLE in article["text"]
    assert f"they are attached as {REMAINDER_NAME}" in article["text"]
    with new_session(engine) as session:
        stored = dict(session.execute(select(Attachment.filename, Blob.data)
                                      .join(Blob, Blob.sha256 == Attachment.sha256)).all())
    remainder = stored[REMAINDER_NAME]
    assert BOTTOM.encode() in remainder  # nothing lost: the unread rest, down to the last level
    # Level k of the chain is a part k + 1 deep (the top multipart holds it): the first one deeper
    # than MAX_DEPTH starts the remainder, with its headers as they came.
    if kind == "multipart":
        assert remainder.startswith(b'Content-Type: multipart/mixed; boundary="b%d"\n' % MAX_DEPTH)
    else:  # each enclosed message is one level below its message/rfc822 part: level k is k + 2 deep
        assert remainder.startswith(b"Subject: level %d\n" % (MAX_DEPTH - 1))
        assert "Subject: level 0\n" in article["text"] and f"Subject: level {MAX_DEPTH - 2}\n" in article["text"]
        assert f"Subject: level {MAX_DEPTH}\n" not in article["text"]


def _encoded_enclosed(levels: int) -> bytes:
    """A base64-encoded message/rfc822 (RFC 2046 forbids it; it is decoded and parsed again)."""
    inner = (b'Subject: inner\r\nContent-Type: multipart/mixed; boundary="top"\r\n\r\n--top\r\n'
             + _multipart_chain(levels) + b"\r\n--top--\r\n")
    return b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(inner)


def _undeclared_boundaries(levels: int) -> bytes:
    """Every level declares a boundary it never uses: each is found and parsed again."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="nope%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(levels))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(levels)))
    return opening + b"Content-Type: text/plain\r\n\r\n" + BOTTOM.encode() + b"\r\n" + closing


@pytest.mark.parametrize("chain", [_encoded_enclosed, _undeclared_boundaries])
def test_parts_parsed_a_second_time_are_bounded_too(chain):
    mail = parse_mail(deep_mail(chain(2000), "again@client.example"), 1, "jan@client.example",
                      ("support@helpdesk.test",))
    assert READABLE in mail.text and f"they are attached as {REMAINDER_NAME}" in mail.text
    (remainder,) = [a for a in mail.attachments if a.filename == REMAINDER_NAME]
    assert BOTTOM.encode() in remainder.data and mail.parse_notes
