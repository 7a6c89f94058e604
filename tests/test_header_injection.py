"""No header injection through admin input, and lengths checked before the database (both backends).

Names typed at the CLI or imported from CSV are refused when they hold a control character or do
not fit their column; a From display name of a mail is cleaned instead; and whatever still carries a
line break (a row from before these checks) never reaches a header of outbound mail.
"""

from __future__ import annotations

import smtplib

from sqlalchemy import select, text
from typer.testing import CliRunner

from helpdesk.cli import app
from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import (
    Contract,
    Organization,
    OrgDomain,
    Queue,
    QueueMember,
    User,
    UserEmail,
    UserRole,
)
from helpdesk.store.db import make_engine, new_session
from tests.conftest import REPO, free_port
from tests.mail import client_mail, send
from tests.service import run_helpdesk, service_env

RULES = str(REPO / "tests" / "rules" / "minimal.yaml")
ACCOUNT_TABLES = (Organization, OrgDomain, User, UserEmail, UserRole, Queue, QueueMember, Contract)
CONTRACT = ("--org", "Acme", "--start", "2026-01-01")


def helpdesk(db_url: str, *args: str):
    """The `helpdesk` app in-process (argv cannot carry NUL; an in-process call can)."""
    env = {"HELPDESK_DATABASE_URL": db_url, "HELPDESK_RULES": RULES, "HELPDESK_SECRET_KEY": "test-secret-key-01234"}
    return CliRunner().invoke(app, list(args), env=env)


def ok(db_url: str, *args: str) -> None:
    result = helpdesk(db_url, *args)
    assert result.exit_code == 0, (result.output, result.exception)


def refusal(db_url: str, *args: str) -> str:
    """The command ends in a UserError, which run_cli prints as its one line; returns that line."""
    result = helpdesk(db_url, *args)
    assert isinstance(result.exception, UserError), (result.output, result.exception)
    message = str(result.exception)
    assert message.isprintable(), message  # one line, and no control character of the input in it
    return message


def snapshot(db_url: str) -> dict:
    engine = make_engine(db_url)
    try:
        with new_session(engine) as session:
            return {t.__name__: sorted(map(tuple, session.execute(select(t.__table__)).all()), key=repr)
                    for t in ACCOUNT_TABLES}
    finally:
        engine.dispose()


def with_acme(db_url: str) -> None:
    ok(db_url, "orgs", "add", "Acme", "--domain", "acme.example")
    ok(db_url, "users", "add", "Jana", "--email", "jana@acme.example", "--org", "Acme")
    ok(db_url, "contracts", "add", "ACME-1", *CONTRACT)


BREAKING = [  # (command, words the one line must contain)
    (["users", "add", "Anna\r\nBcc: x@evil", "--email", "anna@provider.example", "--role", "technician"],
     "user name contains CR (U+000D) at character 5"),
    (["users", "add", "Anna\u2028Bcc: x@evil", "--email", "anna@provider.example"], "LINE SEPARATOR (U+2028)"),
    (["users", "add", "Anna\x85", "--email", "anna@provider.example"], "user name contains NEL (U+0085)"),
    (["users", "add", "Anna\x00", "--email", "anna@provider.example"], "user name contains NUL (U+0000)"),
    (["users", "add", "Anna\tNowak", "--email", "anna@provider.example"], "user name contains TAB (U+0009)"),
    (["users", "add", "Anna", "--email", "anna\x00@provider.example"], "email address contains NUL"),
    (["users", "add", "Anna", "--email", "anna@provider.example", "--phone", "+420601123456\n"],
     "phone number contains LF"),
    (["users", "edit", "jana@acme.example", "--name", "Jana\nBcc: x@evil"], "user name contains LF"),
    (["orgs", "add", "Evil\r\nBcc: x@evil"], "organization name contains CR"),
    (["orgs", "edit", "Acme", "--name", "Acme\x7f"], "organization name contains DEL (U+007F)"),
    (["orgs", "add", "Other", "--domain", "other.example\n"], "mail domain contains LF"),
    (["queues", "add", "ops\n"], "queue name contains LF"),
    (["queues", "add", "ops", "--title", "Ops\r\nBcc: x@evil"], "title of queue ops contains CR"),
    (["contracts", "add", "C-1\n", *CONTRACT], "contract number contains LF"),
    (["contracts", "add", "C-2", *CONTRACT, "--sla", "gold\r\nBcc: x"], "SLA profile contains CR"),
    (["contracts", "add", "C-3", *CONTRACT, "--buyer-edi-id", "4012345\x00"], "buyer EDI id contains NUL"),
    (["contracts", "add", "C-4", *CONTRACT, "--notes", "first\x00second"], "notes contains NUL"),
    (["contracts", "edit", "ACME-1", "--sla", "gold\n"], "SLA profile contains LF"),
]

DOMAIN_TOO_LONG = ("a" * 62 + ".") * 4 + "example"  # valid labels, 259 characters in all
TOO_LONG = [
    (["orgs", "add", "O" * 5000], "organization name is 5000 characters long; at most 200 fit"),
    (["orgs", "edit", "Acme", "--name", "O" * 201], "organization name is 201 characters long; at most 200"),
    (["orgs", "add", "Other", "--domain", DOMAIN_TOO_LONG], "mail domain is 259 characters long; at most 253"),
    (["users", "add", "U" * 201, "--email", "u@acme.example"], "user name is 201 characters long; at most 200"),
    (["users", "add", "U", "--email", "u" * 310 + "@acme.example"], "email address is 323 characters long; at most"),
    (["queues", "add", "q" * 65], "queue name is 65 characters long; at most 64"),
    (["queues", "add", "ops", "--title", "T" * 201], "title of queue ops is 201 characters long; at most 200"),
    (["contracts", "add", "C" * 65, *CONTRACT], "contract number is 65 characters long; at most 64"),
    (["contracts", "add", "C-5", *CONTRACT, "--sla", "s" * 65], "SLA profile is 65 characters long; at most 64"),
    (["contracts", "edit", "ACME-1", "--buyer-edi-id", "4" * 36], "buyer EDI id is 36 characters long; at most 35"),
]


def test_names_with_control_characters_are_refused_at_every_command_and_change_nothing(db_url):
    with_acme(db_url)
    before = snapshot(db_url)
    for command, words in BREAKING:
        assert words in refusal(db_url, *command), command
    assert snapshot(db_url) == before


def test_lengths_are_checked_before_the_database_so_both_backends_refuse_alike(db_url):
    with_acme(db_url)
    before = snapshot(db_url)
    for command, words in TOO_LONG:
        assert words in refusal(db_url, *command), command
    assert snapshot(db_url) == before
    # What fits is kept whole, on PostgreSQL as on SQLite.
    ok(db_url, "orgs", "add", "O" * 200, "--domain", ("a" * 62 + ".") * 3 + "b" * 56 + ".example")
    ok(db_url, "users", "add", "U" * 200, "--email", "u" * 307 + "@acme.example")
    # A queue that fits is declared in rules.yaml, not by the CLI (tests/test_queues_and_watchers.py).
    assert "not declared in" in refusal(db_url, "queues", "add", "q" * 64, "--title", "T" * 200)
    ok(db_url, "contracts", "add", "C" * 64, *CONTRACT, "--sla", "s" * 64, "--buyer-edi-id", "4" * 35)
    after = snapshot(db_url)
    assert len(after["Organization"]) == 2 and len(after["OrgDomain"]) == 2 and len(after["Contract"]) == 2


def test_a_csv_import_with_one_bad_row_imports_nothing_and_names_row_and_column(db_url, tmp_path):
    users = tmp_path / "users.csv"
    users.write_bytes(b'name,email,roles\r\nAnna Nowak,anna@provider.example,technician\r\n'
                      b'"Eve\r\nBcc: x@evil",eve@provider.example,technician\r\n'
                      b'Carl,carl@provider.example,technician\r\n' + b"U" * 201 + b",u@provider.example,client\r\n")
    result = helpdesk(db_url, "users", "import", str(users))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{users}:3: column name: contains CR (U+000D) at character 4; "
        "it must be one line of text without control characters",
        f"{users}:6: column name: is 201 characters long; at most 200 fit",
        "helpdesk: 2 of 4 rows have errors; nothing imported"]
    assert snapshot(db_url)["User"] == []


def test_the_command_line_prints_one_line_and_stores_no_technician_named_with_a_line_break(db_url):
    env = service_env(db_url, free_port(), None)
    result = run_helpdesk(["users", "add", "Anna\r\nBcc: x@evil", "--email", "anna@provider.example",
                           "--role", "technician"], env)
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        "helpdesk: user name contains CR (U+000D) at character 5; it must be one line of text without control "
        "characters"]
    assert snapshot(db_url)["User"] == []


def _answer(port: int, ticket: int, sender: str, text_: str) -> None:
    send(port, client_mail(subject=f"Re: [HD#{ticket}] Printer does not print", body=text_, sender=sender))


def test_a_stored_name_with_a_line_break_never_reaches_a_header(make_settings, start_gateway, sink, db, engine):
    """A technician row from before these checks: the answer under that name is refused by the composer
    (and the mail kept in quarantine with the reason) instead of leaving with a Bcc header."""
    with new_session(engine) as session, session.begin():
        anna = add_user(session, "Anna Nowak", ["anna@provider.example"], roles=("technician",))
        session.execute(text("UPDATE user_account SET display_name = :name WHERE id = :id"),
                        {"name": "Anna\r\nBcc: x@evil", "id": anna.id})
    gw = start_gateway(make_settings())
    send(gw.port, client_mail(sender="Jan Novak <jan@client.example>"))
    (ack,) = sink.wait_for(1)
    _answer(gw.port, 1, "Anna <anna@provider.example>", "Fixed, the paper was stuck.\n")
    first, answer = db.processed(2)
    assert first.status == "processed"
    assert answer.status == "quarantined"
    assert answer.reason.startswith("HeaderInjection: ") and "display name would carry a line break" in answer.reason
    assert len(db.outbox()) == 1  # only the acknowledgement: the answer was never composed
    assert all("Bcc" not in caught.message for caught in sink.messages)


def test_an_encoded_line_break_in_a_from_name_becomes_a_clean_name(make_settings, start_gateway, sink, db):
    gw = start_gateway(make_settings())
    raw = (b"From: =?utf-8?q?Evil=0D=0ABcc:_x@evil?= <jan@client.example>\r\nTo: support@helpdesk.test\r\n"
           b"Subject: Printer\r\nMessage-ID: <evil.1@client.example>\r\n\r\nThe printer is jammed.\r\n")
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as smtp:
        smtp.sendmail("jan@client.example", ["support@helpdesk.test"], raw)
    (ack,) = sink.wait_for(1)
    head = ack.raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))
    assert "Bcc" not in ack.message and ack.rcpt_tos == ["jan@client.example"]
    assert ack.message["To"].addresses[0].display_name == "Evil Bcc: x@evil"
    with new_session(db.engine) as session:
        assert session.execute(select(User.display_name)).scalars().all() == ["Evil Bcc: x@evil"]
