"""Periodic jobs of a running gateway (apscheduler): close resolved tickets nobody confirmed, and
look at SLA clocks that reached a warning, a breach or a repeated escalation.

The clock is injectable so tests can move time forward instead of waiting days. With several
instances on one database a job's lease (store/job_leases.py) lets one of them run it at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from helpdesk.app.retention_job import INTERVAL_HOURS, retention_job
from helpdesk.gateway.conversation.closing import close_unconfirmed
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.sla.escalation import check_clocks
from helpdesk.store.db import new_session
from helpdesk.store.job_leases import release_lease, take_lease

log = logging.getLogger("helpdesk.housekeeping")
SLA_BATCH, SLA_MAX_BATCHES = 500, 400
SLA_LEASE = timedelta(minutes=10)  # longer than any pass; a dead instance's lease runs out after it


class Housekeeping:
    def __init__(self, engine, ctx: PipelineContext, *, clock: Callable[[], datetime] = utcnow,
                 after_work: Callable[[], None] | None = None, metrics: Metrics | None = None):
        self.engine, self.ctx, self.clock, self.after_work = engine, ctx, clock, after_work
        self.metrics = metrics if metrics is not None else Metrics()
        self.scheduler: AsyncIOScheduler | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        # coalesce + one instance: a slow run is never stacked on itself after a pause or outage
        self.scheduler.add_job(self._close_job, "interval", seconds=self.ctx.settings.auto_close_check_minutes * 60,
                               next_run_time=utcnow(), coalesce=True, max_instances=1, id="auto-close")
        self.scheduler.add_job(self._run, "interval", seconds=self.ctx.settings.sla_check_seconds,
                               args=("sla-clocks", self.sla_once), next_run_time=utcnow(), coalesce=True,
                               max_instances=1, id="sla-clocks")
        if self.ctx.settings.raw_retention_days > 0:  # 0 keeps raw copies forever
            self.scheduler.add_job(retention_job, "interval", hours=INTERVAL_HOURS, next_run_time=utcnow(),
                                   args=(self.engine, self.ctx.settings, self.clock), coalesce=True,
                                   max_instances=1, id="raw-retention")
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _close_job(self) -> None:
        await self._run("auto-close", self.close_once)

    async def _run(self, name: str, work: Callable[[], int]) -> None:
        self.metrics.job_runs.labels(name).inc()
        try:
            done = await asyncio.to_thread(work)
        except asyncio.CancelledError:
            # The service stopped while a run was under way (apscheduler would log it as a crash
            # with a traceback); its transaction commits or rolls back whole, the next start runs again.
            log.debug("job %s interrupted by shutdown", name)
            return
        except Exception:  # logged, and tried again at the next interval
            self.metrics.job_failures.labels(name).inc()
            log.exception("job %s failed; will try again", name)
            return
        if done and self.after_work:
            self.after_work()

    def close_once(self) -> int:
        with new_session(self.engine) as session, session.begin():
            return close_unconfirmed(session, self.ctx, self.clock())

    def sla_once(self) -> int:
        """One look at every due SLA clock, batch by batch; returns how many were looked at. Skipped
        while another instance holds the job's lease."""
        now, total = self.clock(), 0
        with new_session(self.engine) as session, session.begin():
            if not take_lease(session.connection(), "sla-clocks", self.holder, now, SLA_LEASE):
                return 0
        try:
            for _ in range(SLA_MAX_BATCHES):  # bounded: a pass never runs away
                with new_session(self.engine) as session, session.begin():
                    looked = check_clocks(session, self.ctx, now, SLA_BATCH)
                total += looked
                if looked < SLA_BATCH:
                    break
        finally:
            with new_session(self.engine) as session, session.begin():
                release_lease(session.connection(), "sla-clocks", self.holder, now)
        return total
