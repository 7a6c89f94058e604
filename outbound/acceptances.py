"""Commit the relay's acceptances as they arrive, in a thread of their own, so sending never waits
for the database.

A mail's 250 is committed within GATHER_SECONDS, together with those arriving meanwhile (group
commit); while one commit waits (SQLite has a single writer, which intake or processing may hold
for a batch), the acceptances arriving meanwhile gather for the next. At most MAX_UNCOMMITTED
acceptances wait at a time (sending pauses beyond that), so after a kill -9 at most that many
mails can be sent again: usually none or one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from helpdesk.gateway.ground.outgoing import SendResult

MAX_UNCOMMITTED = 10
# How long the first acceptance of a group waits for more before it is committed: with a fast relay
# a commit per mail costs more (SQLite's one writer, which intake needs too) than the send itself.
GATHER_SECONDS = 0.05


class AcceptanceRecorder:
    """Lives for one batch of the dispatcher: `add` each acceptance, `close` at the end of the batch."""

    def __init__(self, record: Callable[[list[SendResult]], None], max_uncommitted: int = MAX_UNCOMMITTED):
        self._record, self._max_uncommitted = record, max_uncommitted
        self._pending: list[SendResult] = []
        self._writing = 0  # acceptances in the commit under way
        self._closed = False
        self._error: Exception | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._commit_forever, name="outbox-acceptances", daemon=True)
        self._thread.start()

    def add(self, result: SendResult) -> None:
        """Queue one acceptance; waits first while too many are not committed yet. Raises once a
        commit has failed, so no more mail is sent whose acceptance could not be recorded."""
        with self._changed:
            while len(self._pending) + self._writing >= self._max_uncommitted and self._thread.is_alive():
                self._changed.wait()
            if self._error is not None:
                raise self._error
            self._pending.append(result)
            # The committing thread waits for the first acceptance, then for a full group: a wake-up
            # for each one in between only made it look and sleep again (a futex and the GIL each).
            if len(self._pending) in (1, self._max_uncommitted):
                self._changed.notify_all()

    def close(self) -> None:
        """Wait until every acceptance added is committed, then stop; raises what a commit raised
        (those rows stay claimed by this instance, which takes them up again at its next claim)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _commit_forever(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return
                self._changed.wait_for(lambda: self._closed or len(self._pending) >= self._max_uncommitted,
                                       GATHER_SECONDS)
                batch, self._pending, self._writing = self._pending, [], len(self._pending)
            try:
                self._record(batch)
            except Exception as exc:  # the database is down, say: the batch's caller hears of it
                self._error = self._error or exc
            with self._changed:
                self._writing = 0
                self._changed.notify_all()
