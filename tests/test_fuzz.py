"""Fuzzed headers and MIME trees through the real listener: every message ends processed or
quarantined for a reason a person understands, and the listener keeps answering.

One gateway serves the whole test (per database); the hypothesis-driven check runs inside it,
because function-scoped fixtures do not mix with @given. Derandomized, so CI sees the same cases.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import quopri
import re
import smtplib
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpdesk.store.db import new_session
from helpdesk.store.models import Article
from tests.mail import client_mail, send, wait_until

MAX_BYTES = 256 * 1024  # the gateway's SIZE in this test, so an oversized message is cheap to make
FOLD_AT = 100           # characters (at most 400 bytes): lines stay below RFC 5321's 1000 octets, even after injection

LABELS = ["utf-8", "us-ascii", "iso-8859-1", "iso-8859-2", "windows-1250", "windows-1251", "koi8-r", "utf-7",
          "iso-2022-jp", "utf-16", "x-unknown", "", 'bad"label', "shift_jis"]
CODECS = ["utf-8", "cp1250", "iso-8859-2", "cp1251", "koi8-r", "cp1252", "utf-7", "iso-2022-jp", "utf-16"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "8-bit", "base64"]
LEAF_TYPES = ["text/plain", "text/plain", "text/html", "application/octet-stream", "image/png", "text/calendar",
              "application/ms-tnef", "message/delivery-status", "text/rfc822-headers"]
HEADER_NAMES = ["Subject", "To", "Cc", "Date", "Message-ID", "In-Reply-To", "References", "Sender", "Reply-To",
                "Auto-Submitted", "Precedence", "List-Id", "X-Autoreply", "Authentication-Results", "Content-Type",
                "MIME-Version", "Content-Transfer-Encoding", "Content-Disposition", "From"]
# Letters of our clients' languages, other scripts, controls (NUL included) and emoji.
TEXT = st.text(st.one_of(st.sampled_from("aąćęłńóśźżčďěňřšťůžđАБВЖЯжяё\t\n\r\x00\x01\x1b€„“–"),
                         st.characters(codec="utf-8", exclude_categories=("Cs",))), max_size=300)
NAMES = st.one_of(st.sampled_from(["report.pdf", "../../etc/passwd", "C:\\evil.exe", "", ".hidden", "a\nb.txt",
                                   "x" * 300 + ".doc", "Zpráva.txt", "=?utf-8?q?=C5=BC.txt?="]),
                  TEXT.map(lambda t: t[:60]))


@dataclass(frozen=True)
class Leaf:
    ctype: str
    label: str
    codec: str
    cte: str
    text: str
    filename: str | None


@dataclass(frozen=True)
class Multi:
    subtype: str
    parts: tuple
    boundary: str  # "ok", "unclosed", "wrong" (declared one never used), "missing" (no parameter)


@dataclass(frozen=True)
class Enclosed:
    headers: tuple
    body: object


def _fold(line: str) -> str:
    """Fold at spaces, and hard (an odd but valid continuation) where there are none."""
    out, width = [], 0
    for word in line.split(" "):
        while len(word) > FOLD_AT:
            out.append(word[:FOLD_AT] + "\r\n ")
            word, width = word[FOLD_AT:], 0
        if width + len(word) > FOLD_AT:
            out.append("\r\n ")
            width = 0
        out.append(word + " ")
        width += len(word) + 1
    return "".join(out)[:-1]


def _encoded_word(text: str, label: str, codec: str, kind: str, broken: bool) -> str:
    data = text.encode(codec, "replace")
    payload = base64.b64encode(data).decode() if kind == "B" else "".join(f"={b:02X}" for b in data)
    return f"=?{label or 'utf-8'}?{kind}?{payload[:-2] if broken else payload}" + ("" if broken else "?=")


header_values = st.one_of(
    TEXT,
    st.builds(_encoded_word, TEXT.map(lambda t: t[:40]), st.sampled_from(LABELS), st.sampled_from(CODECS),
              st.sampled_from("BQ"), st.booleans()),
    st.builds(lambda words, n: " ".join(words * n), st.lists(TEXT.map(lambda t: t[:20]), max_size=5),
              st.integers(1, 200)),
    st.builds(lambda name, local, domain: f"{name} <{local}@{domain}>", TEXT.map(lambda t: t[:30]),
              st.from_regex(r"[a-z0-9.+-]{1,20}", fullmatch=True), st.sampled_from(["client.example", "b.example"])),
    st.builds(lambda n: " ".join(f"<id{i}@client.example>" for i in range(n)), st.integers(0, 300)),
)
headers = st.lists(st.tuples(st.one_of(st.sampled_from(HEADER_NAMES),
                                       st.from_regex(r"X-[A-Za-z0-9-]{1,30}", fullmatch=True)), header_values),
                   max_size=12)
leaves = st.builds(Leaf, st.sampled_from(LEAF_TYPES), st.sampled_from(LABELS), st.sampled_from(CODECS),
                   st.sampled_from(ENCODINGS), TEXT, st.none() | NAMES)
trees = st.recursive(leaves, lambda children: st.one_of(
    st.builds(Multi, st.sampled_from(["mixed", "alternative", "related", "report", "signed"]),
              st.lists(children, max_size=4).map(tuple), st.sampled_from(["ok", "ok", "unclosed", "wrong", "missing"])),
    st.builds(Enclosed, headers.map(tuple), children)), max_leaves=8)


def _header_block(pairs) -> bytes:
    return b"".join(f"{name}: {_fold(value)}\r\n".encode("utf-8", "surrogatepass") for name, value in pairs)


def _encode_body(leaf: Leaf) -> bytes:
    data = leaf.text.replace("\n", "\r\n").encode(leaf.codec, "replace")
    if leaf.cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if leaf.cte == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    if leaf.cte == "x-uuencode":
        lines = b"".join(binascii.b2a_uu(data[i:i + 45]) for i in range(0, len(data), 45))
        return b"begin 644 f.bin\r\n" + lines + b"end"
    return re.sub(rb"([^\r\n]{%d})" % (4 * FOLD_AT), rb"\1\r\n", data)


def render(node, depth: int = 0) -> tuple[list[tuple[str, str]], bytes]:
    """(headers, body) of one MIME node."""
    if isinstance(node, Leaf):
        params = f"; charset={node.label}" if node.label else ""
        pairs = [("Content-Type", node.ctype + params), ("Content-Transfer-Encoding", node.cte)]
        if node.filename is not None:
            pairs.append(("Content-Disposition", f'attachment; filename="{node.filename}"'))
        return pairs, _encode_body(node)
    if isinstance(node, Enclosed):
        inner_headers, inner_body = render(node.body, depth + 1)
        inner = _header_block([*node.headers, *inner_headers]) + b"\r\n" + inner_body
        return [("Content-Type", "message/rfc822")], inner
    boundary = f"b{depth}x{len(node.parts)}"
    declared = {"ok": boundary, "unclosed": boundary, "wrong": "never-used"}.get(node.boundary)
    ctype = f"multipart/{node.subtype}" + (f'; boundary="{declared}"' if declared else "")
    body = b"preamble\r\n"
    for part in node.parts:
        part_headers, part_body = render(part, depth + 1)
        body += f"--{boundary}\r\n".encode() + _header_block(part_headers) + b"\r\n" + part_body + b"\r\n"
    if node.boundary != "unclosed":
        body += f"--{boundary}--\r\n".encode()
    return [("Content-Type", ctype)], body


@dataclass(frozen=True)
class Case:
    headers: tuple
    tree: object
    has_from: bool
    null_sender: bool
    injection: tuple[float, bytes] | None
    oversized: bool

    def raw(self, number: int) -> bytes:
        top = [("X-Fuzz-Case", str(number)), ("Message-ID", f"<fuzz-{number}@client.example>")]
        if self.has_from:
            top.append(("From", f"Fuzz {number} <fuzz{number}@client.example>"))
        tree_headers, body = render(self.tree)
        if self.oversized:
            body += b"\r\n" + base64.encodebytes(b"\x00" * MAX_BYTES).replace(b"\n", b"\r\n")
        raw = _header_block([*top, *self.headers, ("MIME-Version", "1.0"), *tree_headers]) + b"\r\n" + body
        if self.injection:
            at = int(self.injection[0] * len(raw))
            raw = raw[:at] + self.injection[1] + raw[at:]
        return raw


cases = st.builds(Case, headers.map(tuple), trees, st.booleans(), st.integers(0, 4).map(lambda n: n == 3),
                  st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=100)),
                  st.integers(0, 30).map(lambda n: n == 17))  # rare, not where hypothesis starts


def _send(port: int, raw: bytes, envelope_from: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.mail(envelope_from)[0] == 250
        assert smtp.rcpt("support@helpdesk.test")[0] == 250
        return smtp.data(raw)


def _article_text(engine, inbound_id: int) -> str | None:
    with new_session(engine) as s, s.begin():
        return s.execute(select(Article.text).where(Article.inbound_id == inbound_id)).scalar_one_or_none()


def test_fuzzed_mail_is_processed_or_quarantined_and_the_listener_survives(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(max_message_bytes=MAX_BYTES))
    numbers = itertools.count(1)
    outcomes: Counter[str] = Counter()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(case=cases)
    # Every ending is tried whatever the hypothesis version generates first: an oversized mail.
    @example(case=Case((), Leaf("text/plain", "utf-8", "utf-8", "8bit", "big", None), True, False, None, True))
    def one_message(case: Case):
        raw = case.raw(next(numbers))
        code, answer = _send(gw.port, raw, "" if case.null_sender else "sender@client.example")
        if code != 250:
            assert code == 552 and len(raw) > MAX_BYTES, f"answered {code} {answer!r}"
            outcomes["refused as too large"] += 1
            return
        row_id = int(re.search(rb"stored as (\d+)", answer).group(1))
        row = wait_until(lambda: next((r for r in db.inbound() if r.id == row_id and r.status != "pending"), None), 20)
        outcomes[row.status] += 1
        if row.status == "quarantined":
            # The only acceptable reason: no sender anywhere. Anything else is a parser or pipeline bug.
            assert row.reason.startswith("no usable sender"), row.reason
            return
        assert row.status == "processed", (row.status, row.reason)
        text = _article_text(db.engine, row_id)
        assert text is not None and "\x00" not in text
        text.encode("utf-8")  # no lone surrogates

    one_message()
    # The cases must reach every ending, or the generator has gone blind somewhere.
    assert outcomes["processed"] > outcomes["quarantined"] > 0 and outcomes["refused as too large"] > 0, outcomes
    stored = db.inbound()  # every accepted message is there, and none is left pending
    assert len(stored) == outcomes["processed"] + outcomes["quarantined"]
    assert all(r.status in ("processed", "quarantined") for r in stored)
    send(gw.port, client_mail(subject="after the fuzzing", sender="after.fuzz@client.example"))
    wait_until(lambda: any(t["subject"] == "after the fuzzing" for t in db.tickets()), 20)
