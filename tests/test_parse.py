"""Parsing stored mail with flanker: headers, bodies, attachments; no import noise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.errors import Quarantine
from inbound.parse import parse_mail

MAILS = Path(__file__).parent / "mails"


def parse(name: str, envelope_from: str | None = "x@client.example"):
    return parse_mail((MAILS / name).read_bytes(), 1, envelope_from, ("support@helpdesk.test",))


def test_html_only_body_becomes_text_and_subject_is_decoded():
    mail = parse("html_only.eml")
    assert mail.subject == "Tiskárna nefunguje"
    assert mail.sender == "petr@client.example" and mail.sender_name == "Petr Dvořák"
    assert mail.text == "Dobrý den,\n\ntiskárna nefunguje.\nViz stav <https://status.client.example>."
    assert "color" not in mail.text


def test_plain_part_is_preferred_charset_decoded_and_attachments_kept():
    mail = parse("attachment.eml")
    assert mail.text == "Dzień dobry, logi w załączniku."
    assert mail.recipients == ("support@helpdesk.test", "eva@client.example")
    assert mail.in_reply_to == ("parent@client.example",)
    assert mail.references == ("root@client.example", "parent@client.example")
    (att,) = mail.attachments
    assert att.filename == "server.log" and att.data == b"error 1\nerror 2\n"


def test_mail_without_any_sender_is_quarantined_with_the_reason():
    with pytest.raises(Quarantine, match="no usable sender"):
        parse("no_sender.eml", envelope_from="")


def test_missing_message_id_gets_a_stable_one():
    raw = b"From: a@client.example\r\nSubject: x\r\n\r\nhello\r\n"
    first, second = (parse_mail(raw, i, "a@client.example", ()) for i in (1, 2))
    assert first.message_id == second.message_id and first.message_id.endswith(".invalid")


def test_importing_the_parser_prints_nothing():
    result = subprocess.run([sys.executable, "-c", "import inbound.parse"], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
