"""This gateway's row in the instance table: added at start, a heartbeat while it runs, removed at
a clean stop; the outbox claims of an instance whose heartbeat stops are taken over by the others.

The heartbeat is its own task writing one small UPDATE in a worker thread, so neither the
mail path nor a slow relay can hold it up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.settings import Settings
from helpdesk.store.instances import InstanceRecord, register_instance, remove_instance, write_heartbeat

log = logging.getLogger("helpdesk.service")
# When this process imported the module, just after it started: an instance row with our own
# process id written before then belongs to an earlier process (a gateway that is PID 1 of its
# container gets the same number after every restart).
_THIS_PROCESS_SINCE = utcnow()


def is_process_gone(pid: int, registered_at: datetime) -> bool:
    """Whether the process that registered an instance on this host has ended. A number reused by
    another process reads as alive; that instance is then found dead by its heartbeat instead."""
    if pid == os.getpid():
        return registered_at < _THIS_PROCESS_SINCE
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class InstanceHeartbeat:
    def __init__(self, engine: Engine, settings: Settings):
        if settings.instance_stale_seconds <= 2 * settings.instance_heartbeat_seconds:
            # one late heartbeat must not make a live instance look dead to the others
            raise UserError("HELPDESK_INSTANCE_STALE_SECONDS must be more than twice "
                            "HELPDESK_INSTANCE_HEARTBEAT_SECONDS")
        self.engine = engine
        self.interval = settings.instance_heartbeat_seconds
        self.stale_after = timedelta(seconds=settings.instance_stale_seconds)
        self.me: InstanceRecord | None = None
        self.task: asyncio.Task | None = None
        self.stopping = asyncio.Event()

    def register(self) -> int:
        self.me = register_instance(self.engine, socket.gethostname(), os.getpid(), utcnow(), self.stale_after,
                                    is_process_gone)
        # debug: a start that fails next (port in use) must stay one line for the operator
        log.debug("instance %d registered (host %s, pid %d)", self.me.id, self.me.host, self.me.pid)
        return self.me.id

    def start(self) -> None:
        self.task = asyncio.create_task(self._beat_forever())

    async def stop(self) -> None:
        """After the last delivery pass: what this instance still holds is free for others at once."""
        self.stopping.set()
        if self.task is not None:  # not cancelled: a heartbeat being written must not land after the delete
            await asyncio.gather(self.task, return_exceptions=True)
        try:
            await asyncio.to_thread(remove_instance, self.engine, self.me.id)
        except SQLAlchemyError as exc:
            log.error("instance %d not removed (its claims free up when its heartbeat ages): %s",
                      self.me.id, str(exc).splitlines()[0])

    async def _beat_forever(self) -> None:
        failing = False
        while True:
            try:
                await asyncio.wait_for(self.stopping.wait(), self.interval)
                return
            except TimeoutError:
                pass
            try:
                kept = await asyncio.to_thread(write_heartbeat, self.engine, self.me, utcnow())
            except Exception as exc:  # the database is down or a bug: say it once, keep trying
                if not failing:
                    log.error("instance %d: heartbeat not written, will retry: %s", self.me.id,
                              str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                failing = True
                continue
            if failing:
                log.info("instance %d: heartbeat written again", self.me.id)
            failing = False
            if not kept:
                log.warning("instance %d was taken for dead (no heartbeat for %g s); its claimed mail may "
                            "be sent again by another instance", self.me.id, self.stale_after.total_seconds())
