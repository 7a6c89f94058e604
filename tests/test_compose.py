"""Outbound mail bytes: correct MIME that any mail program decodes back to what was rendered."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

from helpdesk.gateway.ground.outgoing import OutboundIntent, RenderedMail
from helpdesk.outbound.compose import compose_mail


def test_non_ascii_subject_name_and_body_round_trip():
    intent = OutboundIntent("acknowledgement", 7, "jan@client.example", "Jan Kowałski", "pl",
                            in_reply_to="orig@client.example", references=("a@x", "orig@client.example"))
    rendered = RenderedMail("[HD#7] Otrzymaliśmy Twoje zgłoszenie: drukarka" + " długi" * 20, "Dzień dobry,\nłąka\n")
    mail = compose_mail(intent, rendered, tag="[HD#7]", support_name="Wsparcie Łódź",
                        support_address="support@helpdesk.test", message_id="hd7.x@helpdesk.test",
                        now=datetime(2026, 11, 22, tzinfo=UTC))
    assert all(len(line) <= 998 for line in mail.raw.split(b"\r\n"))
    assert b"\nSubject: [HD#7] =?utf-8?" in mail.raw  # the tag stays readable to the eye and to filters
    # parsed as a mail program would after its own line-ending conversion
    msg = email.message_from_bytes(mail.raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert msg["Subject"] == rendered.subject
    assert msg["To"].addresses[0].display_name == "Jan Kowałski"
    assert msg["From"].addresses[0].display_name == "Wsparcie Łódź"
    assert msg["References"] == "<a@x> <orig@client.example>"
    assert msg["Message-ID"] == "<hd7.x@helpdesk.test>"
    assert msg.get_content() == "Dzień dobry,\nłąka\n"
    assert msg["Content-Language"] == "pl"


def test_tag_is_added_when_a_template_forgets_it():
    intent = OutboundIntent("acknowledgement", 3, "a@client.example", "", None, None)
    mail = compose_mail(intent, RenderedMail("Thanks", "ok\n"), tag="[HD#3]", support_name="S",
                        support_address="support@helpdesk.test", message_id="hd3.x@helpdesk.test",
                        now=datetime.now(UTC))
    msg = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert msg["Subject"] == "[HD#3] Thanks" and "In-Reply-To" not in msg
