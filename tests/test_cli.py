"""The admin's view: tickets and outbox commands, and one clear line for every mistake."""

from __future__ import annotations

import json
import socket

from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import REPO, run_helpdesk, service_env


def cli(env, *args, stdin=None):
    result = run_helpdesk(list(args), env, stdin=stdin)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def assert_one_line_error(result, *needles):
    code, out, err = result
    assert code != 0
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err


def test_tickets_list_show_and_close(gateway, sink, db, db_url):
    send(gateway.port, client_mail(subject="Scanner offline", message_id="<cli@client.example>"))
    sink.wait_for(1)
    env = service_env(db_url, free_port(), None)
    number = db.tickets()[0]["number"]

    code, out, _ = cli(env, "tickets", "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["number"] == number and row["status"] == "new" and row["requester"] == "jan@client.example"

    code, out, _ = cli(env, "tickets", "show", str(number), "--json")
    detail = json.loads(out)
    assert {"number", "subject", "status", "priority", "queue", "requester", "assignee", "articles"} <= set(detail)
    (article,) = detail["articles"]
    assert {"direction", "channel", "sender", "text", "created_at"} <= set(article)
    assert article["sender"] == "jan@client.example"

    code, out, _ = cli(env, "tickets", "list")
    assert code == 0 and "Scanner offline" in out
    assert cli(env, "tickets", "close", str(number))[0] == 0
    assert json.loads(cli(env, "tickets", "list", "--status", "closed", "--json")[1])[0]["number"] == number
    assert json.loads(cli(env, "tickets", "list", "--status", "new", "--json")[1]) == []
    assert_one_line_error(cli(env, "tickets", "close", str(number)), "already closed")
    assert_one_line_error(cli(env, "tickets", "show", "999999"), "no ticket 999999")
    assert_one_line_error(cli(env, "tickets", "list", "--status", "bogus"), "unknown status")


def test_outbox_list_show_and_retry(gateway, sink, db, db_url):
    sink.reject_rcpt = {"gone@client.example"}
    send(gateway.port, client_mail(sender="gone@client.example"))
    env = service_env(db_url, free_port(), None)
    wait_until(lambda: db.outbox() and db.outbox()[0]["status"] == "failed")
    code, out, _ = cli(env, "outbox", "list", "--json")
    (row,) = json.loads(out)
    assert row["status"] == "failed" and row["attempts"] == 1
    attempts = json.loads(cli(env, "outbox", "show", str(row["id"]), "--json")[1])
    assert attempts[0]["ok"] is False and attempts[0]["code"] == 550

    sink.reject_rcpt = set()
    assert cli(env, "outbox", "retry", str(row["id"]))[0] == 0
    assert sink.wait_for(1)[0].rcpt_tos == ["gone@client.example"]
    assert_one_line_error(cli(env, "outbox", "retry", "424242"), "no outbox message")
    wait_until(lambda: db.outbox()[0]["status"] == "sent")
    assert_one_line_error(cli(env, "outbox", "retry", str(row["id"])), "already sent")  # no second copy
    inbound_id = str(db.inbound()[0].id)
    assert_one_line_error(cli(env, "inbound", "retry", inbound_id), "processed, not quarantined")


def test_bad_database_url_is_one_line(tmp_path):
    env = service_env("mysql://nope", free_port(), None)
    assert_one_line_error(cli(env, "tickets", "list"), "unsupported database")
    env = service_env("not a url", free_port(), None)
    assert_one_line_error(cli(env, "db", "upgrade"), "bad database URL")


def test_unreachable_database_is_one_line():
    env = service_env("postgresql://postgres@127.0.0.1:1/x", free_port(), None)
    assert_one_line_error(cli(env, "serve"), "cannot open database")


def test_port_in_use_is_one_line(db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = service_env(db_url, taken.getsockname()[1], None)
        assert_one_line_error(cli(env, "serve"), "cannot listen on", "in use")


def test_unreadable_or_invalid_rules_file_is_one_line(db_url, tmp_path):
    env = service_env(db_url, free_port(), None, HELPDESK_RULES=str(tmp_path / "missing.yaml"))
    assert_one_line_error(cli(env, "serve"), f"no rules file at {tmp_path / 'missing.yaml'}")
    bad = tmp_path / "rules.yaml"
    bad.write_text((REPO / "rules.yaml").read_text().replace("queue: general", "queue: nowhere"))
    env["HELPDESK_RULES"] = str(bad)
    assert_one_line_error(cli(env, "serve"), "rules.yaml:", "unknown queue 'nowhere'")


def test_bad_setting_is_one_line(db_url):
    env = service_env(db_url, free_port(), None, HELPDESK_MAX_MESSAGE_BYTES="lots")
    assert_one_line_error(cli(env, "serve"), "HELPDESK_MAX_MESSAGE_BYTES")
    env = service_env(db_url, free_port(), None, HELPDESK_RELAY="mx.example")
    assert_one_line_error(cli(env, "serve"), "HELPDESK_RELAY")
    for name in ("HELPDESK_PROCESSING_PROCESSES", "HELPDESK_PROCESSOR_WORKERS"):
        env = service_env(db_url, free_port(), None, **{name: "17"})
        assert_one_line_error(cli(env, "serve"), f"{name} must be 0", "to 16, got 17")


def test_broken_template_stops_the_service_at_start(db_url, tmp_path):
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (templates / "acknowledgement" / "pl.txt.j2").write_text("{% block subject %}{{ tag }{% endblock %}")
    env = service_env(db_url, free_port(), None, HELPDESK_TEMPLATES_DIR=str(templates))
    assert_one_line_error(cli(env, "serve"), "template", "pl.txt.j2")


def test_quarantined_message_can_be_shown_and_dropped(gateway, sink, db, db_url):
    import smtplib

    with smtplib.SMTP("127.0.0.1", gateway.port) as smtp:
        smtp.sendmail("", ["support@helpdesk.test"], b"Subject: nobody wrote this\r\n\r\nbody\r\n")
    (row,) = db.processed(1)
    env = service_env(db_url, free_port(), None)
    shown = json.loads(cli(env, "inbound", "show", str(row.id), "--json")[1])
    assert shown["status"] == "quarantined" and "no usable sender" in shown["reason"]
    listed = json.loads(cli(env, "inbound", "quarantine", "list", "--json")[1])
    assert [m["id"] for m in listed] == [row.id]
    assert shown["subject"] == "nobody wrote this" and shown["source"] == "smtp"
    assert b"nobody wrote this" in run_helpdesk(["inbound", "show", str(row.id), "--raw"], env).stdout
    assert_one_line_error(cli(env, "inbound", "drop", str(row.id)), "cancelled")
    assert cli(env, "inbound", "quarantine", "drop", str(row.id), "--yes")[0] == 0
    assert db.inbound()[0].status == "dropped" and db.inbound()[0].raw  # kept, not deleted
    assert_one_line_error(cli(env, "inbound", "retry", str(row.id)), "dropped, not quarantined")


def test_inbound_show_tells_what_happened_to_a_message(gateway, sink, db, db_url):
    send(gateway.port, client_mail(subject="VPN down", body="It fails.\n\n> old quoted text\n"))
    sink.wait_for(1)
    (row,) = db.processed(1)
    env = service_env(db_url, free_port(), None)
    code, out, _ = cli(env, "inbound", "show", str(row.id))
    assert code == 0 and "processing log:" in out
    for needle in ("parsed: from jan@client.example", "new (quoted history removed)", "classified: a person's mail",
                   "thread: names no ticket of ours", "route: queue general, priority normal",
                   "mail: acknowledgement to jan@client.example queued as outbox", "result: created, ticket 1"):
        assert needle in out, out
