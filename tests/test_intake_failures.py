"""When the database cannot take a message, the sender gets 451 4.3.0 and retries; nothing is half-stored."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text

from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.inbound.intake import InboundWriter
from helpdesk.inbound.smtp import IntakeHandler, start_listener
from helpdesk.store import inbound_messages
from helpdesk.store.db import make_engine
from helpdesk.store.inbound_messages import HeldSqliteCommitter, RawMessageCommitter
from helpdesk.store.models import InboundMessage
from tests.mail import client_mail, send


class HeldLock:
    """Another client holding the write lock on the inbound table longer than the gateway waits."""

    def __init__(self, db_url: str):
        self.db_url = db_url

    def __enter__(self):
        if self.db_url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.engine = make_engine(self.db_url)
            self.conn = self.engine.connect()
            self.conn.begin()
            self.conn.execute(text("LOCK TABLE inbound_message IN ACCESS EXCLUSIVE MODE"))
        return self

    def __exit__(self, *exc):
        if self.db_url.startswith("sqlite"):
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            self.conn.rollback()
            self.conn.close()
            self.engine.dispose()


def test_locked_database_answers_451_then_accepts_the_retry(make_settings, start_gateway, sink, db, db_url):
    gw = start_gateway(make_settings(db_busy_timeout_ms=300))
    mail = client_mail(message_id="<retry-me@client.example>")
    with HeldLock(db_url):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(gw.port, mail)
    assert refused.value.smtp_code == 451 and refused.value.smtp_error.startswith(b"4.3.0")
    assert send(gw.port, mail) == {}  # the sending server's retry
    sink.wait_for(1)
    assert len(db.tickets()) == 1


def test_unreachable_database_answers_451():
    dead = make_engine("postgresql://postgres@127.0.0.1:1/helpdesk")

    async def scenario():
        writer = InboundWriter(RawMessageCommitter(dead))
        handler = IntakeHandler(writer, frozenset({"support@helpdesk.test"}), "helpdesk.test")
        server = await start_listener(handler, "127.0.0.1", 0, 1_000_000)
        port = server.sockets[0].getsockname()[1]
        writer_task = asyncio.create_task(writer.run())
        try:
            def deliver():
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    smtp.send_message(client_mail())
            with pytest.raises(smtplib.SMTPDataError) as refused:
                await asyncio.to_thread(deliver)
            return refused.value.smtp_code
        finally:
            writer_task.cancel()
            server.close()

    assert asyncio.run(scenario()) == 451
    dead.dispose()


def test_the_listeners_held_sqlite_connection_rolls_back_a_failed_batch_and_goes_on(tmp_path, sqlite_template):
    # A row the table refuses (raw is NOT NULL) fails the whole batch inside its transaction: the
    # good message with it is not stored either, the sender hears 451 (TempFail), and the same
    # held connection commits the next batch.
    shutil.copyfile(sqlite_template, tmp_path / "helpdesk.db")
    engine = make_engine(f"sqlite:///{tmp_path}/helpdesk.db")
    committer = HeldSqliteCommitter(engine)
    good = RawInbound(b"Subject: fine\r\n\r\nhello\r\n", "jan@client.example", ("support@helpdesk.test",))
    bad = RawInbound(None, "eve@client.example", ("support@helpdesk.test",))  # type: ignore[arg-type]

    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(InboundMessage)).scalar_one()
    with pytest.raises(TempFail, match="database unavailable: .*NOT NULL"):
        committer.commit([good, bad])
    assert stored() == 0
    first, second = committer.commit([good, good])
    assert second == first + 1 and stored() == 2
    assert engine.pool.checkedout() == 1  # held between batches
    committer.close()
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_closing_the_held_connection_waits_for_the_batch_still_committing(tmp_path, sqlite_template, monkeypatch):
    # A shutdown that runs out of grace cancels the writer while a batch commits in its thread;
    # the connection must not go back to the pool (whose reset rolls the batch back under it,
    # leaving its remaining inserts outside any transaction) until that batch is done.
    shutil.copyfile(sqlite_template, tmp_path / "helpdesk.db")
    engine = make_engine(f"sqlite:///{tmp_path}/helpdesk.db")
    committer = HeldSqliteCommitter(engine)
    item = RawInbound(b"Subject: x\r\n\r\nx\r\n", "jan@client.example", ("support@helpdesk.test",))
    committer.commit([item])
    insert, inserted, go_on = inbound_messages.INSERT_INBOUND.scalar_on_sqlite, threading.Event(), threading.Event()

    def slow_second_insert(*args):  # the injected fault: a batch's second insert stalls
        if inserted.is_set():
            go_on.wait(10)
        inserted.set()
        return insert(*args)
    monkeypatch.setattr(inbound_messages.INSERT_INBOUND, "scalar_on_sqlite", slow_second_insert)
    results = []
    batch = threading.Thread(target=lambda: results.append(committer.commit([item, item])))
    batch.start()
    inserted.wait(10)
    closing = threading.Thread(target=committer.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # waiting for the batch
    go_on.set()
    batch.join(10)
    closing.join(10)
    assert len(results[0]) == 2 and not closing.is_alive()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(InboundMessage)).scalar_one() == 3
    engine.dispose()
