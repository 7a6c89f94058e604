"""Parsing stored mail with flanker: headers, bodies, attachments; no import noise."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from helpdesk.gateway.ground.errors import Quarantine
from helpdesk.inbound.html_text import html_to_text
from helpdesk.inbound.parse import parse_mail

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


CORPUS = Path(__file__).parent / "corpus"


@pytest.mark.parametrize("name, index, safe", [
    ("../../etc/passwd", 1, "passwd"),
    ("C:\\Windows\\System32\\evil.exe", 2, "evil.exe"),
    ("bad\nname\r\twith\x00controls.txt", 3, "bad name with controls.txt"),
    ("invoice\u202efdp.exe", 4, "invoice fdp.exe"),           # right-to-left override: "invoiceexe.pdf" on screen
    ("...htaccess", 5, "htaccess"),
    ("", 6, "attachment-6"),
    ("  ..  ", 7, "attachment-7"),
    ("dir/", 8, "attachment-8"),
    ("report: Q1?.pdf", 9, "report_ Q1_.pdf"),
    ("a" * 300 + ".pdf", 10, "a" * 146 + ".pdf"),
    ("b" * 300, 11, "b" * 150),
    ("c" * 200 + "." + "x" * 40, 12, ("c" * 200 + "." + "x" * 40)[:150]),  # an "extension" that long is none
    ("Zpráva o chybě.txt", 13, "Zpráva o chybě.txt"),
    ("Zpra\u0301va.txt", 14, "Zpráva.txt"),                   # decomposed, as macOS sends it
])
def test_attachment_names_are_made_safe(name, index, safe):
    from helpdesk.inbound.parse import safe_filename

    assert safe_filename(name, index) == safe


def _with_attachments(*sizes: int) -> bytes:
    parts = b"".join(b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                     b"Content-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\n" % i
                     + base64.encodebytes(b"x" * size) for i, size in enumerate(sizes, start=1))
    return (b"From: a@client.example\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nFiles.\r\n"
            + parts + b"--B--\r\n")


def test_attachments_over_the_limits_are_named_in_the_text_instead():
    mail = parse_mail(_with_attachments(100, 600, 300, 300), 1, "a@client.example", (),
                      max_attachment_bytes=500, max_attachments_total=600)
    assert [a.filename for a in mail.attachments] == ["f1.bin", "f3.bin"]
    assert mail.text == ("Files.\n\n"
                         "[attachment f2.bin (600 bytes) not kept: larger than the limit of 500 bytes]\n"
                         "[attachment f4.bin (300 bytes) not kept: larger than the limit of 600 bytes]")


def test_every_authentication_results_header_is_kept_topmost_first():
    mail = parse_mail((CORPUS / "authentication_results_multiple.eml").read_bytes(), 1, "a@client.example", ())
    assert mail.auth_results == (
        "mx2.helpdesk.test; dkim=pass header.d=client.example; spf=pass smtp.mailfrom=client.example",
        "mx1.client.example; spf=pass smtp.mailfrom=client.example; dmarc=pass")
    assert parse("attachment.eml").auth_results == ()


PL, CS, RU = "Zażółć gęślą jaźń, drukarka", "Příliš žluťoučký kůň úpěl ďábelské ódy", "Принтер не работает, съешь же"


@pytest.mark.parametrize("text, encoding, label", [
    (PL, "utf-8", "us-ascii"), (PL, "cp1250", "utf-8"), (PL, "cp1250", None), (PL, "iso-8859-2", "iso-8859-2"),
    (PL, "cp1250", "x-unknown"), (CS, "iso-8859-2", "iso-8859-1"), (CS, "cp1250", "windows-1250"),
    (CS, "utf-8", "windows-1250"), (RU, "koi8-r", None), (RU, "cp1251", "koi8-r"), (RU.upper(), "koi8-r", None),
    (RU, "cp1251", "iso-8859-1"), ("Grüße „Drucker“ – 100 €", "cp1252", "iso-8859-1"),
    ("Zażółć +-ok", "utf-7", "utf-7"), ("プリンター", "iso-2022-jp", "iso-2022-jp"),
])
def test_wrong_or_missing_charset_labels_are_recovered(text, encoding, label):
    from helpdesk.inbound.charsets import decode_bytes

    assert decode_bytes(text.encode(encoding), label) == text


@pytest.mark.parametrize("value, text", [
    ("=?utf-8?B?WmHFvMOzxYLEhyBn?=", "Zażółć g"),                   # no padding
    ("=?utf-8?B?WmHFvMOz!!xYLEhyBn?=", "Zażółć g"),                 # foreign characters
    ("=?x-unknown?Q?dzia=C5=82a?=", "działa"),                      # unknown charset: guessed
    ("=?UTF-8?Q?Tisk=C3=A1rna_nefunguje", "Tiskárna nefunguje"),    # missing ?=
    ("=?utf-8?q?a=C5?= =?utf-8?q?=BCb?=", "ażb"),                   # one character split over two words
    ("Re: =?iso-8859-2?Q?P=F8=EDli=B9?= =?utf-8?q?_=C5=BEluto?= x", "Re: Příliš žluto x"),
    ("Za\udcc5\udcbc\udcc3\udcb3\udcc5\udc82\udcc4\udc87", "Zażółć"),  # raw 8-bit UTF-8 as the stdlib hands it over
    ("Za\udcbf\udcf3\udcb3\udce6", "Zażółć"),                         # raw 8-bit Windows-1250
    ("a\x00b\r\n\tc", "ab c"),
])
def test_header_values_are_decoded_tolerantly(value, text):
    from helpdesk.inbound.mail_headers import header_text

    assert header_text(value) == text


@pytest.mark.parametrize("html, text", [
    ("<html><head><title>t</title><body><p>Hello</p>", "Hello"),   # a <head> never closed
    ('<a href="https://x.example/a">Click</a> <a href="https://x.example">https://x.example</a>',
     "Click <https://x.example/a> https://x.example"),
    ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
    ("<p>a<![foo[bar]]>b &amp; c</p>", "a b & c"),                 # markup html.parser gives up on
    ('<img src="cid:x" alt="Company logo">', "[Company logo]"),
    ("<pre>line 1\nline 2</pre>", "line 1\nline 2"),
])
def test_html_becomes_readable_text(html, text):
    assert html_to_text(html) == text


def test_parsed_strings_are_storable_for_the_whole_corpus():
    for path in sorted(CORPUS.glob("*.eml")):
        try:
            mail = parse_mail(path.read_bytes(), 1, "sender@client.example", ())
        except Quarantine:
            continue
        strings = [mail.text, mail.subject, mail.sender, mail.sender_name, mail.message_id, *mail.recipients,
                   *mail.headers, *mail.headers.values(), *mail.auth_results, *(a.filename for a in mail.attachments)]
        for value in strings:
            value.encode("utf-8")  # no lone surrogates
            assert "\x00" not in value, path.name
