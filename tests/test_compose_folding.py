"""Outbound heads for any subject and display name: lines within 998 octets (78 where it can be),
read back to the same text, and never a header we did not write."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.header import decode_header
from email.utils import getaddresses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpdesk.gateway.ground.errors import HeaderInjection
from helpdesk.gateway.ground.message import ParsedAttachment
from helpdesk.gateway.ground.outgoing import OutboundIntent, RenderedMail
from helpdesk.inbound.parse import safe_filename
from helpdesk.outbound.compose import compose_mail

TAG = "[HD#7]"
WRITTEN = {"From", "Reply-To", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Loop", "MIME-Version",
           "Content-Type", "Content-Transfer-Encoding", "Content-Language"}
# Any text a template or a person could produce: every character but the three that end a line
# and lone surrogates (not text; the parser has replaced them before anything reaches us).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=400)
TRICKY = st.sampled_from(['Nowak, Anna', 'Anna "the boss" Nowak', "back\\slash", "=?utf-8?q?Evil?=", "Bcc: x@evil",
                          " padded ", "two  spaces", "Žluťoučký kůň úpěl ďábelské ódy", "x" * 300, "日本語" * 70,
                          "\u2028\x85\x0b\x1c", "tab\there", "a" * 77 + " b", ""])
NAMES = TEXT | TRICKY
SUBJECTS = TEXT | TRICKY | st.builds(lambda s: f"{TAG} {s}", TEXT | TRICKY)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Long texts are slow to generate on a busy machine; that is not what these tests are about.
RELAXED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
# Lines holding an address alone: an addr-spec cannot be folded, so only the 998 limit binds them.
ADDRESS_ONLY = (b"X-Loop", b"Reply-To")


def compose(subject: str, to_name: str = "Jan", support_name: str = "Support", cc=(), attachments=()):
    intent = OutboundIntent("acknowledgement", 7, "jan@client.example", to_name, "pl", None, cc=cc,
                            attachments=attachments)
    return compose_mail(intent, RenderedMail(subject, "body\n"), tag=TAG, support_name=support_name,
                        support_address="support@helpdesk.test", message_id="hd7.x@helpdesk.test",
                        now=datetime(2026, 11, 22, tzinfo=UTC))


def head_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def rfc2047(phrase: str) -> str:
    """A display name as RFC 2047 6.2 reads it: whitespace between adjacent encoded words is
    ignored. The email package's address parser keeps it (CPython gh-128110), so names split into
    several encoded words are read here with the legacy decoder, which follows the RFC."""
    return "".join(p.decode(cs or "ascii") if isinstance(p, bytes) else p for p, cs in decode_header(phrase))


def check_address(raw: bytes, field: str, name: str, address: str) -> None:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    (found,) = parsed[field].addresses
    assert found.addr_spec == address
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)[field]
    ((phrase, _address),) = getaddresses([legacy])
    assert rfc2047(phrase) == name
    if "=?" not in legacy:  # atoms or a quoted string: the modern parser reads them exactly
        assert found.display_name == name
    elif legacy.count("=?") == 1 and not CONTROL.search(name):
        # One encoded word: the same, but that it folds runs of spaces inside the word to one (and
        # drops or changes control characters there, which names that reach us never hold).
        assert re.sub(" +", " ", found.display_name) == re.sub(" +", " ", name)


@settings(max_examples=300, **RELAXED)
@given(subject=SUBJECTS, to_name=NAMES, support_name=NAMES)
@example(subject="x" * 5000, to_name="Jan", support_name="Support")
@example(subject="ab " * 2000, to_name="Jan", support_name="Support")
@example(subject=f"{TAG}  leading spaces after the tag", to_name="Jan", support_name="Support")
def test_every_head_line_fits_and_reads_back(subject, to_name, support_name):
    mail = compose(subject, to_name, support_name)
    lines = head_lines(mail.raw)
    assert all(len(line) <= 998 for line in lines)
    assert all(len(line) <= 78 for line in lines if not line.startswith(ADDRESS_ONLY))
    assert all(line[:1] in b" \t" or b":" in line for line in lines)  # a line is a header or its fold

    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert set(parsed.keys()) == WRITTEN and len(parsed.keys()) == len(WRITTEN)
    assert parsed["Subject"] == (subject if TAG in subject else f"{TAG} {subject}")
    check_address(mail.raw, "To", to_name, "jan@client.example")
    check_address(mail.raw, "From", support_name, "support@helpdesk.test")
    assert parsed.get_content().replace("\r\n", "\n") == "body\n"


@settings(max_examples=100, **RELAXED)
@given(names=st.lists(NAMES, min_size=1, max_size=4))
def test_every_cc_reads_back(names):
    cc = tuple((f"cc{i}@client.example", name) for i, name in enumerate(names))
    mail = compose("Printer", cc=cc)
    assert all(len(line) <= 78 for line in head_lines(mail.raw) if not line.startswith(ADDRESS_ONLY))
    legacy = email.message_from_bytes(mail.raw, policy=email.policy.compat32)["Cc"]
    found = getaddresses([legacy])
    assert [address for _name, address in found] == [address for address, _name in cc]
    assert [rfc2047(phrase) for phrase, _address in found] == list(names)


@settings(max_examples=100, **RELAXED)
@given(filename=st.builds(safe_filename, st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
                          st.just(1)))
@example(filename="日本語の長いファイル名" * 13)
def test_attachment_names_fold_and_read_back(filename):
    """Any name the parser lets through (safe_filename), however long or foreign."""
    mail = compose("Files", attachments=(ParsedAttachment(filename, "text/plain", b"data"),))
    assert all(len(line) <= 78 for line in mail.raw.split(b"\r\n") if not line.startswith(ADDRESS_ONLY))
    (part,) = [p for p in email.message_from_bytes(mail.raw, policy=email.policy.default).iter_attachments()]
    assert part.get_filename() == filename and part.get_content() == "data"


@given(before=TEXT, after=TEXT, breaker=st.sampled_from(["\r", "\n", "\r\n", "\x00"]),
       where=st.sampled_from(["subject", "to_name", "support_name", "cc"]))
@settings(max_examples=100, **RELAXED)
def test_a_line_break_or_nul_in_any_value_is_refused(before, after, breaker, where):
    value = before + breaker + after
    values = {"subject": "Printer", "to_name": "Jan", "support_name": "Support", "cc": ()}
    values[where] = (("cc@client.example", value),) if where == "cc" else value
    with pytest.raises(HeaderInjection):
        compose(**values)


@pytest.mark.parametrize("field", ["to_address", "in_reply_to", "references", "locale"])
def test_a_line_break_in_an_address_or_id_is_refused(field):
    values = {"to_address": "jan@client.example", "in_reply_to": "orig@client.example",
              "references": ("orig@client.example",), "locale": "pl"}
    values[field] = ("a@b\r\nBcc: x@evil",) if field == "references" else "a@b\r\nBcc: x@evil"
    intent = OutboundIntent("acknowledgement", 7, values["to_address"], "Jan", values["locale"],
                            values["in_reply_to"], references=values["references"])
    with pytest.raises(HeaderInjection):
        compose_mail(intent, RenderedMail("s", "b"), tag=TAG, support_name="S", support_address="s@helpdesk.test",
                     message_id="m@helpdesk.test", now=datetime(2026, 11, 22, tzinfo=UTC))


def test_an_overlong_message_id_is_left_out_of_the_thread_headers():
    long_id = "x" * 990 + "@client.example"
    intent = OutboundIntent("acknowledgement", 7, "jan@client.example", "Jan", None, long_id,
                            references=("root@client.example", long_id))
    mail = compose_mail(intent, RenderedMail("s", "b"), tag=TAG, support_name="S", support_address="s@helpdesk.test",
                        message_id="m@helpdesk.test", now=datetime(2026, 11, 22, tzinfo=UTC))
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert all(len(line) <= 998 for line in head_lines(mail.raw))
    assert "In-Reply-To" not in parsed and parsed["References"] == "<root@client.example>"
