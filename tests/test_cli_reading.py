"""The CLI a newcomer reads: help in words, one-line mistakes, and problems named where they are."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
from typer.main import get_command

from helpdesk import cli
from helpdesk.app.commands.help_text import polish, walk
from helpdesk.app.logging_setup import setup_logging
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import Outbox
from tests.conftest import free_port
from tests.list_cli import in_process_cli
from tests.service import REPO, run_helpdesk, service_env

PYTHON_PLACEHOLDERS = ("<bool>", "<str>", "<int", "<path>", "list[str]", "<int range>", "x<=", "[[", "]...]")
PYTHON_ARGUMENT = re.compile(r"(?<!\$)\{[a-z_]+\}")  # typer's {name}; ${recipient} is Postfix's
NO_DB = "sqlite:////nonexistent/never-opened.db"


@pytest.fixture
def helpdesk(db_url, monkeypatch):
    return in_process_cli(db_url, monkeypatch)


@pytest.fixture
def helpdesk_no_db(monkeypatch):
    return in_process_cli(NO_DB, monkeypatch)


def command_tree():
    return list(walk(polish(get_command(cli.app))))


def test_help_of_every_command_reads_in_words(helpdesk_no_db):
    for path, _ in command_tree():
        result = helpdesk_no_db(*path, "--help")
        assert result.code == 0, (path, result.err)
        for placeholder in PYTHON_PLACEHOLDERS:
            assert placeholder not in result.out, (path, placeholder, result.out)
        assert not PYTHON_ARGUMENT.search(result.out), (path, result.out)


def test_every_option_has_help_and_flags_take_no_value(helpdesk_no_db):
    for path, command in command_tree():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, (path, param.opts)
    json_line = next(line for line in helpdesk_no_db("users", "list", "--help").out.splitlines() if "--json" in line)
    assert json_line.split("--json")[1].split()[0] == "Print"  # the help text follows the flag directly


def test_contracts_add_marks_start_required(helpdesk_no_db):
    start = next(p for p in dict(command_tree())[("contracts", "add")].params if "--start" in p.opts)
    assert start.required
    refusal = helpdesk_no_db("contracts", "add", "C-1", "--org", "Acme").one_line_error("--start")
    assert refusal.startswith("helpdesk contracts add:")


def test_version(helpdesk_no_db):
    result = helpdesk_no_db("--version")
    assert result.code == 0 and result.out.startswith("helpdesk 0.")


def test_unknown_option_suggests_only_a_close_one(helpdesk_no_db):
    far = helpdesk_no_db("orgs", "add", "X", "--frobnicate").one_line_error("--frobnicate")
    assert "--locale" not in far and "did you mean" not in far
    helpdesk_no_db("orgs", "add", "X", "--locle").one_line_error("did you mean --locale?")


def test_usage_errors_are_one_line(helpdesk_no_db):
    helpdesk_no_db("tickets", "show", "abc").one_line_error("NUMBER", "expected a whole number")
    helpdesk_no_db("tickets", "lst").one_line_error("Did you mean 'list'?")
    assert helpdesk_no_db("tickets", "show", "abc").code == 2


def test_disabling_an_unknown_user_says_so_without_asking(db_url):
    env = service_env(db_url, free_port(), None)
    result = run_helpdesk(["users", "disable", "nobody@x.example"], env, stdin=b"y\n")
    assert result.returncode == 1 and result.stdout == b"", result.stdout
    assert result.stderr.decode().strip() == "helpdesk: unknown user 'nobody@x.example'"


def _csv(tmp_path, *lines: str):
    path = tmp_path / "people.csv"
    path.write_text("\n".join(["name,email,phone,organization,roles,locale", *lines]) + "\n", encoding="utf-8")
    return str(path)


def test_import_names_the_real_problem_with_its_line(helpdesk, tmp_path):
    helpdesk("orgs", "add", "Acme", "--domain", "acme.example")
    twice = helpdesk("users", "import", _csv(tmp_path, "Jan,jan@acme.example,,,,", "Eva,JAN@acme.example,,,,"))
    assert twice.code == 1 and ":3: address jan@acme.example is also on line 2" in twice.err, twice.err
    assert "belongs to user" not in twice.err and "1 of 2 rows has errors" in twice.err
    helpdesk("users", "import", _csv(tmp_path, '"Jan,jan@acme.example,,,,', "Eva,eva@acme.example,,,,")
             ).one_line_error(":2: a quote opened on this line is never closed")
    shifted = helpdesk("users", "import", _csv(tmp_path, "Novák, Jan,jan@acme.example,,Acme,client,cs"))
    assert ":2: 7 fields where the header has 6" in shifted.err and "organization" not in shifted.err, shifted.err
    good = helpdesk("users", "import", _csv(tmp_path, "Jan,jan@acme.example,,Acme,,"), "--dry-run")
    assert good.code == 0 and good.out.strip() == "1 row valid; nothing imported (dry run)", good.out
    assert helpdesk("users", "list", "--json").out.strip() == "[]"


def test_national_phone_numbers_are_read_with_the_organizations_country(helpdesk):
    helpdesk("orgs", "add", "Polska", "--domain", "pl.example", "--locale", "pl")
    assert helpdesk("users", "add", "Jan", "-e", "jan@pl.example", "--phone", "601 234 567", "--org", "Polska"
                    ).code == 0
    assert helpdesk("users", "add", "Petr", "-e", "petr@x.example", "--phone", "601 234 568", "--country", "cz"
                    ).code == 0
    helpdesk("users", "add", "Eva", "-e", "eva@x.example", "--phone", "601 234 569").one_line_error("--country")
    helpdesk("users", "add", "Ola", "-e", "ola@x.example", "--phone", "1", "--country", "XX").one_line_error(
        "unknown country 'XX'")
    phones = [line for line in helpdesk("users", "show", "jan@pl.example").out.splitlines() if line.startswith("phone")]
    assert phones == ["phone         +48601234567"]
    assert "+420601234568" in helpdesk("users", "show", "petr@x.example").out


def test_tables_read_as_words_not_python(helpdesk):
    helpdesk("users", "add", "Marek", "-e", "marek@provider.example", "-r", "technician", "-r", "dispatcher")
    table = helpdesk("users", "list").out
    assert "dispatcher, technician" in table and "yes" in table, table
    assert "['" not in table and "True" not in table
    shown = helpdesk("users", "show", "marek@provider.example").out
    assert "True" not in shown and "False" not in shown and "has password  no" in shown


def test_a_locale_without_templates_is_refused(helpdesk):
    for locale in ("sk", "de", "hu"):
        helpdesk("orgs", "add", f"Org {locale}", "--locale", locale).one_line_error(
            f"unknown locale '{locale}'", "en, pl, cs, ru, hr")
    shipped = {p.stem.split(".")[0] for p in (REPO / "templates" / "acknowledgement").glob("*.txt.j2")}
    from helpdesk.gateway.accounts.contact_details import LOCALES
    assert set(LOCALES) == shipped


def test_bad_settings_are_one_line_naming_the_variable(helpdesk_no_db, monkeypatch):
    cases = {
        "HELPDESK_IMAP_MAILBOXES": ('[{"name": "x"}]', "HELPDESK_IMAP_MAILBOXES, mailbox 1, key host: required"),
        "HELPDESK_LOG_LEVEL": ("LOUD", "HELPDESK_LOG_LEVEL must be one of DEBUG, INFO"),
        "HELPDESK_REPLY_ADDRESS_PREFIX": ("R_", "HELPDESK_REPLY_ADDRESS_PREFIX must be"),
        "HELPDESK_INTAKE_BATCH": ("many", "HELPDESK_INTAKE_BATCH: input should be a valid integer"),
        # 0 is not "no limit": the listener would buffer whatever a client sends (and refuse DATA).
        "HELPDESK_MAX_MESSAGE_BYTES": ("0", "HELPDESK_MAX_MESSAGE_BYTES must be positive"),
    }
    for variable, (value, needle) in cases.items():
        with monkeypatch.context() as m:
            m.setenv(variable, value)
            line = helpdesk_no_db("tickets", "list").one_line_error(needle)
            assert "Value error" not in line and line.count("HELPDESK_") == 1, line
    monkeypatch.setenv("HELPDESK_IMAP_MAILBOXES", "not json")
    helpdesk_no_db("tickets", "list").one_line_error("HELPDESK_IMAP_MAILBOXES: not valid JSON")


def test_serve_with_a_bad_log_level_is_one_line(tmp_path):
    env = service_env("sqlite:///helpdesk.db", free_port(), None, HELPDESK_LOG_LEVEL="LOUD")
    result = run_helpdesk(["serve"], env, cwd=tmp_path)
    assert result.returncode == 1 and len(result.stderr.decode().strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_without_rules_creates_nothing_and_names_the_path(tmp_path):
    env = service_env("sqlite:///helpdesk.db", free_port(), None, HELPDESK_RULES="rules.yaml")
    result = run_helpdesk(["serve"], env, cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1 and f"no rules file at {tmp_path / 'rules.yaml'}" in err, err
    assert list(tmp_path.iterdir()) == []  # no helpdesk.db, no outbox/, no helpdesk.secret


def test_pipe_refuses_what_smtp_refuses(db_url, db):
    env = service_env(db_url, free_port(), None)
    mail = b"From: a@client.example\r\nTo: other@localhost\r\nSubject: hi\r\n\r\nhello\r\n"
    refused = run_helpdesk(["inbound", "pipe", "-f", "a@client.example", "-r", "other@localhost"], env, stdin=mail)
    assert refused.returncode == 67 and b"550 5.1.1" in refused.stderr, refused.stderr
    kept = run_helpdesk(["inbound", "pipe", "-f", "a@client.example", "-r", "other@localhost",
                         "support+printers@helpdesk.test"], env, stdin=mail)
    assert kept.returncode == 0, kept.stderr
    assert [m.envelope_to for m in db.inbound()] == ["support+printers@helpdesk.test"]


def test_outbox_show_tells_the_next_attempt(helpdesk, db_url):
    engine = make_engine(db_url)
    with new_session(engine) as session, session.begin():
        row = Outbox(kind="acknowledgement", mail_from="support@helpdesk.test", rcpt_to="jan@client.example",
                     message_id="<1@helpdesk.test>", raw=b"Subject: x\r\n\r\nx\r\n", attempts=1,
                     next_attempt_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
        session.add(row)
        session.flush()
        row_id = row.id
    engine.dispose()
    assert "next attempt 2030-01-02T03:04:05+00:00" in helpdesk("outbox", "show", str(row_id)).out
    helpdesk("outbox", "show", "999999").one_line_error("no outbox message 999999")


def test_scheduler_chatter_stays_out_of_the_default_log():
    setup_logging("INFO")
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler").isEnabledFor(logging.WARNING)
