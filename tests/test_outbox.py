"""Outbound delivery: retries with backoff while the relay is down, nothing lost, each row sent once."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import event, select

from helpdesk.app.wiring import make_dispatcher
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.outgoing import OutboundIntent, RenderedMail
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.compose import compose_mail
from helpdesk.outbound.transport import SmtpRelay
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import DeliveryAttempt, Ticket
from helpdesk.store.outbox import backoff, enqueue
from helpdesk.store.tickets import TicketStore
from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.smtp_sink import SmtpSink


def test_relay_down_then_up_delivers_everything_and_records_attempts(make_settings, start_gateway, db, caplog):
    caplog.set_level(logging.INFO, logger="helpdesk.outbound")
    relay_port = free_port()  # nothing listens here yet: the relay is down
    gw = start_gateway(make_settings(relay=f"127.0.0.1:{relay_port}"))
    for i in range(3):
        send(gw.port, client_mail(sender=f"c{i}@client.example"))
    wait_until(lambda: len(rows := db.outbox()) == 3 and all(r["attempts"] >= 3 for r in rows), timeout=15)
    assert all(r["status"] == "queued" and "Connection refused" in r["last_error"] for r in db.outbox())

    with SmtpSink(port=relay_port) as late_sink:
        assert len(late_sink.wait_for(3, timeout=15)) == 3
        wait_until(lambda: all(r["status"] == "sent" for r in db.outbox()))
    with new_session(db.engine) as s:
        attempts = s.execute(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).scalars().all()
    assert [a.ok for a in attempts].count(True) == 3 and [a.ok for a in attempts].count(False) >= 9
    # One line when the outage starts and one when it ends, not one per mail and attempt.
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "helpdesk.outbound"]
    (down,) = [text for level, text in lines if level == "WARNING"]
    assert down.startswith("relay unreachable") and "Connection refused" in down
    assert [text for level, text in lines if level == "INFO"] == ["relay reachable again, sending the waiting mail"]


def test_temporary_refusal_is_retried_and_permanent_refusal_fails(gateway, sink, db):
    sink.temp_fail_data = 2
    sink.reject_rcpt = {"gone@client.example"}
    send(gateway.port, client_mail(sender="jan@client.example"))
    send(gateway.port, client_mail(sender="gone@client.example"))
    assert sink.wait_for(1)[0].rcpt_tos == ["jan@client.example"]
    rows = wait_until(lambda: (rows := db.outbox()) and {r["status"] for r in rows} == {"sent", "failed"} and rows)
    by_status = {r["status"]: r for r in rows}
    assert by_status["sent"]["attempts"] == 3
    assert by_status["failed"]["attempts"] == 1 and by_status["failed"]["last_error"].startswith("550")


def test_a_mail_is_given_up_by_its_age_not_by_a_count_of_attempts(db_url, db, caplog):
    """An MTA's maximal queue lifetime: an outage of any length shorter than it loses nothing."""
    _fill_outbox(db_url, 1)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{free_port()}", send_queue_lifetime_hours=120,
                        secret_key="test-secret-key-0123456789")
    engine, start = make_engine(db_url), utcnow()
    now = [start]
    dispatcher = make_dispatcher(engine, SmtpRelay("127.0.0.1", free_port(), "test"), settings,
                                 clock=lambda: now[0])
    for hours in range(0, 120, 10):  # refused every time for 5 days: 12 attempts, more than the old limit of 10
        now[0] = start + timedelta(hours=hours)
        assert dispatcher.run_once() == 1
    now[0] = start + timedelta(hours=119, minutes=59)
    assert dispatcher.run_once() == 1
    (row,) = db.outbox()
    assert row["status"] == "queued" and row["attempts"] == 13

    now[0] = start + timedelta(hours=121)  # the next attempt after the lifetime ran out is the last
    assert dispatcher.run_once() == 1
    (row,) = db.outbox()
    assert row["status"] == "failed" and row["attempts"] == 14 and "Connection refused" in row["last_error"]
    assert any("not delivered within 120 hours" in r.getMessage() for r in caplog.records)
    assert dispatcher.run_once() == 0  # failed is final until `helpdesk outbox retry`
    engine.dispose()


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 60, 3600).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_without_relay_mail_is_written_to_a_folder(make_settings, start_gateway, tmp_path, db):
    gw = start_gateway(make_settings(relay=None, outbox_dir=tmp_path / "out"))
    send(gw.port, client_mail(message_id="<folder@client.example>"))
    (path,) = wait_until(lambda: list((tmp_path / "out").glob("*.eml")))
    assert b"In-Reply-To: <folder@client.example>" in path.read_bytes()
    wait_until(lambda: db.outbox()[0]["status"] == "sent")


def test_a_new_database_never_overwrites_the_files_of_an_old_one(make_settings, start_gateway, tmp_path, db):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "00000001.eml").write_bytes(b"Subject: written for an older database\r\n\r\nkeep me\r\n")
    (folder / "00000001-1.eml").write_bytes(b"Subject: and another\r\n\r\nkeep me too\r\n")
    gw = start_gateway(make_settings(relay=None, outbox_dir=folder))
    send(gw.port, client_mail(message_id="<again@client.example>"))
    new = wait_until(lambda: (folder / "00000001-2.eml").exists() and folder / "00000001-2.eml")
    assert b"In-Reply-To: <again@client.example>" in new.read_bytes()
    assert (folder / "00000001.eml").read_bytes().endswith(b"keep me\r\n")
    assert (folder / "00000001-1.eml").read_bytes().endswith(b"keep me too\r\n")
    assert sorted(p.name for p in folder.iterdir()) == ["00000001-1.eml", "00000001-2.eml", "00000001.eml"]
    wait_until(lambda: db.outbox()[0]["status"] == "sent")


def _fill_outbox(url: str, count: int, recipients: int | None = None) -> set[str]:
    """`count` mails, the i-th to c{i}@ (or, with `recipients`, to c{i % recipients}@)."""
    engine = make_engine(url)
    ids = set()
    with new_session(engine) as session, session.begin():
        contact = TicketStore(session).find_or_create_contact("c@client.example", "")
        ticket = Ticket(requester_id=contact.id, subject="bulk")
        session.add(ticket)
        session.flush()
        for i in range(count):
            address = f"c{i % recipients if recipients else i}@client.example"
            intent = OutboundIntent("acknowledgement", ticket.id, address, "", None, None)
            mail = compose_mail(intent, RenderedMail("s", "b"), tag="[HD#1]", support_name="S",
                                support_address="support@helpdesk.test", message_id=f"hd1.{i}@helpdesk.test",
                                now=utcnow())
            enqueue(session, mail, "acknowledgement", ticket.id)
            ids.add(f"<{mail.message_id}>")
    engine.dispose()
    return ids


def test_two_dispatchers_on_one_database_send_each_row_once(db_url, sink):
    expected = _fill_outbox(db_url, 300)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")
    start = threading.Barrier(2)

    def run_dispatcher():
        engine = make_engine(db_url)
        dispatcher = make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings, batch=10)
        start.wait()
        dispatcher.drain()
        dispatcher.transport.close()
        engine.dispose()

    threads = [threading.Thread(target=run_dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    received = [m.message["Message-ID"] for m in sink.wait_for(300)]
    assert len(received) == 300 and set(received) == expected


def test_several_relay_connections_send_each_row_once_and_each_recipients_mail_in_order(db_url, sink):
    _fill_outbox(db_url, 120, recipients=7)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")
    engine = make_engine(db_url)
    relays = [SmtpRelay("127.0.0.1", sink.port, "test") for _ in range(3)]
    dispatcher = make_dispatcher(engine, relays[0], settings, batch=40, more_transports=relays[1:])
    assert dispatcher.drain() == 120
    dispatcher.close()
    caught = sink.wait_for(120)
    numbers = [int(m.message["Message-ID"].split(".")[1].split("@")[0]) for m in caught]
    assert sorted(numbers) == list(range(120))  # every row once
    for r in range(7):  # the order they were queued in, per recipient
        theirs = [n for m, n in zip(caught, numbers) if m.rcpt_tos == [f"c{r}@client.example"]]
        assert theirs == sorted(theirs) and len(theirs) == len(range(r, 120, 7))
    assert len({m.peer for m in caught}) == 3  # over all three connections
    assert {r["status"] for r in _outbox_rows(engine)} == {"sent"}
    engine.dispose()


def test_a_batch_the_relay_accepted_whole_takes_no_write_transaction_after_its_acceptances(db_url, sink):
    # On SQLite every write transaction takes the one write lock that intake needs for the next 250.
    _fill_outbox(db_url, 5)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")
    engine = make_engine(db_url)
    dispatcher = make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings, batch=10)
    recorded, record = [], dispatcher.outbox.record

    def record_and_note(results, unsent, now):
        recorded.append((len(results), len(unsent)))
        record(results, unsent, now)
    dispatcher.outbox.record = record_and_note
    writes = []
    event.listen(engine, "begin", lambda conn: writes.append(conn))
    assert dispatcher.run_once() == 5
    dispatcher.close()
    assert len(sink.wait_for(5)) == 5
    assert sum(results for results, _ in recorded) == 5 and (0, 0) not in recorded
    assert len(writes) == 1 + len(recorded)  # the claim and the acceptances' commits, nothing more
    assert {r["status"] for r in _outbox_rows(engine)} == {"sent"}
    engine.dispose()


def _outbox_rows(engine) -> list[dict]:
    from helpdesk.store.models import Outbox
    with new_session(engine) as session:
        return [{"status": str(o.status)} for o in session.execute(select(Outbox)).scalars()]


def test_a_dead_dispatchers_lease_expires_and_the_row_is_sent(db_url, sink):
    _fill_outbox(db_url, 1)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")
    engine = make_engine(db_url)
    now = utcnow()
    crashed = make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings, clock=lambda: now)
    assert len(crashed._claim()) == 1  # claimed, then the process "dies" before sending
    survivor = make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings, clock=lambda: now)
    assert survivor.run_once() == 0  # still leased
    later = make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings,
                       clock=lambda: now + timedelta(minutes=6))
    assert later.run_once() == 1
    assert len(sink.wait_for(1)) == 1
    engine.dispose()
