"""Recognise delivery status notifications and extract what they report (signed VERP addresses: message_ids.py).

Handled: RFC 3464 DSNs (multipart/report; report-type=delivery-status, RFC 6522) including the
internationalized types of RFC 6533, and qmail's plain-text bounce. Other plain-text bounces are left
to the MAILER-DAEMON rule in gateway.classify: guessing at free text would mark good addresses as bad.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import quopri
import re
from email.message import Message

from helpdesk.gateway.ground.message import BounceReport

# Diagnostic-Code can carry a whole SMTP conversation; keep what a person reads in a ticket event.
MAX_DIAGNOSTIC = 500

_ACTIONS = {"failed", "delayed", "delivered", "relayed", "expanded"}
_STATUS_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_ORIGINAL_TYPES = {"message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"}
# RFC 3463 class.subject.detail, but not the inside of an IP address such as 10.5.1.1
_ENHANCED_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_TYPED_VALUE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9-]*\s*;\s*")     # "rfc822; ", "smtp;", "X-Postfix; "
_FIELD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
# qmail-send opens every bounce with this line; requiring it first keeps quoted or forwarded text out.
_QMAIL_OPENING = re.compile(r"\A\s*Hi\. This is the qmail-send program at \S+\.?[ \t]*\n")
_QMAIL_COPY = re.compile(r"^--- (?:Below this line is a copy of the message|Enclosed are the original headers)",
                         re.MULTILINE)
_QMAIL_RECIPIENT = re.compile(r"^<([^<>\s@]+@[^<>\s@]+)>:[ \t]*$", re.MULTILINE)


def parse_bounce(raw: bytes) -> BounceReport | None:
    """The report a delivery status notification carries, or None for any other message."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        return _parse_dsn(msg) or _parse_qmail(msg)
    except Exception:
        # Broken MIME reaches odd corners of the stdlib (bad RFC 2231 parameters, unknown charsets):
        # a bounce that cannot be read is simply not recognised, and never stops the pipeline.
        return None


# --- RFC 3464 -----------------------------------------------------------------------------------------

def _parse_dsn(msg: Message) -> BounceReport | None:
    if msg.get_content_type() != "multipart/report" or not msg.is_multipart():
        return None
    report_type = str(msg.get_param("report-type", "") or "").lower()
    # RFC 6522 reports also carry read receipts (disposition-notification) and abuse reports: not bounces.
    if report_type not in ("delivery-status", ""):
        return None
    parts = [p for p in msg.get_payload() if isinstance(p, Message)]
    groups = _status_groups(parts, lenient=report_type == "delivery-status")
    recipients = [g for g in groups if _is_recipient_group(g)]
    if not recipients:
        return None
    group = next((g for g in recipients if _action(g) == "failed"), recipients[0])
    # Gmail names the returned message in the per-message fields too: useful when it returns no headers.
    fallback_id = _bare_message_id(groups[0].get("x-original-message-id"))
    return _report_from_group(group, _original_message_id(parts) or fallback_id)


def _status_groups(parts: list[Message], lenient: bool) -> list[dict[str, str]]:
    """The field groups (RFC 3464 section 2.1) of the first status part that reports on any recipient."""
    candidates = [p for p in parts if p.get_content_type() in _STATUS_TYPES]
    if lenient:
        # Some MTAs label the status part text/plain; the first part is the human-readable text.
        candidates += [p for p in parts[1:] if p.get_content_type() == "text/plain"]
    for part in candidates:
        groups = _field_groups(_part_text(part))
        if any(_is_recipient_group(g) for g in groups):
            return groups
    return []


def _is_recipient_group(group: dict[str, str]) -> bool:
    return any(name in group for name in ("final-recipient", "original-recipient", "action"))


def _report_from_group(group: dict[str, str], original_message_id: str | None) -> BounceReport:
    diagnostic = _one_line(_TYPED_VALUE.sub("", group.get("diagnostic-code", ""), count=1))[:MAX_DIAGNOSTIC]
    # Status is mandatory, but when it is missing the Diagnostic-Code's enhanced code says the same.
    status = _enhanced_status(group.get("status", "")) or _enhanced_status(diagnostic)
    action = _action(group) or _action_for_status(status)
    original = _address(group.get("original-recipient", ""))
    recipient = _address(group.get("final-recipient", "")) or original
    return BounceReport(recipient=recipient, action=action, status=status, diagnostic=diagnostic,
                        original_message_id=original_message_id,
                        permanent=action == "failed" and status.startswith("5."),
                        original_recipient=original if original != recipient else "")


def _action(group: dict[str, str]) -> str:
    words = _strip_comments(group.get("action", "")).lower().split()
    return words[0] if words and words[0] in _ACTIONS else ""


def _action_for_status(status: str) -> str:
    # Only reached for a group without a usable Action field: its status class is the best evidence.
    return {"2": "delivered", "4": "delayed"}.get(status[:1], "failed")


def _original_message_id(parts: list[Message]) -> str | None:
    """The Message-ID of the returned message or headers (RFC 3462 third part), if any."""
    for part in parts:
        if part.get_content_type() not in _ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        # message/*: the stdlib already parsed the returned message
        value = payload[0].get("message-id") if isinstance(payload, list) and payload else None
        if value is None:  # text/rfc822-headers, or a message/rfc822 wrongly sent base64-encoded
            groups = _field_groups(_part_text(part))
            value = groups[0].get("message-id") if groups else None
        message_id = _bare_message_id(value)
        if message_id:
            return message_id
    return None


# --- qmail --------------------------------------------------------------------------------------------

def _parse_qmail(msg: Message) -> BounceReport | None:
    """qmail-send's bounce (not RFC 3464): '<user@x>:' then the reason, then a copy of the message."""
    if msg.is_multipart() or msg.get_content_maintype() != "text":
        return None
    body = _part_text(msg)
    copy = _QMAIL_COPY.search(body)
    notice, returned = (body[:copy.start()], body[copy.end():]) if copy else (body, "")
    if not _QMAIL_OPENING.match(notice):
        return None
    match = _QMAIL_RECIPIENT.search(notice)
    if not match:
        return None
    reason = _one_line(notice[match.end():].strip().split("\n\n")[0])[:MAX_DIAGNOSTIC]
    status = _qmail_status(reason, permanent_notice="This is a permanent error" in notice)
    groups = _field_groups(returned.partition("\n")[2].lstrip("\n"))  # skip the rest of the separator line
    return BounceReport(recipient=match[1].lower(), action="failed", status=status, diagnostic=reason,
                        original_message_id=_bare_message_id(groups[0].get("message-id") if groups else None),
                        permanent=status.startswith("5."))


def _qmail_status(reason: str, permanent_notice: bool) -> str:
    """qmail writes '(#5.1.1)' or quotes the remote reply; else its notice says whether it gave up."""
    status = _enhanced_status(reason)
    if status:
        return status
    basic = re.search(r"Remote host said: ([245])\d\d\b", reason)
    if basic:
        return f"{basic[1]}.0.0"  # RFC 3463: X.0.0 is "other or undefined status" of that class
    return "5.0.0" if permanent_notice else ""


# --- shared text handling -----------------------------------------------------------------------------

def _part_text(part: Message) -> str:
    """A part's body as text with the transfer encoding undone, whether or not the stdlib split it."""
    payload = part.get_payload()
    if isinstance(payload, list):
        # The stdlib parses message/delivery-status into one Message per blank-line separated block.
        # Bytes, not str(): compat32 turns 8-bit header values (RFC 6533 UTF-8 addresses) into Header objects.
        text = "\n".join(b.as_bytes().decode("utf-8", "replace") for b in payload if isinstance(b, Message))
    else:
        text = str(payload)
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):
        text = _decode_transfer(text, encoding)
    return _valid_text(text).replace("\r\n", "\n").replace("\r", "\n")


def _decode_transfer(text: str, encoding: str) -> str:
    data = text.encode("utf-8", "surrogateescape")
    try:
        decoded = base64.b64decode(data) if encoding == "base64" else quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return ""
    return decoded.decode("utf-8", "replace")


def _field_groups(text: str) -> list[dict[str, str]]:
    """Blocks of 'Name: value' lines separated by blank lines (RFC 3464 section 2.1), names lower-cased,
    folded lines unfolded; the first occurrence of a repeated field wins."""
    groups = []
    for block in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        current = None
        for line in block.split("\n"):
            if line[:1] in (" ", "\t"):
                if current:
                    fields[current] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            current = name if colon and _FIELD_NAME.match(name) and name not in fields else None
            if current:
                fields[current] = value.strip()
        if fields:
            groups.append(fields)
    return groups


def _strip_comments(value: str) -> str:
    return re.sub(r"\([^()]*\)", " ", value)


def _address(value: str) -> str:
    """'rfc822; User@Example.NET' -> 'user@example.net' (RFC 3464 address-type stripped)."""
    address = _TYPED_VALUE.sub("", _strip_comments(value), count=1).strip()
    return address.removeprefix("<").removesuffix(">").strip().lower()


def _enhanced_status(value: str) -> str:
    match = _ENHANCED_STATUS.search(value)
    return f"{match[1]}.{int(match[2])}.{int(match[3])}" if match else ""


def _bare_message_id(value: object) -> str | None:
    if value is None:
        return None
    text = _valid_text(str(value))
    match = re.search(r"<([^<>]+)>", text)
    bare = re.sub(r"\s+", "", match[1] if match else text)
    return bare or None


def _one_line(text: str) -> str:
    return " ".join(_valid_text(text).split())


def _valid_text(text: str) -> str:
    # Undecodable bytes arrive as lone surrogates (surrogateescape); they cannot be stored or logged.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
