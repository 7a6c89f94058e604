"""Twilio's webhooks on the HTTP listener: incoming SMS stored raw, status callbacks recorded, both signature-checked.

Twilio signs the URL it called (HELPDESK_PUBLIC_URL + path + query), not the one the app sees
behind a proxy, so the signed URL is built from the setting and never from the request's Host.
An incoming SMS is answered 200 only after its commit; 503 on a database failure, so Twilio
delivers it again, and the MessageSid keeps the second delivery from becoming a second row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Engine
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope
from twilio.request_validator import RequestValidator

from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.settings import Settings
from helpdesk.store.sms_inbound import store_sms
from helpdesk.store.sms_status import record_delivery_status

log = logging.getLogger("helpdesk.inbound")

INCOMING_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
MAX_BODY_BYTES = 64 * 1024  # an SMS form is about 1 KiB; MMS adds a few URLs
FORM_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio's last word on a message; queued, sending, sent and the like are on the way there.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})
MAX_SID_LENGTH = 64  # inbound_message.external_id, outbox.provider_ref


class WebhookRefused(Exception):
    """A request answered without storing anything: the HTTP status and the one line why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def signed_url(public_url: str, scope: Scope) -> str:
    """The URL Twilio signed: the configured public base, the path and the raw query the app received."""
    query = scope.get("query_string", b"").decode("latin-1")
    return public_url + scope["path"] + (f"?{query}" if query else "")


def parse_form(raw: bytes) -> ImmutableMultiDict:
    """The decoded fields, blank ones kept: Twilio signs every field it sent, empty or not."""
    try:
        return ImmutableMultiDict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused(400, "the form body is not URL-encoded UTF-8") from None


def required_field(fields: ImmutableMultiDict, *names: str) -> str:
    """The first of `names` present and non-empty (Twilio still sends the older SmsSid beside MessageSid)."""
    for name in names:
        if value := fields.get(name, "").strip():
            return value
    raise WebhookRefused(400, f"missing {names[0]}")


def provider_sid(fields: ImmutableMultiDict) -> str:
    sid = required_field(fields, "MessageSid", "SmsSid")
    if len(sid) > MAX_SID_LENGTH:
        raise WebhookRefused(400, f"MessageSid longer than {MAX_SID_LENGTH} characters")
    return sid


async def read_body(request: Request, limit: int) -> bytes:
    """The body as received, refused with 413 as soon as it passes `limit` (chunked bodies too)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookRefused(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise WebhookRefused(413, f"body larger than {limit} bytes")
    return bytes(body)


def twiml_ok() -> Response:
    # An empty <Response>: Twilio sends no reply SMS of its own; ours go through the outbox.
    return Response(EMPTY_TWIML, media_type="text/xml")


class TwilioWebhooks:
    """The two webhook endpoints over one engine; `on_stored` wakes the processor after a commit."""

    def __init__(self, settings: Settings, engine: Engine, registry: CollectorRegistry,
                 on_stored: Callable[[], None] | None = None):
        self.validator = RequestValidator(settings.twilio_auth_token_value())
        self.public_url = settings.public_url.rstrip("/") if settings.public_url else None
        self.engine, self.timeout_ms, self.on_stored = engine, settings.db_busy_timeout_ms, on_stored
        self.requests = Counter("helpdesk_sms_webhook_requests", "Twilio webhook requests, by endpoint and outcome",
                                ("endpoint", "outcome"), registry=registry)

    def routes(self) -> list[Route]:
        return [Route(INCOMING_PATH, self.incoming, methods=["POST"]),
                Route(STATUS_PATH, self.status_callback, methods=["POST"])]

    async def signed_form(self, request: Request) -> tuple[bytes, ImmutableMultiDict]:
        """The raw body and its fields, once the signature proves Twilio sent them."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != FORM_TYPE:
            raise WebhookRefused(415, f"expected {FORM_TYPE}")
        raw = await read_body(request, MAX_BODY_BYTES)
        fields = parse_form(raw)
        if self.public_url is None:  # secure by default: without it no signature can be checked
            raise WebhookRefused(403, "HELPDESK_PUBLIC_URL is not set, so no signature can be checked")
        url = signed_url(self.public_url, request.scope)
        if not self.validator.validate(url, fields, request.headers.get("x-twilio-signature", "")):
            raise WebhookRefused(403, f"missing or invalid X-Twilio-Signature for {url}")
        return raw, fields

    def refuse(self, endpoint: str, refused: WebhookRefused) -> Response:
        outcome = "forbidden" if refused.status == 403 else "invalid"
        self.requests.labels(endpoint, outcome).inc()
        log.warning("Twilio %s webhook refused (%d): %s", endpoint, refused.status, refused.reason)
        text = "forbidden" if refused.status == 403 else refused.reason  # no hints for a forger
        return PlainTextResponse(text + "\n", status_code=refused.status)

    def unavailable(self, endpoint: str, what: str, exc: TempFail) -> Response:
        self.requests.labels(endpoint, "error").inc()
        log.error("cannot store %s, answered 503 (Twilio retries): %s", what, exc)
        return PlainTextResponse("temporarily unavailable\n", status_code=503)

    async def incoming(self, request: Request) -> Response:
        try:
            raw, fields = await self.signed_form(request)
            sid, sender = provider_sid(fields), required_field(fields, "From")
        except WebhookRefused as refused:
            return self.refuse("incoming", refused)
        to = fields.get("To", "").strip()
        sms = RawInbound(raw, sender, (to,) if to else (), source="twilio", channel="sms")
        try:
            inbound_id = await asyncio.to_thread(store_sms, self.engine, sms, sid, self.timeout_ms)
        except TempFail as exc:
            return self.unavailable("incoming", f"SMS {sid}", exc)
        if inbound_id is None:
            self.requests.labels("incoming", "duplicate").inc()
            log.info("SMS %s delivered again, already stored", sid)
            return twiml_ok()
        self.requests.labels("incoming", "stored").inc()
        log.info("SMS %s stored as inbound message %d", sid, inbound_id)
        if self.on_stored:
            self.on_stored()
        return twiml_ok()

    async def status_callback(self, request: Request) -> Response:
        try:
            _raw, fields = await self.signed_form(request)
            sid, status = provider_sid(fields), required_field(fields, "MessageStatus", "SmsStatus").lower()
        except WebhookRefused as refused:
            return self.refuse("status", refused)
        if status not in FINAL_STATUSES:
            self.requests.labels("status", "ignored").inc()
            return twiml_ok()
        code = fields.get("ErrorCode", "").strip()
        error = f"{status}: Twilio error {code}" if code else None
        try:
            found = await asyncio.to_thread(record_delivery_status, self.engine, sid, status, error, self.timeout_ms)
        except TempFail as exc:
            return self.unavailable("status", f"the status of SMS {sid}", exc)
        if not found:  # not ours, or sent before this database: nothing to record, nothing to retry
            self.requests.labels("status", "unknown").inc()
            log.debug("status callback for unknown SMS %s (%s)", sid, status)
            return twiml_ok()
        self.requests.labels("status", "recorded").inc()
        log.info("SMS %s: %s%s", sid, status, f" (Twilio error {code})" if code else "")
        return twiml_ok()


def sms_webhook_routes(settings: Settings, registry: CollectorRegistry, engine: Engine,
                       on_stored: Callable[[], None] | None = None) -> list[Route]:
    """The webhook routes, or none (a 404 like any unknown path) without a Twilio auth token."""
    if not settings.twilio_auth_token_value():
        log.info("SMS intake off: HELPDESK_TWILIO_AUTH_TOKEN is not set")
        return []
    if not settings.public_url:
        log.warning("SMS webhooks refuse every request: HELPDESK_PUBLIC_URL is not set, and Twilio's "
                    "signature covers the public URL")
    return TwilioWebhooks(settings, engine, registry, on_stored).routes()
