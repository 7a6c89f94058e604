"""The HTTP listener of `helpdesk serve` over real sockets: /healthz, /readyz, /metrics, a port in use."""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env


def get(gw, path: str) -> tuple[int, bytes, str]:
    url = f"http://{gw.settings.http_listen}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def readiness(gw) -> tuple[int, dict]:
    status, body, _ = get(gw, "/readyz")
    return status, json.loads(body)


def scrape(gw) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    status, body, content_type = get(gw, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def test_healthz_and_readyz_answer_json(make_settings, start_gateway):
    gw = start_gateway(make_settings())
    status, body, content_type = get(gw, "/healthz")
    assert (status, json.loads(body), content_type) == (200, {"status": "ok"}, "application/json")
    status, report = readiness(gw)
    assert status == 200 and report["ready"] is True and report["reasons"] == []
    checks = report["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "smtp_listener": True, "http_listener": True, "database": True, "processor": True, "outbox": True,
        "failed_outbox": True}
    assert checks["processor"]["pending"] == 0 and checks["outbox"]["oldest_due_seconds"] is None
    assert checks["failed_outbox"] == {"ok": True, "total": 0, "since_last_check": None}
    assert readiness(gw)[1]["checks"]["failed_outbox"]["since_last_check"] == 0


def _send_raw(port: int, raw: bytes, envelope_from: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(envelope_from, ["support@helpdesk.test"], raw)


def test_metrics_count_a_known_sequence_of_mail(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings())
    first = client_mail(sender="c0@client.example", message_id="<first@client.example>")
    for i, msg in enumerate([first, client_mail(sender="c1@client.example"), client_mail(sender="c2@client.example")]):
        send(gw.port, msg)
        db.processed(i + 1)
    send(gw.port, client_mail(subject="[HD#1] Re: Printer does not print", sender="c0@client.example"))
    send(gw.port, first)  # the same Message-ID again: a duplicate
    send(gw.port, client_mail(sender="robot@client.example", Auto_Submitted="auto-replied"))  # answer suppressed
    _send_raw(gw.port, b"Subject: nobody wrote this\r\n\r\nno From, null sender\r\n", "<>")  # quarantined
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(gw.port, client_mail(to="nobody@helpdesk.test"), rcpt=["nobody@helpdesk.test"])
    db.processed(7)
    sink.wait_for(3)  # the three acknowledgements; nothing else is answered
    wait_until(lambda: all(row["status"] == "sent" for row in db.outbox()))
    metrics = wait_until(lambda: (m := scrape(gw)).get(("helpdesk_scheduler_job_runs_total", (("job", "auto-close"),)))
                         and m)

    def value(name: str, **labels) -> float:
        return metrics.get((name, tuple(sorted(labels.items()))), 0.0)

    assert {outcome: value("helpdesk_messages_received_total", channel="email", outcome=outcome)
            for outcome in ("new_ticket", "appended", "duplicate", "suppressed", "bounce", "quarantined")} == {
        "new_ticket": 3, "appended": 1, "duplicate": 1, "suppressed": 1, "bounce": 0, "quarantined": 1}
    assert value("helpdesk_processing_seconds_count") == 7 and value("helpdesk_processing_seconds_sum") > 0
    # Eight sessions: seven mails stored, one refused at RCPT (smtplib then resets and quits).
    assert {code: value("helpdesk_smtp_replies_total", code=code) for code in ("220", "354", "550", "221")} == {
        "220": 8, "354": 7, "550": 1, "221": 8}
    assert value("helpdesk_smtp_replies_total", code="250") == 7 * 4 + 3  # EHLO, MAIL, RCPT, DATA; EHLO, MAIL, RSET
    assert value("helpdesk_send_attempts_total", result="sent") == 3
    assert value("helpdesk_send_attempts_total", result="temporary") == 0
    assert value("helpdesk_scheduler_job_runs_total", job="auto-close") == 1
    assert value("helpdesk_scheduler_job_failures_total", job="auto-close") == 0
    assert value("helpdesk_database_up") == 1
    assert value("helpdesk_open_tickets", queue="general", status="new") == 4
    assert value("helpdesk_outbox_messages", status="queued") == 0
    assert value("helpdesk_outbox_oldest_age_seconds", status="queued") == 0
    assert value("helpdesk_inbound_pending_messages") == 0


def test_each_gateway_counts_its_own_mail(make_settings, start_gateway, db):
    one, other = start_gateway(make_settings()), start_gateway(make_settings())
    send(one.port, client_mail(sender="c0@client.example"))
    db.processed(1)
    counted = ("helpdesk_messages_received_total", (("channel", "email"), ("outcome", "new_ticket")))
    # Whichever instance processed it (on PostgreSQL the other may claim it first) counted it, the
    # other did not: a registry per gateway, not one shared by the process.
    counts = [scrape(gw).get(counted, 0) for gw in (one, other)]
    assert sorted(counts) == [0, 1]


def _make_unreachable(db_url: str, pg_template) -> tuple:
    """SQLite: the file moves away (a new connection finds nothing there); PostgreSQL: the database
    refuses new connections (ALLOW_CONNECTIONS false), as when it is down for maintenance."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        moved = path.with_name("moved.db")
        return lambda: path.rename(moved), lambda: moved.rename(path)
    admin, _template = pg_template

    def allow(value: str):
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS {value}'))
    return lambda: allow("false"), lambda: allow("true")


def test_readiness_turns_false_while_the_database_is_unreachable_and_true_again(make_settings, start_gateway,
                                                                               db_url, request):
    gw = start_gateway(make_settings())
    pg_template = None if db_url.startswith("sqlite") else request.getfixturevalue("pg_template")
    cut, restore = _make_unreachable(db_url, pg_template)
    assert readiness(gw)[0] == 200
    cut()
    try:
        status, report = readiness(gw)
        assert status == 503 and report["ready"] is False and report["checks"]["database"]["ok"] is False
        assert len(report["reasons"]) == 1 and report["reasons"][0].startswith("database unreachable: ")
        assert scrape(gw)[("helpdesk_database_up", ())] == 0  # the scrape itself still answers
    finally:
        restore()
    status, report = readiness(gw)
    assert status == 200 and report["ready"] is True  # at once: every check opens a fresh connection


def test_http_port_in_use_is_one_line(db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        http_port = taken.getsockname()[1]
        env = service_env(db_url, free_port(), None, HELPDESK_HTTP_LISTEN=f"127.0.0.1:{http_port}")
        result = run_helpdesk(["serve"], env)
    err = result.stderr.decode()
    assert result.returncode != 0 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"helpdesk: cannot listen on HTTP 127.0.0.1:{http_port}: Address already in use"]
