"""Data safety: an online backup taken while mail arrives restores whole; restore refuses what
would lose data; retention purges only the raw copies of messages of tickets closed long enough."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text, update

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.db import make_engine
from helpdesk.store.migrate import alembic_config
from helpdesk.store.models import Article, Attachment, Blob, InboundMessage, Outbox, Ticket
from helpdesk.store.retention import purge_raw, retention_cutoff
from tests.conftest import BACKENDS, free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
# Columns of an outbox row that the dispatcher changes after the row is written.
OUTBOX_STATE = ("status", "attempts", "next_attempt_at", "claimed_until", "claimed_by", "last_error", "sent_at")


def cli(env, *args):
    result = run_helpdesk(list(args), env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def one_line_error(result, *needles) -> str:
    code, _, err = result
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def mail_with_attachment(n: int) -> EmailMessage:
    msg = client_mail(subject=f"Burst {n}", body=f"Message {n} of the burst.\n")
    if n % 3 == 0:  # every third one carries its own attachment: blobs must come back too
        msg.add_attachment(f"log line {n}\n".encode() * 50, maintype="application", subtype="octet-stream",
                           filename=f"log-{n}.txt")
    return msg


def rows(engine, table) -> dict:
    key = list(table.__table__.primary_key.columns)[0].name
    with engine.connect() as conn:
        return {r[key]: dict(r) for r in conn.execute(select(table.__table__)).mappings()}


class Burst:
    """Mail sent over SMTP from a thread until stopped; remembers when each 250 came."""

    def __init__(self, port: int):
        self.port, self.stop, self.acked = port, threading.Event(), []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set() and n < 500:
            msg = mail_with_attachment(n)
            send(self.port, msg)
            self.acked.append((time.monotonic(), msg["Message-ID"]))
            n += 1

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(30)


@SQLITE_ONLY
def test_a_backup_during_a_burst_of_mail_restores_what_it_saw(make_settings, start_gateway, db_url, tmp_path):
    gw = start_gateway(make_settings())
    env = service_env(db_url, free_port(), None)
    burst = Burst(gw.port)
    wait_until(lambda: len(burst.acked) >= 15)
    started = time.monotonic()
    acked_before = [mid for _, mid in list(burst.acked)]
    code, out, err = cli(env, "backup", "create", str(tmp_path / "backup.db"))
    assert code == 0, err
    assert "backup written" in out and "secret key" in out
    after = len(burst.acked)
    wait_until(lambda: len(burst.acked) >= after + 5)  # the burst went on after the backup
    one_line_error(cli(env, "backup", "restore", str(tmp_path / "backup.db"), "--yes"), "a gateway is running")
    burst.finish()
    assert burst.acked[0][0] < started < burst.acked[-1][0]
    gw.stop()

    restored_env = service_env(f"sqlite:///{tmp_path}/restored.db", free_port(), None)
    code, out, err = cli(restored_env, "backup", "restore", str(tmp_path / "backup.db"))
    assert code == 0, err
    source, restored = make_engine(db_url), make_engine(f"sqlite:///{tmp_path}/restored.db")
    try:
        _assert_restored_is_the_source_at_backup_time(source, restored, acked_before, len(burst.acked))
    finally:
        source.dispose()
        restored.dispose()


def _assert_restored_is_the_source_at_backup_time(source, restored, acked_before, acked_total) -> None:
    for table in (Ticket, Article, Attachment, Blob):  # written once, never changed in this burst
        got, had = rows(restored, table), rows(source, table)
        assert got and all(had[key] == row for key, row in got.items()), table.__name__
    got_outbox, had_outbox = rows(restored, Outbox), rows(source, Outbox)
    assert got_outbox
    for key, row in got_outbox.items():
        written = {k: v for k, v in row.items() if k not in OUTBOX_STATE}
        assert written == {k: v for k, v in had_outbox[key].items() if k not in OUTBOX_STATE}
    assert len(rows(restored, Blob)) >= 5
    inbound = rows(restored, InboundMessage)
    assert len(inbound) < acked_total  # a snapshot, not the end state
    article_ids = {a["message_id"] for a in rows(restored, Article).values()}
    pending = {r["raw"] for r in inbound.values() if r["status"] == "pending"}
    for message_id in acked_before:  # every 250 before the backup started: a ticket, or still to do
        assert message_id.strip("<>") in {m.strip("<>") for m in article_ids} or \
            any(message_id.encode() in raw for raw in pending), message_id
    with restored.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM instance").scalar() == 0


# The newest revision the code knows: the restore upgrades an older backup to it.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@SQLITE_ONLY
def test_restore_refuses_to_overwrite_data_without_yes(gateway, db, db_url, tmp_path):
    send(gateway.port, client_mail(subject="Kept"))
    db.processed(1)
    env = service_env(db_url, free_port(), None)
    assert cli(env, "backup", "create", str(tmp_path / "one-ticket.db"))[0] == 0
    send(gateway.port, client_mail(subject="Written after the backup"))
    db.processed(2)
    gateway.stop()
    one_line_error(cli(env, "backup", "restore", str(tmp_path / "one-ticket.db")), "is not empty", "--yes")
    assert db.ticket_count() == 2
    code, out, err = cli(env, "backup", "restore", str(tmp_path / "one-ticket.db"), "--yes")
    assert code == 0, err
    assert [t["subject"] for t in db.tickets()] == ["Kept"]


@SQLITE_ONLY
def test_restore_refuses_what_is_not_a_helpdesk_backup_and_upgrades_an_older_one(db_url, tmp_path):
    env = service_env(db_url, free_port(), None)
    target = db_url.removeprefix("sqlite:///")
    (tmp_path / "notes.txt").write_text("not a database\n")
    plain = sqlite3.connect(tmp_path / "other.db")
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    newer = tmp_path / "newer.db"
    _database_at(newer, "0012")
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = open(target, "rb").read()
    one_line_error(cli(env, "backup", "restore", str(tmp_path / "notes.txt")), "not a helpdesk database")
    one_line_error(cli(env, "backup", "restore", str(tmp_path / "other.db")), "not a helpdesk database")
    one_line_error(cli(env, "backup", "restore", str(newer)), "9999", "does not know")
    one_line_error(cli(env, "backup", "verify", str(newer)), "does not know")
    one_line_error(cli(env, "backup", "restore", str(tmp_path / "missing.db")), "no database file")
    assert open(target, "rb").read() == before

    older = tmp_path / "older.db"
    _database_at(older, "0011")
    assert "older schema" in cli(env, "backup", "verify", str(older))[1]
    code, out, err = cli(env, "backup", "restore", str(older))
    assert code == 0, err
    assert f"schema upgraded from 0011 to {HEAD}" in out
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT raw_purged_at FROM inbound_message").fetchall() == [(None,)]


def _database_at(path, revision: str) -> None:
    """A helpdesk database migrated up to `revision`, holding one stored message."""
    from alembic import command

    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.execute(text("INSERT INTO inbound_message (received_at, channel, source, envelope_to, raw, status, "
                          "attempts) VALUES (CURRENT_TIMESTAMP, 'email', 'smtp', '', x'00', 'pending', 0)"))
    engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not tested here")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_backup_on_postgresql_gives_the_pg_dump_advice(db_url, tmp_path):
    env = service_env(db_url, free_port(), None)
    name = db_url.rsplit("/", 1)[1]
    for args in (("create", str(tmp_path / "b.db")), ("restore", str(tmp_path / "b.db"))):
        one_line_error(cli(env, "backup", *args), f"pg_dump -Fc -f helpdesk.dump {name}", "pg_restore")
    assert not list(tmp_path.iterdir())


# --- Retention ---------------------------------------------------------------------------------

def _tickets_with_history(gw, db, env) -> dict:
    """Ticket `closed` (two messages, one with an attachment), `open`, and a quarantined message
    that names the closed ticket; `closed` is closed now (real clock) by the CLI."""
    send(gw.port, client_mail(subject="Old printer"))
    send(gw.port, client_mail(subject="Still broken"))
    db.processed(2)
    numbers = {t["subject"]: t["number"] for t in db.tickets()}
    follow_up = client_mail(subject=f"[HD#{numbers['Old printer']}] photo", body="Here is a photo.\n")
    follow_up.add_attachment(b"\x89PNG-photo" * 100, maintype="image", subtype="png", filename="jam.png")
    send(gw.port, follow_up)
    nobody = EmailMessage()
    nobody["To"], nobody["Subject"], nobody["Message-ID"] = "support@helpdesk.test", "no sender", "<q@client.example>"
    nobody.set_content("who am I")
    send(gw.port, nobody, envelope_from="")
    inbound = db.processed(4)
    quarantined = next(r.id for r in inbound if r.status == "quarantined")
    with db.engine.begin() as conn:  # defensive rule: a quarantined message is never purged, ticket or not
        conn.execute(update(InboundMessage.__table__).where(InboundMessage.__table__.c.id == quarantined)
                     .values(ticket_id=numbers["Old printer"]))
    assert cli(env, "tickets", "close", str(numbers["Old printer"]))[0] == 0
    closed_ids = sorted(r.id for r in inbound if r.ticket_id == numbers["Old printer"] and r.status == "processed")
    assert len(closed_ids) == 2
    return {"closed": numbers["Old printer"], "open": numbers["Still broken"], "closed_ids": closed_ids,
            "quarantined": quarantined}


def _raw_state(db) -> dict[int, tuple]:
    return {r.id: (r.raw, r.raw_purged_at) for r in db.inbound()}


def test_retention_job_purges_raw_copies_of_tickets_closed_long_enough(make_settings, start_gateway, db, db_url):
    gw = start_gateway(make_settings())
    env = service_env(db_url, free_port(), None)
    t = _tickets_with_history(gw, db, env)
    gw.stop()
    detail_before = db.ticket(t["closed"])
    before = _raw_state(db)
    later = utcnow() + timedelta(days=29)  # closed 29 days ago: kept
    assert purge_raw(db.engine, retention_cutoff(later, 30), later).messages == 0
    assert _raw_state(db) == before

    # A gateway whose clock is 31 days on: its daily job runs at start and purges.
    start_gateway(make_settings(raw_retention_days=30), clock=lambda: utcnow() + timedelta(days=31))
    wait_until(lambda: all(_raw_state(db)[i][1] for i in t["closed_ids"]))
    after = _raw_state(db)
    assert {i for i, (raw, purged) in after.items() if purged} == set(t["closed_ids"])
    assert all(after[i][0] == b"" for i in t["closed_ids"])
    assert {i: v for i, v in after.items() if i not in t["closed_ids"]} == \
        {i: v for i, v in before.items() if i not in t["closed_ids"]}
    detail_after = db.ticket(t["closed"])  # the conversation and its attachment stay readable
    assert detail_after["articles"] == detail_before["articles"]
    assert detail_after["articles"][1]["attachments"] == 1
    with db.engine.connect() as conn:
        assert conn.execute(select(Blob.__table__.c.size)).scalars().all() == [1000]


def test_purge_command_dry_run_changes_nothing_and_purge_takes_exactly_the_closed(gateway, db, db_url):
    env = service_env(db_url, free_port(), None)
    t = _tickets_with_history(gateway, db, env)
    before = _raw_state(db)
    code, out, err = cli(env, "inbound", "purge", "--older-than-days", "0", "--dry-run")
    assert code == 0, err
    listed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("│ ") and "id" not in line]
    assert listed == t["closed_ids"] and "would purge the raw copies of 2 messages" in out
    assert _raw_state(db) == before
    assert "nothing to purge" in cli(env, "inbound", "purge", "--older-than-days", "1", "--yes")[1]
    one_line_error(cli(env, "inbound", "purge", "--older-than-days", "-3"), "whole number")
    one_line_error(cli(env, "inbound", "purge"), "--older-than-days")
    one_line_error(cli(env, "inbound", "purge", "--older-than-days", "0"), "cancelled")  # no terminal: no
    assert _raw_state(db) == before

    code, out, err = cli(env, "inbound", "purge", "--older-than-days", "0", "--yes")
    assert code == 0 and "purged the raw copies of 2 messages" in out, err
    after = _raw_state(db)
    assert [i for i, (raw, purged) in after.items() if purged and raw == b""] == t["closed_ids"]
    assert {i: v for i, v in after.items() if i not in t["closed_ids"]} == \
        {i: v for i, v in before.items() if i not in t["closed_ids"]}
    assert "nothing to purge" in cli(env, "inbound", "purge", "--older-than-days", "0", "--yes")[1]
