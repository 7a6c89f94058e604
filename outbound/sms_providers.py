"""Ways to hand a text message on: Twilio's Messages API, or an operator's email-to-SMS gateway."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.header_values import refuse_breaks
from helpdesk.outbound.transport import SendError, Transport

# Twilio error codes that say the message can never go to this number (twilio.com/docs/errors/<code>).
INVALID_NUMBER, UNSUBSCRIBED, NOT_MOBILE = 21211, 21610, 21614
# 401/404 on the Messages resource mean our account SID or token is wrong, not that the SMS is bad:
# every SMS would fail the same way, so they wait (like mail while the relay is down) until it is fixed.
_OUR_SETUP = {401: "the Twilio account SID or auth token is refused", 404: "no such Twilio account"}
_TWILIO_HOST = re.compile(r"^https://[A-Za-z0-9.-]+\.twilio\.com")
_E164 = re.compile(r"\+?([1-9][0-9]{5,14})")
# Without a timeout a hung connection would hold the batch past its lease (requests waits forever).
TWILIO_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SmsSendResult:
    """What the provider answered. `permanent`: never worth retrying. `unavailable`: the provider could
    not be used at all, so the rest of the batch would fail the same way now. `opted_out`: the
    recipient unsubscribed (Twilio 21610), so no SMS of any kind goes to the number any more."""

    ok: bool
    permanent: bool
    code: int | None
    detail: str
    provider_ref: str | None
    opted_out: bool = False
    unavailable: bool = False


class SmsProvider(Protocol):
    name: str

    def send(self, number: str, text: str) -> SmsSendResult: ...

    def close(self) -> None: ...


class RedirectingHttpClient(TwilioHttpClient):
    """Sends Twilio's requests to `base_url` instead of https://*.twilio.com (a local fake in tests).
    `edge`/`region` only rename labels inside twilio.com, so they cannot do this."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, _TWILIO_HOST.sub(self.base_url, url), *args, **kwargs)


class TwilioProvider:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str, api_url: str,
                 status_callback_url: str | None = None):
        http = RedirectingHttpClient(api_url, timeout=TWILIO_TIMEOUT_SECONDS)
        self.client = Client(account_sid, auth_token, http_client=http)
        self.api_url = api_url
        # A Messaging Service (MG...) picks the sending number itself, from its pool.
        self.sender = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        if status_callback_url:
            self.sender["status_callback"] = status_callback_url

    def send(self, number: str, text: str) -> SmsSendResult:
        try:
            message = self.client.messages.create(to=number, body=text, **self.sender)
        except TwilioException as exc:
            return _twilio_refusal(exc)
        except (requests.RequestException, OSError, ValueError) as exc:
            # ValueError: an answer that is not JSON (a proxy's error page). A timeout may come after
            # Twilio took the message: retrying risks a duplicate, not retrying risks a loss.
            return SmsSendResult(ok=False, permanent=False, code=None, detail=f"twilio {self.api_url}: {exc}",
                                 provider_ref=None, unavailable=True)
        return SmsSendResult(ok=True, permanent=False, code=201, detail=f"twilio {message.status} {message.sid}",
                             provider_ref=message.sid)

    def close(self) -> None:
        session = self.client.http_client.session
        if session is not None:
            session.close()


def _twilio_refusal(exc: TwilioException) -> SmsSendResult:
    """Twilio said no: 429 and 5xx are worth retrying, any other 4xx is final for this message."""
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "title", None) or type(exc).__name__
    detail = f"HTTP {status}, Twilio error {code}: {text}" if code and code != status else f"HTTP {status}: {text}"
    if status in _OUR_SETUP:
        return SmsSendResult(ok=False, permanent=False, code=code, detail=f"{_OUR_SETUP[status]} ({detail})",
                             provider_ref=None, unavailable=True)
    temporary = status is None or status == 429 or status >= 500
    return SmsSendResult(ok=False, permanent=not temporary, code=code or status, detail=detail, provider_ref=None,
                         opted_out=code == UNSUBSCRIBED)


class EmailSmsProvider:
    """Mails the text to <digits>@<domain>, an operator's email-to-SMS gateway, through the relay."""

    name = "email"

    def __init__(self, relay: Transport, domain: str, from_address: str, clock: Clock = utcnow):
        self.relay, self.clock = relay, clock
        self.domain = refuse_breaks("SMS gateway domain", domain).strip().lstrip("@")
        self.from_address = refuse_breaks("From", from_address)

    def compose(self, number: str, text: str) -> tuple[str, bytes]:
        """The gateway's address for the number and the mail's bytes. No Subject: many gateways put
        it in front of the text, where it would cost characters of every SMS."""
        digits = _E164.fullmatch(number)
        if digits is None:  # also keeps anything but digits out of the To header
            raise ValueError(f"not a phone number in E.164: {number!r:.40}")
        address = f"{digits.group(1)}@{self.domain}"
        mail = EmailMessage(policy=SMTP)
        mail["From"] = self.from_address
        mail["To"] = address
        mail["Date"] = format_datetime(self.clock())
        mail["Message-ID"] = make_msgid("sms", self.from_address.rpartition("@")[2] or None)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: the gateway must not answer it automatically
        mail.set_content(text, charset="utf-8", cte="7bit" if text.isascii() else "quoted-printable")
        return address, mail.as_bytes()

    def send(self, number: str, text: str) -> SmsSendResult:
        try:
            address, raw = self.compose(number, text)
        except ValueError as exc:
            return SmsSendResult(ok=False, permanent=True, code=None, detail=str(exc), provider_ref=None)
        try:
            where = self.relay.send(self.from_address, (address,), raw, f"sms-{address.partition('@')[0]}")
        except SendError as exc:
            return SmsSendResult(ok=False, permanent=exc.permanent, code=exc.code, detail=str(exc),
                                 provider_ref=None, unavailable=exc.unavailable)
        return SmsSendResult(ok=True, permanent=False, code=250, detail=f"mail to {address} via {where}",
                             provider_ref=None)

    def close_if_idle(self) -> None:
        self.relay.close_if_idle()

    def close(self) -> None:
        self.relay.close()


def make_provider(settings: Settings, relay: Transport | None) -> SmsProvider | None:
    """The provider HELPDESK_SMS_PROVIDER names (None for "none"); `relay` carries email-to-SMS mail.
    The settings already refused a provider without the keys it needs."""
    if settings.sms_provider == "twilio":
        callback = f"{settings.public_url.rstrip('/')}/sms/twilio/status" if settings.public_url else None
        return TwilioProvider(settings.twilio_account_sid, settings.twilio_auth_token_value(),
                              settings.twilio_from_number, settings.twilio_api_url, callback)
    if settings.sms_provider == "email":
        if relay is None:
            raise ValueError("the email-to-SMS provider needs a transport for its mail")
        return EmailSmsProvider(relay, settings.sms_email_domain, settings.support_address)
    return None
