"""Commit raw inbound messages durably, several per transaction, before anyone is told "stored".

The SMTP listener awaits `InboundWriter.store()`; whatever arrives while one commit is on
disk goes into the next, so one fsync serves many messages while each sender still gets its
250 only after its own message is committed (group commit).

A commit that would start while other sessions are still reading a message's body waits up to
GROUP_WAIT_SECONDS for them, as PostgreSQL's commit_delay does when commit_siblings are active:
at full load a third of the groups held a single mail, and each commit costs about 0.15 ms of
CPU (a thread hop, the fsync, the wake-up of the processing process) whatever its size.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.ports import RawMessageStore

log = logging.getLogger("helpdesk.inbound")
GROUP_WAIT_SECONDS = 0.001  # a body already in the socket's buffer is read within it


class InboundWriter:
    """Group commit in front of a RawMessageStore (store/inbound_messages.py behind the port)."""

    def __init__(self, store: RawMessageStore, max_batch: int = 64, on_commit: Callable[[], None] | None = None,
                 group_wait: float = GROUP_WAIT_SECONDS):
        self.raw_store, self.max_batch, self.on_commit = store, max_batch, on_commit
        self.group_wait = group_wait
        self._queue: asyncio.Queue[tuple[RawInbound, asyncio.Future]] = asyncio.Queue()
        self._receiving = 0  # bodies being read now, whose messages are likely to come next
        self._arrival: asyncio.Future | None = None  # resolved by the next store() while a commit waits

    def body_started(self) -> None:
        """A session began reading a message's body (after its 354)."""
        self._receiving += 1

    def body_ended(self) -> None:
        """That body is read, or the session gave it up; a message it yields is stored at once."""
        self._receiving -= 1

    async def store(self, item: RawInbound) -> int:
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        return await future

    def close(self) -> None:
        """After `run` has ended: the store lets go of what it holds (a connection), once a
        commit still running in a thread (a cancelled `run`'s) is done: call it from a thread."""
        self.raw_store.close()

    async def run(self) -> None:
        """Commit loop; runs until cancelled, then finishes what is queued."""
        try:
            while True:
                await self._commit_next(await self._queue.get())
        except asyncio.CancelledError:
            while not self._queue.empty():
                await self._commit_next(self._queue.get_nowait())
            raise

    def _take_queued(self, batch: list) -> None:
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _wait_for_bodies(self, batch: list) -> None:
        """Up to `group_wait` for the bodies being read, while the group has room for them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.group_wait
        while self._receiving > 0 and len(batch) < self.max_batch and (left := deadline - loop.time()) > 0:
            self._arrival = arrival = loop.create_future()
            timer = loop.call_later(left, lambda: arrival.done() or arrival.set_result(None))
            try:
                await arrival
            finally:
                timer.cancel()
                self._arrival = None
            self._take_queued(batch)

    async def _commit_next(self, first) -> None:
        batch = [first]
        self._take_queued(batch)
        cancelled = False
        try:  # with no wait set, or no body being read, this returns at once
            await self._wait_for_bodies(batch)
        except asyncio.CancelledError:  # shutting down: what the group holds is committed first
            cancelled = True
        try:
            ids = await asyncio.to_thread(self.raw_store.commit, [item for item, _ in batch])
        except Exception as exc:  # whatever went wrong, the senders retry: never a silent loss
            log.error("cannot store %d inbound message(s), answered 451: %s", len(batch), exc)
            exc = exc if isinstance(exc, TempFail) else TempFail(str(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for (_, future), new_id in zip(batch, ids):
                if not future.done():
                    future.set_result(new_id)
            if self.on_commit:
                self.on_commit()
        if cancelled:
            raise asyncio.CancelledError
