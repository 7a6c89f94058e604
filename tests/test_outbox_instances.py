"""Outbox claims belong to a live instance: a dead one's are taken over in seconds, not after the
lease, and a mail the relay accepted is not sent again by the instance that takes over.

The dispatchers here are the real ones on the real database and sink; the clock is moved
instead of waited on, and a crash is an injected fault in the transport.
"""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import timedelta

from sqlalchemy import select

from helpdesk.app.instance_heartbeat import is_process_gone
from helpdesk.app.wiring import make_dispatcher
from helpdesk.gateway.ground.clock import as_utc, utcnow
from helpdesk.gateway.ground.outgoing import SendResult
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.transport import SmtpRelay
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.instances import register_instance, remove_instance, write_heartbeat
from helpdesk.store.models import Instance
from tests.mail import client_mail, send, wait_until
from tests.test_outbox import _fill_outbox

STALE = timedelta(seconds=10)


def _settings(db_url: str, sink) -> Settings:
    # the default lease (300 s): only the instance's liveness can free a claim in these tests
    return Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")


def _instance(engine, now, host="other-host", pid=4242):
    return register_instance(engine, host, pid, now, STALE, lambda pid, started: False)


def _dispatcher(engine, sink, settings, instance, at, transport=None):
    return make_dispatcher(engine, transport or SmtpRelay("127.0.0.1", sink.port, "test"), settings,
                           clock=lambda: at, instance_id=instance.id)


def test_claims_of_a_silent_instance_are_taken_over_after_the_stale_time(db_url, sink, db):
    _fill_outbox(db_url, 2)
    engine, now, settings = make_engine(db_url), utcnow(), _settings(db_url, sink)
    dead, alive = _instance(engine, now), _instance(engine, now)
    assert len(_dispatcher(engine, sink, settings, dead, now)._claim()) == 2  # then it is killed

    assert _dispatcher(engine, sink, settings, alive, now + timedelta(seconds=9)).run_once() == 0
    write_heartbeat(engine, alive, now + timedelta(seconds=9))
    assert _dispatcher(engine, sink, settings, alive, now + timedelta(seconds=11)).run_once() == 2
    assert len(sink.wait_for(2)) == 2
    assert {r["status"] for r in db.outbox()} == {"sent"}
    engine.dispose()


def test_claims_of_an_instance_whose_row_is_gone_are_taken_over_at_once(db_url, sink):
    _fill_outbox(db_url, 1)
    engine, now, settings = make_engine(db_url), utcnow(), _settings(db_url, sink)
    stopped, other = _instance(engine, now), _instance(engine, now)
    assert len(_dispatcher(engine, sink, settings, stopped, now)._claim()) == 1
    assert _dispatcher(engine, sink, settings, other, now).run_once() == 0  # its owner is alive
    remove_instance(engine, stopped.id)
    assert _dispatcher(engine, sink, settings, other, now).run_once() == 1
    assert len(sink.wait_for(1)) == 1
    # An instance taken for dead that comes back writes its row again (and says so).
    assert write_heartbeat(engine, stopped, now) is False and write_heartbeat(engine, stopped, now) is True
    engine.dispose()


def test_a_restart_on_the_same_host_frees_the_killed_process_claims_at_once(db_url, sink):
    _fill_outbox(db_url, 1)
    engine, now, settings = make_engine(db_url), utcnow(), _settings(db_url, sink)
    killed = subprocess.Popen(["true"])  # its process id is certainly not running any more
    killed.wait()
    host = socket.gethostname()
    dead = register_instance(engine, host, killed.pid, now, STALE, is_process_gone)
    assert len(_dispatcher(engine, sink, settings, dead, now)._claim()) == 1
    restarted = register_instance(engine, host, 1, now + timedelta(seconds=1), STALE, is_process_gone)
    assert _dispatcher(engine, sink, settings, restarted, now + timedelta(seconds=1)).run_once() == 1
    assert len(sink.wait_for(1)) == 1
    # A live process on this host keeps its row, and so its claims.
    again = register_instance(engine, host, 1, now + timedelta(seconds=2), STALE, is_process_gone)
    assert again.id != restarted.id
    assert write_heartbeat(engine, restarted, now + timedelta(seconds=2)) is True
    engine.dispose()


class Killed(BaseException):
    """The process dies here: nothing after this point runs (not an error anybody handles)."""


class DiesOnSecondMail:
    """Hands the first mail to the relay; the process is killed once its acceptance is committed
    (which must happen while the batch goes on, not at its end)."""

    def __init__(self, relay: SmtpRelay, db):
        self.relay, self.db, self.sent = relay, db, 0

    def send(self, mail_from, rcpt_to, raw, name):
        if self.sent == 1:
            wait_until(lambda: [r["status"] for r in self.db.outbox()].count("sent") == 1, timeout=5)
            raise Killed()
        self.sent += 1
        return self.relay.send(mail_from, rcpt_to, raw, name)

    def close(self):
        self.relay.close()


def test_a_mail_the_relay_accepted_is_not_sent_again_by_the_instance_that_takes_over(db_url, sink, db):
    expected = _fill_outbox(db_url, 3)
    engine, now, settings = make_engine(db_url), utcnow(), _settings(db_url, sink)
    dying, survivor = _instance(engine, now), _instance(engine, now)
    transport = DiesOnSecondMail(SmtpRelay("127.0.0.1", sink.port, "test"), db)
    try:
        _dispatcher(engine, sink, settings, dying, now, transport).run_once()
    except Killed:
        pass
    transport.close()
    assert len(sink.wait_for(1)) == 1 and [r["status"] for r in db.outbox()].count("sent") == 1
    remove_instance(engine, dying.id)
    assert _dispatcher(engine, sink, settings, survivor, now).drain() == 2
    received = [m.message["Message-ID"] for m in sink.wait_for(3)]
    assert len(received) == 3 and set(received) == expected
    engine.dispose()


def test_an_instance_taken_for_dead_does_not_overwrite_what_its_successor_recorded(db_url, sink, db):
    _fill_outbox(db_url, 1)
    engine, now, settings = make_engine(db_url), utcnow(), _settings(db_url, sink)
    paused, successor = _instance(engine, now), _instance(engine, now)
    slow = _dispatcher(engine, sink, settings, paused, now)
    (claimed,) = slow._claim()
    remove_instance(engine, paused.id)  # silent too long: taken for dead
    assert _dispatcher(engine, sink, settings, successor, now).run_once() == 1
    sink.wait_for(1)
    # The paused dispatcher wakes up and records that its relay refused the mail: the row stays sent.
    slow.outbox.record([SendResult(claimed.id, ok=False, code=451, detail="451 4.3.0 try again later")], [], now)
    (row,) = db.outbox()
    assert row["status"] == "sent" and row["attempts"] == 1
    engine.dispose()


def test_a_running_gateway_beats_and_a_clean_stop_removes_its_row(make_settings, start_gateway, db, sink):
    gw = start_gateway(make_settings(instance_heartbeat_seconds=0.05, instance_stale_seconds=1))
    (first,) = wait_until(lambda: _instances(db))
    assert first.pid == os.getpid() and first.host == socket.gethostname()
    wait_until(lambda: (rows := _instances(db)) and as_utc(rows[0].heartbeat_at) > as_utc(first.heartbeat_at))
    send(gw.port, client_mail())
    sink.wait_for(1)
    wait_until(lambda: db.outbox()[0]["status"] == "sent")
    gw.stop()
    assert _instances(db) == []


def _instances(db) -> list[Instance]:
    with new_session(db.engine) as session:
        return list(session.execute(select(Instance)).scalars())
