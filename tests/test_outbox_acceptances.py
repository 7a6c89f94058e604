"""The relay's acceptances are committed beside the sending: a bounded number wait at a time, and
a failed commit stops the batch instead of sending mail whose acceptance cannot be recorded.
The `record` callables stand in for the outbox (the dispatcher tests use the real one); a
failing one is an injected fault."""

from __future__ import annotations

import threading

import pytest

from helpdesk.gateway.ground.outgoing import SendResult
from helpdesk.outbound.acceptances import AcceptanceRecorder


def _ok(n: int) -> SendResult:
    return SendResult(n, ok=True, code=250, detail="relay")


def test_no_more_than_the_limit_wait_uncommitted_and_close_commits_the_rest():
    database_free, committed = threading.Event(), []

    def record(results):
        database_free.wait(10)  # a commit waiting for SQLite's writer lock
        committed.extend(r.outbox_id for r in results)

    recorder = AcceptanceRecorder(record, max_uncommitted=3)
    for n in range(3):
        recorder.add(_ok(n))
    fourth = threading.Thread(target=recorder.add, args=(_ok(3),))
    fourth.start()
    fourth.join(0.2)
    assert fourth.is_alive() and committed == []  # sending waits for the database
    database_free.set()
    fourth.join(10)
    recorder.close()
    assert committed == [0, 1, 2, 3]


def test_a_failed_commit_stops_the_batch_and_is_raised_at_close():
    class DatabaseDown(Exception):
        pass

    def record(results):
        raise DatabaseDown("server closed the connection unexpectedly")

    recorder = AcceptanceRecorder(record, max_uncommitted=1)
    recorder.add(_ok(1))
    with pytest.raises(DatabaseDown):
        recorder.add(_ok(2))  # waits for the first commit, which failed: no further mail goes out
    with pytest.raises(DatabaseDown):
        recorder.close()
