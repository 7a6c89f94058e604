"""The service's work loop (app/service.py's Worker): when a step is run again at once, and when it
waits to be woken. Called directly, on a real event loop and real threads."""

from __future__ import annotations

import asyncio

from helpdesk.app.service import POLL_SECONDS, Worker


class _Steps:
    """A step that handles the given counts in turn, then nothing."""

    def __init__(self, *counts: int):
        self.counts, self.calls = list(counts), 0

    def __call__(self) -> int:
        self.calls += 1
        return self.counts.pop(0) if self.counts else 0


def _run(worker: Worker, scenario) -> None:
    async def main():
        worker.start()
        try:
            await scenario()
        finally:
            await worker.finish(5)
    asyncio.run(main())


def test_a_step_that_took_less_than_a_batch_waits_to_be_woken():
    steps = _Steps(3, 4)
    worker = Worker("dispatcher", steps, batch=10)

    async def scenario():
        await asyncio.sleep(POLL_SECONDS / 4)
        assert steps.calls == 1  # found fewer than a batch: nothing more due, no empty claim
        worker.wake.set()
        await asyncio.sleep(POLL_SECONDS / 4)
        assert steps.calls == 2
    _run(worker, scenario)


def test_a_full_batch_is_followed_at_once():
    steps = _Steps(10, 10, 2)
    worker = Worker("dispatcher", steps, batch=10)

    async def scenario():
        await asyncio.sleep(POLL_SECONDS / 4)
        assert steps.calls == 3
    _run(worker, scenario)


def test_without_a_batch_every_step_that_handled_something_is_followed_at_once():
    steps = _Steps(1, 1)
    worker = Worker("processor", steps)

    async def scenario():
        await asyncio.sleep(POLL_SECONDS / 4)
        assert steps.calls == 3  # the third found nothing
    _run(worker, scenario)


def test_a_short_batch_still_looks_again_before_finishing():
    steps = _Steps(3, 2)
    worker = Worker("dispatcher", steps, batch=10)

    async def main():
        worker.start()
        await asyncio.sleep(POLL_SECONDS / 4)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await worker.finish(5)
        return loop.time() - started
    took = asyncio.run(main())
    assert steps.calls == 3 and took < POLL_SECONDS / 2  # drained what was due, without a poll's wait
