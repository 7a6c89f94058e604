"""Periodic jobs of a running gateway (apscheduler): close resolved tickets nobody confirmed, look at
SLA clocks that reached a warning, a breach or a repeated escalation, remind clients and
technicians of their objects' inspections, and invoice the billing periods that have ended.

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
from helpdesk.gateway.billing.period_run import run_due_period
from helpdesk.gateway.conversation.closing import close_unconfirmed
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.objects.inspections import due_object_ids, remind_one
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.sla.escalation import check_clocks
from helpdesk.store.db import new_session
from helpdesk.store.job_leases import release_lease, take_lease

log = logging.getLogger("helpdesk.housekeeping")
SLA_BATCH, SLA_MAX_BATCHES = 500, 400
SLA_LEASE = timedelta(minutes=10)  # longer than any pass; a dead instance's lease runs out after it
# Reminders are daily, but the job looks hourly: a gateway that was down at midnight still sends the
# day's reminders that day (each step goes once whatever the number of looks; store/object_tables.py).
# The first look waits a few minutes, so a start's urgent work (SLA clocks, the outbox) goes first.
INSPECTION_CHECK_HOURS, INSPECTION_LEASE, INSPECTION_FIRST_DELAY = 1, timedelta(minutes=30), timedelta(minutes=5)
# The period run looks hourly too: once the first day's HELPDESK_INVOICE_RUN_HOUR has come it invoices
# the month (and quarter) before; later looks find every contract invoiced (one query), and a gateway
# that was down that day catches up at its next look.
INVOICE_CHECK_HOURS, INVOICE_LEASE, INVOICE_FIRST_DELAY = 1, timedelta(minutes=60), timedelta(minutes=10)


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
        self.scheduler.add_job(self._run, "interval", hours=INSPECTION_CHECK_HOURS,
                               args=("inspection-reminders", self.inspections_once),
                               next_run_time=utcnow() + INSPECTION_FIRST_DELAY, coalesce=True, max_instances=1,
                               id="inspection-reminders")
        self.scheduler.add_job(self._run, "interval", hours=INVOICE_CHECK_HOURS,
                               args=("invoice-periods", self.invoices_once),
                               next_run_time=utcnow() + INVOICE_FIRST_DELAY, coalesce=True, max_instances=1,
                               id="invoice-periods")
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

    def _leased(self, job: str, ttl: timedelta, now: datetime, work: Callable[[], int]) -> int:
        """`work()` under the job's lease, released afterwards; 0 while another instance holds it."""
        with new_session(self.engine) as session, session.begin():
            if not take_lease(session.connection(), job, self.holder, now, ttl):
                return 0
        try:
            return work()
        finally:
            with new_session(self.engine) as session, session.begin():
                release_lease(session.connection(), job, self.holder, now)

    def sla_once(self) -> int:
        """One look at every due SLA clock, batch by batch; returns how many were looked at. Skipped
        while another instance holds the job's lease."""
        now = self.clock()

        def batches() -> int:
            total = 0
            for _ in range(SLA_MAX_BATCHES):  # bounded: a pass never runs away
                with new_session(self.engine) as session, session.begin():
                    looked = check_clocks(session, self.ctx, now, SLA_BATCH)
                total += looked
                if looked < SLA_BATCH:
                    break
            return total
        return self._leased("sla-clocks", SLA_LEASE, now, batches)

    def inspections_once(self) -> int:
        """One pass of the inspection reminders for today (UTC); skipped while another instance runs it."""
        now = self.clock()

        def remind() -> int:
            with new_session(self.engine) as session, session.begin():
                due = due_object_ids(session, self.ctx, now.date())
            sent = 0
            for object_id in due:  # a transaction each: SQLite's writer lock is never held for the whole pass
                with new_session(self.engine) as session, session.begin():
                    sent += remind_one(session, self.ctx, object_id, now.date())
            return sent
        return self._leased("inspection-reminders", INSPECTION_LEASE, now, remind)

    def invoices_once(self) -> int:
        """Invoice the periods that have ended, once their run hour has come; skipped while another
        instance runs it (its numbers would be safe anyway: each takes the locked year counter). Off
        until the provider's EDI party id is set: a helpdesk that does not bill its contracts must not
        be told every hour that each of them has no EDI address."""
        if not self.ctx.settings.provider_edi_id:
            return 0
        now = self.clock()
        return self._leased("invoice-periods", INVOICE_LEASE, now, lambda: run_due_period(self.engine, self.ctx, now))
