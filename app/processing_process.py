"""A processing process seen from the gateway's process: start it, wake it, hear from it, stop it.

`helpdesk serve` with HELPDESK_PROCESSING_PROCESSES=N runs the pipeline in N such processes instead
of threads: the listener, the writer and the dispatchers keep the first process's GIL, the pipeline
gets its own (app/processing_child.py is the other side). The interface is the in-process Worker's
(`wake.set()`, `start()`, `finish()`), so the service treats both alike.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import os
from collections.abc import Callable

from helpdesk.app.processing_child import FINISH, RELOAD, WAKE, run_processing_child
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.ground.settings import Settings

log = logging.getLogger("helpdesk.service")
READY_TIMEOUT = 60.0    # seconds a new process gets to import the pipeline and load the rules
RESTART_SECONDS = 1.0   # pause before a process that died is started again, doubled while starts fail
RESTART_MAX_SECONDS = 60.0
RESEND_SECONDS = 0.1    # a command that found the pipe full is sent again after this
# spawn, not fork: the gateway has threads (a forked child would inherit their locks, held).
_SPAWN = multiprocessing.get_context("spawn")


class _Wake:
    """`set()` as on an asyncio.Event; a full pipe means the process has wake-ups enough to read."""

    def __init__(self, process: ProcessingProcess):
        self.process = process

    def set(self) -> None:
        self.process.say(WAKE, droppable=True)


class ProcessingProcess:
    def __init__(self, settings: Settings, name: str, metrics: Metrics, after_work: Callable[[], None]):
        self.settings, self.name, self.metrics, self.after_work = settings, name, metrics, after_work
        self.wake = _Wake(self)
        self.finishing = False
        self._ready: asyncio.Future | None = None
        self._process = self._commands = self._reports = None
        self._open = False  # its pipes: closed between a crash and the restart
        self._restart_pause, self._restarting = RESTART_SECONDS, False
        # Runs before multiprocessing's own exit handler (registered earlier), which would wait
        # forever for a child that ignores SIGTERM: when the gateway ends without finish() (a port
        # in use, Ctrl-C at start), the child is killed. Mid-batch that only rolls its batch back.
        atexit.register(self._kill_at_exit)

    def start(self) -> None:
        commands_read, self._commands = _SPAWN.Pipe(duplex=False)
        self._reports, reports_write = _SPAWN.Pipe(duplex=False)
        self._process = _SPAWN.Process(target=run_processing_child, name=f"helpdesk {self.name}",
                                       args=(self.settings, self.name, commands_read, reports_write))
        self._process.start()
        commands_read.close()  # the child's ends: the parent keeps only its own, so EOF means gone
        reports_write.close()
        os.set_blocking(self._commands.fileno(), False)  # never block the event loop on a busy child
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        loop.add_reader(self._reports.fileno(), self._hear)
        self._open = True

    async def wait_ready(self) -> None:
        try:
            failure = await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT)
        except TimeoutError:
            failure = f"not ready after {READY_TIMEOUT:.0f} s"
        if failure:
            raise UserError(f"{self.name} did not start: {failure}")

    def say(self, command: bytes, droppable: bool = False) -> bool:
        """Send a one-byte command; False if the pipe is full (a five-byte write is atomic)."""
        if not self._open:
            return False
        try:
            self._commands.send_bytes(command)
            return True
        except BlockingIOError:
            if not droppable:
                log.warning("%s: its pipe is full; %r waits", self.name, command)
            return False
        except OSError:  # it died; _hear starts it again
            return False

    def reload_rules(self) -> None:
        # A full pipe (a child stuck behind a long transaction while a storm wakes it) must not
        # leave it on the old rules: sent again until it fits. A dead child reads the file anyway
        # when it is started again.
        if not self.say(RELOAD) and self._open and not self.finishing:
            asyncio.get_running_loop().call_later(RESEND_SECONDS, self.reload_rules)

    def _hear(self) -> None:
        try:
            while self._reports.poll():
                self._take(self._reports.recv())
        except (EOFError, OSError):
            self._gone()

    def _take(self, report: tuple) -> None:
        kind = report[0]
        if kind == "done":
            for counted in report[1]:
                self.metrics.count_message(*counted)
            self.after_work()
            return
        if kind == "ready":
            self._restart_pause = RESTART_SECONDS
        elif self._ready.done() or self._restarting:  # nobody awaits it: say why here
            log.error("%s could not start: %s", self.name, report[1])
        if not self._ready.done():
            self._ready.set_result(None if kind == "ready" else report[1])

    def _gone(self) -> None:
        self._close()
        asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        await asyncio.to_thread(self._process.join, 5)  # its pipe ended: it is exiting
        if not self._ready.done():
            self._ready.set_result(f"exited with code {self._process.exitcode}")
        if not self.finishing:
            log.error("%s exited with code %s; starting it again in %.0f s", self.name,
                      self._process.exitcode, self._restart_pause)
            self._restart_later()

    def _restart_later(self) -> None:
        """Start it again after the pause, which doubles while starts fail (a "ready" resets it)."""
        asyncio.get_running_loop().call_later(self._restart_pause, self._restart)
        self._restart_pause = min(2 * self._restart_pause, RESTART_MAX_SECONDS)

    def _restart(self) -> None:
        if self.finishing:
            return
        self._restarting = True
        try:
            self.start()
        except OSError as exc:  # out of processes or descriptors: try again later, say so
            log.error("%s could not be started again: %s", self.name, exc)
            self._restart_later()

    def _kill_at_exit(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    async def finish(self, timeout: float) -> None:
        """Let it work off what is stored, then stop it (the service's SIGTERM path)."""
        self.finishing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._process.is_alive() and not self.say(FINISH) and loop.time() < deadline:
            await asyncio.sleep(0.05)  # a full pipe: the child reads it before its next batch
        await asyncio.to_thread(self._process.join, max(0.0, deadline - loop.time()))
        if self._process.is_alive():
            log.warning("%s: still busy at shutdown; the rest waits for the next start", self.name)
            self._process.kill()
            self._process.join()
        if self._open:
            self._hear()  # its last reports (counts, wake the dispatchers) up to the pipe's end
            self._close()

    def _close(self) -> None:
        if self._open:
            asyncio.get_running_loop().remove_reader(self._reports.fileno())
            self._commands.close()
            self._reports.close()
            self._open = False
