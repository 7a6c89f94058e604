"""IMAP intake against a real Dovecot: IDLE and polling, move or flag only after commit, crashes,
server restarts, UIDVALIDITY changes, leases and a backlog."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import helpdesk.inbound.imap as imap_module
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.mailbox_settings import MailboxConfig
from helpdesk.store.imap_state import acquire_lease
from tests.conftest import free_port
from tests.imap_server import PASSWORD, Dovecot
from tests.mail import client_mail, wait_until


@pytest.fixture(scope="module")
def dovecot():
    server = Dovecot.start(free_port())
    yield server
    server.stop()


@pytest.fixture
def mailbox(monkeypatch):
    monkeypatch.setenv("HELPDESK_TEST_IMAP_PASSWORD", PASSWORD)

    def make(server: Dovecot, user: str, **options) -> MailboxConfig:
        values = dict(name="support", host="127.0.0.1", port=server.port, security="none", user=user,
                      password_env="HELPDESK_TEST_IMAP_PASSWORD", poll_seconds=0.5)
        values.update(options)
        return MailboxConfig(**values)
    return make


def mails(count: int, prefix: str = "m") -> list[bytes]:
    return [client_mail(sender=f"{prefix}{i}@client.example", message_id=f"<{prefix}{i}@client.example>").as_bytes()
            for i in range(count)]


def test_new_mail_arrives_by_idle_and_is_moved_after_commit(dovecot, mailbox, make_settings, start_gateway, sink,
                                                             db):
    user = dovecot.new_user()
    start_gateway(make_settings(imap_mailboxes=[mailbox(dovecot, user, queue="operations")]))
    time.sleep(0.5)  # the reader is idling now
    started = time.monotonic()
    dovecot.append(user, *mails(1))
    sink.wait_for(1, timeout=10)
    assert time.monotonic() - started < 5
    (ticket,) = db.tickets()
    assert ticket["queue"] == "operations"  # the mailbox's default queue
    assert db.inbound()[0].source == "imap:support"
    wait_until(lambda: dovecot.count(user, "INBOX") == 0 and dovecot.count(user, "Processed") == 1)


def test_polling_mode_flags_seen_and_leaves_the_message(dovecot, mailbox, make_settings, start_gateway, sink, db):
    user = dovecot.new_user()
    dovecot.append(user, *mails(2))
    start_gateway(make_settings(imap_mailboxes=[mailbox(dovecot, user, idle=False, after="seen")]))
    sink.wait_for(2)
    wait_until(lambda: dovecot.count(user, "INBOX", ["UNSEEN"]) == 0)
    assert dovecot.count(user, "INBOX") == 2 and len(db.tickets()) == 2
    dovecot.append(user, *mails(1, prefix="later"))  # found by the next poll
    sink.wait_for(3)


def test_a_crash_between_commit_and_move_loses_nothing_and_stores_once(dovecot, mailbox, make_settings,
                                                                       start_gateway, sink, db, monkeypatch):
    user = dovecot.new_user()
    dovecot.append(user, *mails(3))
    real, failures = imap_module.MailboxReader._after_store, []

    def crash_once(self, client, uids):  # an injected fault right after the commit
        if not failures:
            failures.append(uids)
            raise OSError("injected: connection died before the move")
        return real(self, client, uids)

    monkeypatch.setattr(imap_module.MailboxReader, "_after_store", crash_once)
    monkeypatch.setattr(imap_module, "MAX_BACKOFF_SECONDS", 0.2)
    start_gateway(make_settings(imap_mailboxes=[mailbox(dovecot, user)]))
    sink.wait_for(3)
    wait_until(lambda: dovecot.count(user, "INBOX") == 0 and dovecot.count(user, "Processed") == 3)
    assert failures and len(db.inbound()) == 3 and len(db.tickets()) == 3


def test_reconnects_after_a_server_restart_during_idle(mailbox, make_settings, start_gateway, sink, db,
                                                        monkeypatch):
    monkeypatch.setattr(imap_module, "MAX_BACKOFF_SECONDS", 0.5)
    server = Dovecot.start(free_port(), users=2)
    try:
        user = server.new_user()
        start_gateway(make_settings(imap_mailboxes=[mailbox(server, user)]))
        server.append(user, *mails(1, prefix="before"))
        sink.wait_for(1)
        server.restart()
        server.append(user, *mails(1, prefix="after"))
        sink.wait_for(2, timeout=20)
        assert len(db.tickets()) == 2
    finally:
        server.stop()


def test_uidvalidity_change_rescans_and_duplicates_are_absorbed(dovecot, mailbox, make_settings, start_gateway,
                                                                 sink, db):
    user = dovecot.new_user()
    client = dovecot.client(user)
    client.create_folder("Support")
    client.logout()
    old = mails(2, prefix="old")
    dovecot.append(user, *old, folder="Support")
    config = mailbox(dovecot, user, folder="Support", after="seen")
    first = start_gateway(make_settings(imap_mailboxes=[config]))
    sink.wait_for(2)
    first.stop()

    client = dovecot.client(user)  # the folder is recreated: new UIDVALIDITY, UIDs start again
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    dovecot.append(user, *old, *mails(1, prefix="new"), folder="Support")
    start_gateway(make_settings(imap_mailboxes=[config]))
    sink.wait_for(3)
    rows = db.processed(5)
    assert sorted(r.status for r in rows) == ["duplicate", "duplicate", "processed", "processed", "processed"]
    assert len(db.tickets()) == 3


def test_one_instance_at_a_time_reads_a_mailbox(engine):
    now = utcnow()
    assert acquire_lease(engine, "support", "instance-a", now, timedelta(seconds=60))
    assert not acquire_lease(engine, "support", "instance-b", now, timedelta(seconds=60))
    assert acquire_lease(engine, "support", "instance-a", now, timedelta(seconds=60))  # renewal
    assert acquire_lease(engine, "support", "instance-b", now + timedelta(seconds=61), timedelta(seconds=60))


def test_two_gateways_on_one_database_store_each_message_once(dovecot, mailbox, make_settings, start_gateway,
                                                              sink, db):
    user = dovecot.new_user()
    dovecot.append(user, *mails(20, prefix="pair"))
    config = mailbox(dovecot, user, batch=5)
    start_gateway(make_settings(imap_mailboxes=[config]))
    start_gateway(make_settings(imap_mailboxes=[config]))
    sink.wait_for(20)
    wait_until(lambda: dovecot.count(user, "Processed") == 20)
    assert len(db.inbound()) == 20 and len(db.tickets()) == 20


def test_a_backlog_is_worked_through_in_batches(dovecot, mailbox, make_settings, start_gateway, sink, db,
                                               monkeypatch):
    user = dovecot.new_user()
    dovecot.append(user, *mails(300, prefix="backlog"))
    fetched_sizes = []
    real = imap_module.IMAPClient.fetch

    def counting_fetch(self, messages, data, *args, **kwargs):
        fetched_sizes.append(len(messages))
        return real(self, messages, data, *args, **kwargs)

    monkeypatch.setattr(imap_module.IMAPClient, "fetch", counting_fetch)
    start_gateway(make_settings(imap_mailboxes=[mailbox(dovecot, user, batch=50)]))
    sink.wait_for(300, timeout=60)
    assert max(fetched_sizes) == 50 and sum(fetched_sizes) == 300
    assert db.ticket_count() == 300
