"""A client's first mail over real SMTP: stored, a ticket created, acknowledged through the relay."""

from __future__ import annotations

import re
from email.policy import SMTP

import pytest

from tests.mail import client_mail, send, wait_until


def test_new_mail_creates_ticket_and_acknowledges(gateway, sink, db):
    mail = client_mail(subject="=?utf-8?q?Drukarka_nie_dzia=C5=82a?=", message_id="<first@client.example>")
    assert send(gateway.port, mail) == {}

    ack = sink.wait_for(1)[0]
    (ticket,) = db.tickets()
    number = ticket["number"]
    assert ticket["subject"] == "Drukarka nie działa"
    assert ticket["requester"] == "jan@client.example"
    assert ticket["status"] == "new" and ticket["queue"] == "general" and ticket["priority"] == "normal"

    headers = ack.message
    assert f"[HD#{number}]" in headers["Subject"]
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["In-Reply-To"] == "<first@client.example>"
    assert "<first@client.example>" in headers["References"]
    assert headers["Message-ID"].endswith("@helpdesk.test>")
    assert headers["From"].addresses[0].addr_spec == "support@helpdesk.test"
    assert re.fullmatch(r"support\+r-1-[a-z2-7]{16}@helpdesk\.test", headers["Reply-To"])  # Jan's own
    assert ack.rcpt_tos == ["jan@client.example"]
    assert f"[HD#{number}]" in headers.get_content()

    detail = db.ticket(number)
    (article,) = detail["articles"]
    assert article["direction"] == "in" and article["channel"] == "email"
    assert article["sender"] == "jan@client.example"
    assert "printer on floor 2" in article["text"]
    # the relay has it; the dispatcher records that right after the batch
    wait_until(lambda: db.ticket(number)["outbox"][0]["status"] == "sent")


def test_ticket_numbers_are_distinct_and_increasing(gateway, sink, db):
    for i in range(5):
        send(gateway.port, client_mail(subject=f"problem {i}", sender=f"c{i}@client.example"))
    sink.wait_for(5)
    numbers = sorted(t["number"] for t in db.tickets())
    assert len(set(numbers)) == 5 and numbers == sorted(numbers)
    tags = {m.message["Subject"].split("]")[0] + "]" for m in sink.messages}
    assert tags == {f"[HD#{n}]" for n in numbers}


def test_foreign_recipient_is_refused_with_550(gateway):
    import smtplib

    with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
        smtp.ehlo()
        smtp.mail("jan@client.example")
        code, text = smtp.rcpt("someone-else@helpdesk.test")
        assert code == 550 and text.startswith(b"5.1.1")
        code, _ = smtp.rcpt("support+printers@helpdesk.test")
        assert code == 250
        code, _ = smtp.rcpt("SUPPORT@HELPDESK.TEST")
        assert code == 250


def test_plus_addressed_mail_is_accepted(gateway, sink, db):
    send(gateway.port, client_mail(to="support+printers@helpdesk.test"), rcpt=["support+printers@helpdesk.test"])
    sink.wait_for(1)
    assert len(db.tickets()) == 1


def test_oversized_message_gets_552_and_size_is_advertised(make_settings, start_gateway, db):
    import smtplib

    gw = start_gateway(make_settings(max_message_bytes=4000))
    with smtplib.SMTP("127.0.0.1", gw.port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size") and smtp.esmtp_features["size"] == "4000"
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:
            smtp.sendmail("jan@client.example", ["support@helpdesk.test"], b"x", mail_options=["SIZE=5000"])
        assert declared.value.smtp_code == 552
        smtp.rset()
        # A client that does not declare SIZE is stopped at the end of DATA.
        assert smtp.mail("jan@client.example")[0] == 250
        assert smtp.rcpt("support@helpdesk.test")[0] == 250
        code, _ = smtp.data(client_mail(body=("x" * 70 + "\n") * 100).as_bytes(policy=SMTP))
        assert code == 552
    assert db.inbound() == []
