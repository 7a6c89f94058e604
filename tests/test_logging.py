"""The service's log: one line per message handled, JSON with stable keys on request, no bodies, no secrets."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import free_port
from tests.mail import client_mail, send
from tests.service import Service, run_helpdesk, service_env

BODY = "The invoice portal shows account 4711-SECRET-BODY-TEXT to everyone.\n"
SECRET = "test-secret-key-0123456789"  # what tests/service.py gives the service as HELPDESK_SECRET_KEY


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    # What is logged does not depend on the database: one backend keeps these service runs short.
    shutil.copyfile(sqlite_template, tmp_path / "helpdesk.db")
    return f"sqlite:///{tmp_path}/helpdesk.db"


def _quiet(tmp_path) -> dict[str, str]:
    """The acknowledgement goes to a folder of the test's own; HTTP to a free port."""
    return {"HELPDESK_OUTBOX_DIR": str(tmp_path / "outbox"), "HELPDESK_HTTP_LISTEN": f"127.0.0.1:{free_port()}"}


def _smtp_port(service: Service) -> int:
    line = next(line for line in service.lines if "ready: SMTP on" in line)
    return int(re.search(r"ready: SMTP on [\d.]+:(\d+)", line).group(1))


def _run_one_mail(env: dict[str, str], args: tuple[str, ...] = ("serve",)) -> tuple[str, str]:
    """Start the service, hand it one mail, stop it (SIGTERM processes what was stored first)."""
    service = Service(env, args=args)
    mail = client_mail(body=BODY)
    send(_smtp_port(service), mail)
    code, log = service.stop()
    assert code == 0, log
    return log, mail["Message-ID"].strip("<>")


def test_log_format_json_on_the_command_line_gives_one_object_a_line_with_the_messages_fields(sqlite_url,
                                                                                               tmp_path):
    env = service_env(sqlite_url, free_port(), None, HELPDESK_LOG_FORMAT="text", HELPDESK_PROCESSING_PROCESSES="1",
                      **_quiet(tmp_path))
    log, message_id = _run_one_mail(env, ("serve", "--log-format", "json"))
    lines = [json.loads(line) for line in log.splitlines()]  # every line is JSON: the option beats the setting
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    handled = [line for line in lines if line["logger"] == "helpdesk.disposition"]
    assert len(handled) == 1
    line = handled[0]
    assert (line["level"], line["inbound_id"], line["message_id"], line["outcome"]) == ("INFO", 1, message_id,
                                                                                        "created")
    assert isinstance(line["ticket"], int) and isinstance(line["ms"], int) and line["ms"] >= 0
    # The pipeline ran in the processing process, which says so; the listener's lines do not.
    assert line["process"] == "processing process 1"
    assert "process" not in next(line for line in lines if line["message"].startswith("ready: SMTP on"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["ts"])
    assert "SECRET-BODY-TEXT" not in log and SECRET not in log
    # Third-party INFO chatter is off by default (APScheduler says "Scheduler started" at INFO).
    assert not [line for line in lines if not line["logger"].startswith("helpdesk") and line["level"] == "INFO"]


def test_text_log_names_the_time_taken_and_third_party_lines_come_when_asked(sqlite_url, tmp_path):
    env = service_env(sqlite_url, free_port(), None, HELPDESK_LOG_THIRD_PARTY="true", HELPDESK_PROCESSING_PROCESSES="1",
                      **_quiet(tmp_path))
    log, message_id = _run_one_mail(env)
    # Written by the processing process, whose lines name it (they share the gateway's stderr).
    handled = [line for line in log.splitlines() if " helpdesk.disposition [processing process 1]: " in line]
    assert len(handled) == 1 and re.search(rf"inbound 1 <{re.escape(message_id)}> .* created ticket \d+ "
                                           r".*in \d+ ms$", handled[0]), handled
    assert re.search(r" INFO apscheduler\.\S+: ", log)
    assert "SECRET-BODY-TEXT" not in log and SECRET not in log


def test_an_unknown_log_format_is_one_line_and_starts_nothing(tmp_path):
    env = service_env(f"sqlite:///{tmp_path}/helpdesk.db", free_port(), None)
    result = run_helpdesk(["serve", "--log-format", "xml"], env, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.decode().strip() == "helpdesk: --log-format must be text or json, got 'xml'"
    assert list(tmp_path.iterdir()) == []
