"""Delivery status notifications: the samples in tests/bounces/ and the quirks real MTAs produce."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.ground.message import BounceReport
from helpdesk.gateway.hygiene.bounce import MAX_DIAGNOSTIC, parse_bounce

SAMPLES = Path(__file__).parent / "bounces"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def dsn(status: str, *, status_type: str = "message/delivery-status", encoding: str | None = None,
        returned: str = "", report_type: str = "; report-type=delivery-status") -> bytes:
    """A minimal multipart/report around the given status part body."""
    cte = f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    text = ("From: MAILER-DAEMON@mx.example.net\nTo: bounces+1@helpdesk.test\nSubject: failure\n"
            f'MIME-Version: 1.0\nContent-Type: multipart/report{report_type}; boundary="b"\n\n'
            "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
            f"--b\nContent-Type: {status_type}\n{cte}\n{status}\n"
            f"{returned}--b--\n")
    return text.encode("utf-8")


EXPECTED = {
    "postfix_failed.eml": BounceReport(
        "jan.novak@client.example", "failed", "5.1.1",
        "550 5.1.1 <jan.novak@client.example>: Recipient address rejected: User unknown in virtual mailbox table",
        "hd42.0a1b2c3d4e5f.mfrggzdfmztwq2lk@helpdesk.test", True),
    "exim_failed.eml": BounceReport(
        "petra@partner.example", "failed", "5.0.0", "550 5.2.1 Mailbox disabled for this recipient",
        "hd108.9f8e7d6c5b4a.zyxwvutsrqponmlk@helpdesk.test", True),
    "exchange_ndr.eml": BounceReport(
        "eva.svobodova@contoso.example", "failed", "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "hd512.123456abcdef.aaaabbbbccccdddd@helpdesk.test", True),
    "postfix_delayed.eml": BounceReport(
        "karel@slow.example", "delayed", "4.4.1",
        "connect to mx.slow.example[198.51.100.20]:25: Connection timed out",
        "hd77.00aa11bb22cc.ghijklmnopqrstuv@helpdesk.test", False),
    "sendmail_two_recipients_no_message_id.eml": BounceReport(
        "m.dvorak@oldcorp.example", "failed", "5.1.1", "550 5.1.1 <m.dvorak@oldcorp.example>... User unknown",
        None, True),
    "qmail_failed.eml": BounceReport(
        "olga@smallisp.example", "failed", "5.1.1", "Sorry, no mailbox here by that name. (#5.1.1)",
        "hd333.abcdef012345.qrstuvwxyz234567@helpdesk.test", True),
    "qmail_remote.eml": BounceReport(
        "tomas@far.example", "failed", "5.7.1",
        "203.0.113.50 does not like recipient. Remote host said: 550 5.7.1 <tomas@far.example>: "
        "Relay access denied Giving up on 203.0.113.50.",
        "hd340.0123456789ab.abcdefghijklmnop@helpdesk.test", True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("line_ending", [b"\n", b"\r\n"])
def test_sample_bounces_report_recipient_status_and_original(name, line_ending):
    assert parse_bounce(sample(name).replace(b"\n", line_ending)) == EXPECTED[name]


def test_gmail_bounce_with_folded_diagnostic():
    report = parse_bounce(sample("gmail_failed.eml"))
    assert report is not None and report.permanent
    assert (report.recipient, report.action, report.status) == ("no.such.user@gmail.com", "failed", "5.1.1")
    assert report.original_message_id == "hd7.ffeeddccbbaa.abcdefghijklmnop@helpdesk.test"
    # the four folded lines of the Diagnostic-Code become one, without the "smtp;" type
    assert report.diagnostic.startswith("The email account that you tried to reach does not exist. Please try "
                                        "double-checking")
    assert "\n" not in report.diagnostic and report.diagnostic.endswith("- gsmtp")


@pytest.mark.parametrize("name", ["normal_mail.eml", "forwarded_bounce.eml"])
def test_ordinary_mail_is_not_a_bounce(name):
    # normal_mail quotes DSN words and a qmail line; forwarded_bounce carries a DSN as an attachment
    assert parse_bounce(sample(name)) is None


def test_read_receipt_report_is_not_a_bounce():
    mdn = dsn("Reporting-UA: mua.client.example\nFinal-Recipient: rfc822; jan@client.example\n"
              "Disposition: manual-action/MDN-sent-manually; displayed\n",
              status_type="message/disposition-notification", report_type="; report-type=disposition-notification")
    assert parse_bounce(mdn) is None


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff\xfe" * 200, b"From: a@b\n\n", b"Content-Type: multipart/report\n\nno boundary at all",
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\n',
    b"Content-Type: multipart/report; report-type*=utf-8''%FF%FE; boundary=b\n\n--b\n--b--\n",
    b"Content-Type: text/plain; charset=no-such-charset\nContent-Transfer-Encoding: base64\n\n!!!!\n",
])
def test_broken_input_is_not_a_bounce_and_never_raises(raw):
    assert parse_bounce(raw) is None


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.eml")))
def test_truncated_samples_never_raise(name):
    raw = sample(name)
    for end in range(0, len(raw), 23):
        result = parse_bounce(raw[:end])
        assert result is None or isinstance(result, BounceReport)


def test_first_failed_recipient_is_chosen_else_the_first_group():
    groups = ("Reporting-MTA: dns; mx.example.net\n\n"
              "Final-Recipient: rfc822; a@x.example\nAction: delivered\nStatus: 2.0.0\n\n"
              "Final-Recipient: rfc822; b@x.example\nAction: delayed\nStatus: 4.2.2\n")
    report = parse_bounce(dsn(groups))
    assert (report.recipient, report.action, report.permanent) == ("a@x.example", "delivered", False)
    report = parse_bounce(dsn(groups + "\nFinal-Recipient: rfc822; c@x.example\nAction: failed\nStatus: 5.2.1\n"))
    assert (report.recipient, report.action, report.status, report.permanent) == ("c@x.example", "failed",
                                                                                    "5.2.1", True)


def test_failed_with_temporary_status_is_not_permanent():
    report = parse_bounce(dsn("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 4.4.7\n"))
    assert report.action == "failed" and not report.permanent


def test_original_recipient_is_the_fallback_and_missing_fields_are_inferred():
    report = parse_bounce(dsn("Reporting-MTA: dns; mx.example.net\n\n"
                              "Original-Recipient: rfc822;<Someone@X.example>\n"
                              "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"))
    # no Action and no Status: the enhanced code in the diagnostic stands in, its class gives the action
    assert report == BounceReport("someone@x.example", "failed", "5.1.1", "550 5.1.1 no such user", None, True)


def test_status_part_labelled_text_plain_is_read():
    report = parse_bounce(dsn("Reporting-MTA: dns; mx.example.net\n\n"
                              "Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n",
                              status_type="text/plain"))
    assert report.recipient == "a@x.example" and report.permanent


def test_base64_encoded_status_part_is_decoded():
    status = b"Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; a@x.example\nAction: failed\n" \
             b"Status: 5.1.1\n"
    report = parse_bounce(dsn(base64.encodebytes(status).decode(), encoding="base64"))
    assert (report.recipient, report.status) == ("a@x.example", "5.1.1")


def test_internationalized_dsn_rfc_6533():
    report = parse_bounce(dsn("Reporting-MTA: dns; mx.example.net\n\n"
                              "Final-Recipient: utf-8; Žofie@příklad.example\nAction: failed\nStatus: 5.1.1\n"
                              "Diagnostic-Code: smtp; 550 5.1.1 Uživatel neexistuje\n",
                              status_type="message/global-delivery-status",
                              returned="--b\nContent-Type: message/global-headers\n\nMessage-ID: <x1@helpdesk.test>\n"))
    assert report == BounceReport("žofie@příklad.example", "failed", "5.1.1", "550 5.1.1 Uživatel neexistuje",
                                  "x1@helpdesk.test", True)


def test_undecodable_bytes_become_replacement_characters():
    raw = dsn("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n"
              "Diagnostic-Code: smtp; 550 bad BYTE here\n").replace(b"BYTE", b"\xff\xfe")
    report = parse_bounce(raw)
    assert report.diagnostic == "550 bad \ufffd\ufffd here"  # storable: no lone surrogates left


def test_diagnostic_is_one_line_and_capped():
    long_text = "very long explanation " * 100
    report = parse_bounce(dsn("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.0.0\n"
                              f"Diagnostic-Code: smtp; 550 {long_text}\n  continued\n"))
    assert len(report.diagnostic) == MAX_DIAGNOSTIC and "\n" not in report.diagnostic


def test_gmail_style_original_message_id_when_nothing_is_returned():
    report = parse_bounce(dsn("Reporting-MTA: dns; googlemail.com\nX-Original-Message-ID: <hd9.a@helpdesk.test>\n\n"
                              "Final-Recipient: rfc822; a@gmail.com\nAction: failed\nStatus: 5.1.1\n"))
    assert report.original_message_id == "hd9.a@helpdesk.test"


def test_signed_message_id_survives_the_round_trip():
    signer = MessageIdSigner(b"s" * 32, "helpdesk.test")
    message_id = signer.new(42)
    returned = f"--b\nContent-Type: message/rfc822\n\nFrom: support@helpdesk.test\nMessage-ID: <{message_id}>\n\nhi\n"
    report = parse_bounce(dsn("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n",
                              returned=returned))
    assert report.original_message_id == message_id and signer.verified_ticket(report.original_message_id) == 42


def test_returned_message_wrongly_base64_encoded_still_gives_its_message_id():
    original = base64.encodebytes(b"From: support@helpdesk.test\nMessage-ID: <hd5.b@helpdesk.test>\n\nhi\n").decode()
    returned = f"--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{original}"
    report = parse_bounce(dsn("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n",
                              returned=returned))
    assert report.original_message_id == "hd5.b@helpdesk.test"
