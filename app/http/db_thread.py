"""One thread of the HTTP side's own for its database reads and scrapes, off the event loop.

Not asyncio's default executor: the processor and the dispatcher run there, and checks piling
up on a hung database must not take their threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class DatabaseThread:
    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helpdesk-http-db")

    async def run(self, work: Callable[[], T], timeout: float | None = None) -> T:
        future = asyncio.get_running_loop().run_in_executor(self.executor, work)
        return await asyncio.wait_for(future, timeout) if timeout else await future

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
