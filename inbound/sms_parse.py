"""Turn a stored Twilio webhook body (the form exactly as received) into the pipeline's message type.

An SMS becomes an InboundMail like any mail: channel "sms", the sender's number (E.164) as its
sender, the text as body and as new text (an SMS quotes nothing), its MessageSid as Message-ID
(so the pipeline's duplicate check holds for it too), and the MMS media URLs in a header the
apply stage records on the article. The subject of a new ticket is the text's first line.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import phonenumbers

from helpdesk.gateway.ground.errors import Quarantine
from helpdesk.gateway.ground.message import InboundMail

SUBJECT_CHARS = 80
MEDIA_HEADER = "x-media-urls"
MAX_MEDIA = 10  # Twilio's own limit per MMS


def _field(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def _subject(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= SUBJECT_CHARS else first[:SUBJECT_CHARS - 3].rstrip() + "..."


def _e164(value: str) -> str:
    """Twilio sends E.164 already; anything else (a short code, an alphanumeric sender) is kept aside."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise Quarantine(f"SMS from an unusable number {value!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise Quarantine(f"SMS from an unusable number {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_sms(raw: bytes, inbound_id: int, source: str = "twilio") -> InboundMail:
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Quarantine("the stored SMS webhook body is not UTF-8") from None
    sid = _field(form, "MessageSid") or _field(form, "SmsSid")
    sender = _e164(_field(form, "From"))
    if not sid:
        raise Quarantine("SMS without a MessageSid")
    text = _field(form, "Body").replace("\r\n", "\n").strip()
    count = _field(form, "NumMedia")
    media = [_field(form, f"MediaUrl{i}") for i in range(min(int(count), MAX_MEDIA) if count.isdigit() else 0)]
    headers = {MEDIA_HEADER: json.dumps([m for m in media if m])} if any(media) else {}
    return InboundMail(inbound_id=inbound_id, channel="sms", envelope_from=sender,
                       envelope_to=(_field(form, "To"),), sender=sender, sender_name="", recipients=(),
                       message_id=f"{sid}@sms.twilio", in_reply_to=(), references=(), subject=_subject(text),
                       text=text, headers=headers, source=source, new_text=text)
