"""A local fake of Twilio's Messages resource (2010-04-01): a real HTTP server on loopback that checks
Basic auth, records every request, assigns SM sids and answers in Twilio's JSON shapes (from
shared/recipes/fake_twilio.py).

Failure injection: `fail_next(status, code, message, times=N)` answers the next N message creations
with that error (429 Too Many Requests, 503, or a permanent one such as 21211). Also signs and posts
inbound-SMS webhooks (`post_inbound_sms`) as Twilio does, for the webhook tests.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test_auth_token"
FROM_NUMBER = "+15017122661"
_MESSAGES = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Messages(?:/(SM\w+))?\.json")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def twilio_error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class FakeTwilio:
    """`requests`: every request (method, path, headers, form as a dict of first values);
    `sent`: the form of each message it accepted, in order."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, host: str = "127.0.0.1"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[dict] = []
        self.sent: list[dict] = []
        self.messages: dict[str, dict] = {}
        self._failures: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def fail_next(self, status: int, code: int, message: str = "Injected failure", times: int = 1) -> None:
        with self._lock:
            self._failures += [(status, code, message)] * times

    def posted_to(self) -> list[str]:
        return [form["To"] for form in self.sent]

    def __enter__(self) -> "FakeTwilio":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def create(self, form: dict) -> tuple[int, dict]:
        """What Twilio answers to POST .../Messages.json with this form."""
        with self._lock:
            if self._failures:
                status, code, text = self._failures.pop(0)
                return status, twilio_error(status, code, text)
        to, body = form.get("To", ""), form.get("Body", "")
        if not _E164.fullmatch(to):
            return 400, twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not body:
            return 400, twilio_error(400, 21602, "Message body is required.")
        sid = _sid("SM")
        message = {"account_sid": self.account_sid, "api_version": "2010-04-01", "body": body, "sid": sid,
                   "direction": "outbound-api", "error_code": None, "error_message": None, "to": to,
                   "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
                   "status": "queued" if form.get("From") else "accepted", "num_segments": "1",
                   "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}
        with self._lock:
            self.messages[sid] = message
            self.sent.append(form)
        return 201, message

    def post_inbound_sms(self, webhook_url: str, from_: str, to: str, body: str,
                         signed_url: str | None = None, extra: dict | None = None) -> tuple[int, str]:
        """POST a Twilio-style incoming-SMS form to `webhook_url`, signed for `signed_url` (default
        the same: pass the PUBLIC url when the app sits behind a proxy)."""
        sid = _sid("SM")
        params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01", **(extra or {})}
        signature = RequestValidator(self.auth_token).compute_signature(signed_url or webhook_url, params)
        request = urllib.request.Request(
            webhook_url, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                     "User-Agent": "TwilioProxy/1.1"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (fake.account_sid, fake.auth_token)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode(),
                                                              keep_blank_values=True).items()}
            fake.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "form": form})
            if not self._authorized():
                return self._answer(401, twilio_error(401, 20003, "Authenticate"))
            match = _MESSAGES.fullmatch(urllib.parse.urlsplit(self.path).path)
            if not match or match.group(1) != fake.account_sid or match.group(2):
                return self._answer(404, twilio_error(404, 20404, "The requested resource was not found"))
            self._answer(*fake.create(form))

    return Handler
