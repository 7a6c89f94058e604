"""Periodic jobs of a running gateway (apscheduler): close resolved tickets nobody confirmed.

The clock is injectable so tests can move time forward instead of waiting days.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from helpdesk.app.retention_job import INTERVAL_HOURS, retention_job
from helpdesk.gateway.conversation.closing import close_unconfirmed
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store.db import new_session

log = logging.getLogger("helpdesk.housekeeping")


class Housekeeping:
    def __init__(self, engine, ctx: PipelineContext, *, clock: Callable[[], datetime] = utcnow,
                 after_work: Callable[[], None] | None = None, metrics: Metrics | None = None):
        self.engine, self.ctx, self.clock, self.after_work = engine, ctx, clock, after_work
        self.metrics = metrics if metrics is not None else Metrics()
        self.scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        # coalesce + one instance: a slow run is never stacked on itself after a pause or outage
        self.scheduler.add_job(self._close_job, "interval", seconds=self.ctx.settings.auto_close_check_minutes * 60,
                               next_run_time=utcnow(), coalesce=True, max_instances=1, id="auto-close")
        if self.ctx.settings.raw_retention_days > 0:  # 0 keeps raw copies forever
            self.scheduler.add_job(retention_job, "interval", hours=INTERVAL_HOURS, next_run_time=utcnow(),
                                   args=(self.engine, self.ctx.settings, self.clock), coalesce=True,
                                   max_instances=1, id="raw-retention")
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _close_job(self) -> None:
        self.metrics.job_runs.labels("auto-close").inc()
        try:
            closed = await asyncio.to_thread(self.close_once)
        except asyncio.CancelledError:
            # The service stopped while a run was under way (apscheduler would log it as a crash
            # with a traceback); its transaction commits or rolls back whole, the next start runs again.
            log.debug("closing unconfirmed tickets interrupted by shutdown")
            return
        except Exception:  # logged, and tried again at the next interval
            self.metrics.job_failures.labels("auto-close").inc()
            log.exception("closing unconfirmed tickets failed; will try again")
            return
        if closed and self.after_work:
            self.after_work()

    def close_once(self) -> int:
        with new_session(self.engine) as session, session.begin():
            return close_unconfirmed(session, self.ctx, self.clock())
