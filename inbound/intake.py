"""Commit raw inbound messages durably, several per transaction, before anyone is told "stored".

The SMTP listener awaits `InboundWriter.store()`; whatever arrives while one commit is on
disk goes into the next, so one fsync serves many messages while each sender still gets its
250 only after its own message is committed (group commit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.ports import RawMessageStore

log = logging.getLogger("helpdesk.inbound")


class InboundWriter:
    """Group commit in front of a RawMessageStore (store/inbound_messages.py behind the port)."""

    def __init__(self, store: RawMessageStore, max_batch: int = 64, on_commit: Callable[[], None] | None = None):
        self.raw_store, self.max_batch, self.on_commit = store, max_batch, on_commit
        self._queue: asyncio.Queue[tuple[RawInbound, asyncio.Future]] = asyncio.Queue()

    async def store(self, item: RawInbound) -> int:
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
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

    async def _commit_next(self, first) -> None:
        batch = [first]
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        try:
            ids = await asyncio.to_thread(self.raw_store.commit, [item for item, _ in batch])
        except Exception as exc:  # whatever went wrong, the senders retry: never a silent loss
            log.error("cannot store %d inbound message(s), answered 451: %s", len(batch), exc)
            exc = exc if isinstance(exc, TempFail) else TempFail(str(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), new_id in zip(batch, ids):
            if not future.done():
                future.set_result(new_id)
        if self.on_commit:
            self.on_commit()
