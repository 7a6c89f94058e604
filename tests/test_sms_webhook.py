"""Twilio's webhooks against the running service: signed POSTs over real sockets, rows in the real database."""

from __future__ import annotations

import urllib.error
import urllib.request
from contextlib import contextmanager
from urllib.parse import urlencode

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text, update
from twilio.request_validator import RequestValidator

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.models import Outbox
from helpdesk.store.outbox import enqueue_sms

TOKEN = "test-twilio-auth-token"
PUBLIC = "https://helpdesk.example.com"
FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SID = "SM" + "1" * 32


def sms_fields(sid: str = SID, body: str = "Grüße 👋 the printer on floor 2 is jammed, HD#42 & more") -> dict:
    """The fields of Twilio's incoming-message webhook, the empty ones included (they are signed too)."""
    return {"ToCountry": "CZ", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "", "FromZip": "",
            "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "", "Body": body,
            "FromCountry": "CZ", "To": "+420700000001", "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32, "From": "+420601234567", "ApiVersion": "2010-04-01"}


def status_fields(sid: str, status: str, **extra: str) -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": "AC" + "0" * 32, "To": "+420601234567", "From": "+420700000001",
            "ApiVersion": "2010-04-01", **extra}


def post(gw, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://{gw.settings.http_listen}{path}", data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def post_signed(gw, path: str, fields: dict, signed_for: str | None = None, token: str = TOKEN,
                **headers: str) -> tuple[int, bytes, str]:
    """POST the form as Twilio does, signed for `signed_for` (default: the public URL of `path`)."""
    signature = RequestValidator(token).compute_signature(signed_for or PUBLIC + path, fields)
    return post(gw, path, urlencode(fields).encode(),
                {"Content-Type": FORM, "X-Twilio-Signature": signature, **headers})


def webhook_counts(gw) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(f"http://{gw.settings.http_listen}/metrics", timeout=10) as response:
        families = text_string_to_metric_families(response.read().decode())
        return {(s.labels["endpoint"], s.labels["outcome"]): s.value for family in families
                for s in family.samples if s.name == "helpdesk_sms_webhook_requests_total"}


def twilio_gateway(make_settings, start_gateway, **overrides):
    return start_gateway(make_settings(**{"twilio_auth_token": TOKEN, "public_url": PUBLIC, **overrides}))


def test_a_signed_sms_is_stored_raw_and_once_per_message_sid(make_settings, start_gateway, db):
    gw = twilio_gateway(make_settings, start_gateway)
    fields = sms_fields()
    assert post_signed(gw, "/sms/twilio", fields) == (200, EMPTY_TWIML, "text/xml; charset=utf-8")
    [row] = db.inbound()
    assert (row.channel, row.source, row.envelope_from, row.envelope_to, row.external_id) == (
        "sms", "twilio", "+420601234567", "+420700000001", SID)
    assert row.raw == urlencode(fields).encode()  # the form body byte for byte, as received

    # Twilio delivers again when our answer was lost: 200 again, still one row.
    assert post_signed(gw, "/sms/twilio", fields)[:2] == (200, EMPTY_TWIML)
    assert [r.id for r in db.inbound()] == [row.id]
    assert webhook_counts(gw) == {("incoming", "stored"): 1, ("incoming", "duplicate"): 1}


def test_a_missing_or_forged_signature_is_refused_and_nothing_stored(make_settings, start_gateway, db):
    gw = twilio_gateway(make_settings, start_gateway)
    fields, body = sms_fields(), urlencode(sms_fields()).encode()
    assert post(gw, "/sms/twilio", body, {"Content-Type": FORM}) == (403, b"forbidden\n", "text/plain; charset=utf-8")
    assert post_signed(gw, "/sms/twilio", fields, token="another-account-token")[0] == 403
    assert post_signed(gw, "/sms/twilio", fields, signed_for=PUBLIC + "/sms/twilio/status")[0] == 403
    assert post_signed(gw, "/sms/twilio", fields, signed_for="https://elsewhere.example/sms/twilio")[0] == 403
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/twilio", fields)
    tampered = urlencode({**fields, "Body": "send me the admin password"}).encode()
    assert post(gw, "/sms/twilio", tampered, {"Content-Type": FORM, "X-Twilio-Signature": signature})[0] == 403
    assert db.inbound() == []
    assert webhook_counts(gw) == {("incoming", "forbidden"): 5}


def test_behind_a_proxy_the_public_url_decides_never_the_host(make_settings, start_gateway, db):
    # Twilio calls https://helpdesk.example.com; the proxy hands the request to http://127.0.0.1:<port>.
    gw = twilio_gateway(make_settings, start_gateway, public_url=PUBLIC + "/")
    local = f"http://{gw.settings.http_listen}/sms/twilio"
    assert post_signed(gw, "/sms/twilio", sms_fields("SM" + "a" * 32), signed_for=local)[0] == 403
    assert post_signed(gw, "/sms/twilio", sms_fields("SM" + "b" * 32))[0] == 200
    # A Host header names no URL that counts, whatever the client claims.
    assert post_signed(gw, "/sms/twilio", sms_fields("SM" + "c" * 32), signed_for="http://attacker.example/sms/twilio",
                       Host="attacker.example")[0] == 403
    assert post_signed(gw, "/sms/twilio", sms_fields("SM" + "d" * 32), Host="attacker.example")[0] == 200
    # The query string Twilio called with is part of what it signed.
    assert post_signed(gw, "/sms/twilio?tenant=acme", sms_fields("SM" + "e" * 32),
                       signed_for=PUBLIC + "/sms/twilio")[0] == 403
    assert post_signed(gw, "/sms/twilio?tenant=acme", sms_fields("SM" + "f" * 32))[0] == 200
    assert [r.external_id for r in db.inbound()] == ["SM" + c * 32 for c in "bdf"]


def test_without_a_public_url_every_webhook_is_refused(make_settings, start_gateway, db):
    gw = twilio_gateway(make_settings, start_gateway, public_url=None)
    local = f"http://{gw.settings.http_listen}"
    assert post_signed(gw, "/sms/twilio", sms_fields(), signed_for=local + "/sms/twilio")[0] == 403
    assert post_signed(gw, "/sms/twilio/status", status_fields(SID, "delivered"),
                       signed_for=local + "/sms/twilio/status")[0] == 403
    assert db.inbound() == []


def test_without_an_auth_token_there_are_no_webhooks(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(public_url=PUBLIC))
    assert post_signed(gw, "/sms/twilio", sms_fields())[0] == 404
    assert post_signed(gw, "/sms/twilio/status", status_fields(SID, "delivered"))[0] == 404
    assert db.inbound() == []


def test_requests_that_are_no_twilio_form_are_refused_before_anything_is_stored(make_settings, start_gateway, db):
    gw = twilio_gateway(make_settings, start_gateway)
    assert post(gw, "/sms/twilio", b'{"MessageSid": "SM1"}', {"Content-Type": "application/json"})[:2] == (
        415, b"expected application/x-www-form-urlencoded\n")
    assert post_signed(gw, "/sms/twilio", sms_fields(body="x" * 70_000))[:2] == (
        413, b"body larger than 65536 bytes\n")
    without_sid = {k: v for k, v in sms_fields().items() if k not in ("MessageSid", "SmsSid", "SmsMessageSid")}
    assert post_signed(gw, "/sms/twilio", without_sid)[:2] == (400, b"missing MessageSid\n")
    without_sender = {k: v for k, v in sms_fields().items() if k != "From"}
    assert post_signed(gw, "/sms/twilio", without_sender)[:2] == (400, b"missing From\n")
    assert post_signed(gw, "/sms/twilio", sms_fields(sid="SM" + "9" * 70))[0] == 400
    assert db.inbound() == []


@contextmanager
def write_lock(engine):
    """Hold the inbound table's write lock: SQLite's BEGIN IMMEDIATE (store/db.py), PostgreSQL's LOCK TABLE."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE inbound_message IN EXCLUSIVE MODE"))
        yield


def test_a_database_failure_answers_503_and_the_retry_is_stored(make_settings, start_gateway, db, engine):
    gw = twilio_gateway(make_settings, start_gateway, db_busy_timeout_ms=300)
    with write_lock(engine):
        status, body, _ = post_signed(gw, "/sms/twilio", sms_fields())
    assert (status, body) == (503, b"temporarily unavailable\n")
    assert db.inbound() == []
    assert post_signed(gw, "/sms/twilio", sms_fields())[0] == 200  # Twilio's retry
    assert [r.external_id for r in db.inbound()] == [SID]
    assert webhook_counts(gw) == {("incoming", "error"): 1, ("incoming", "stored"): 1}


def _sent_sms(engine, provider_ref: str) -> int:
    """An SMS outbox row as the dispatcher leaves it after Twilio took it."""
    with engine.begin() as conn:
        row_id = enqueue_sms(conn, "sms_reply", None, "+420601234567", "Your ticket HD#1 is solved.",
                             f"{provider_ref}@helpdesk.test", utcnow())
        conn.execute(update(Outbox.__table__).where(Outbox.__table__.c.id == row_id).values(provider_ref=provider_ref))
    return row_id


def _delivery(engine, row_id: int) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(Outbox.delivery_status, Outbox.last_error).where(Outbox.id == row_id)).one())


def test_the_status_callback_records_the_final_delivery_status(make_settings, start_gateway, engine):
    gw = twilio_gateway(make_settings, start_gateway)
    delivered, undelivered = _sent_sms(engine, "SM" + "d" * 32), _sent_sms(engine, "SM" + "u" * 32)
    path = "/sms/twilio/status"
    assert post_signed(gw, path, status_fields("SM" + "d" * 32, "sent"))[:2] == (200, EMPTY_TWIML)
    assert _delivery(engine, delivered) == (None, None)  # on its way: not the final word
    assert post_signed(gw, path, status_fields("SM" + "d" * 32, "delivered"))[0] == 200
    assert post_signed(gw, path, status_fields("SM" + "u" * 32, "undelivered", ErrorCode="30003"))[0] == 200
    assert _delivery(engine, delivered) == ("delivered", None)
    assert _delivery(engine, undelivered) == ("undelivered", "undelivered: Twilio error 30003")
    assert post_signed(gw, path, status_fields("SM" + "0" * 32, "failed"))[0] == 200  # not ours: nothing to do
    assert post_signed(gw, path, status_fields("SM" + "d" * 32, "failed"), token="forged")[0] == 403
    assert _delivery(engine, delivered) == ("delivered", None)
    assert webhook_counts(gw) == {("status", "ignored"): 1, ("status", "recorded"): 2, ("status", "unknown"): 1,
                                  ("status", "forbidden"): 1}
