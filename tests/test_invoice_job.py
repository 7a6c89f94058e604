"""The running gateway's period job: on a period's first day, from the run hour, it invoices the
period before, once, whichever instance looks and however often."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from helpdesk.app.scheduled_jobs import INVOICE_LEASE, Housekeeping
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.db import new_session
from helpdesk.store.job_leases import take_lease
from tests.test_invoices_run import context, contract, invoices, seed


def test_the_job_invoices_the_month_before_once_from_the_run_hour(engine, make_settings):
    seed(engine)
    contract(engine, "ACME-1", starts_on="2026-10-01", monthly_fee="100")  # nothing to bill for September
    ctx = context(make_settings, invoice_run_hour=2)
    clock = {"now": datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)}
    jobs = Housekeeping(engine, ctx, clock=lambda: clock["now"])
    assert jobs.invoices_once() == 0  # before the run hour: October is not invoiced yet
    clock["now"] += timedelta(hours=1)
    assert jobs.invoices_once() == 1
    assert jobs.invoices_once() == 0  # the next look finds it done
    assert [(r.number, r.period) for r in invoices(engine)] == [("2026-000001", "2026-10")]


def test_an_instance_holding_the_lease_keeps_the_others_out(engine, make_settings):
    seed(engine)
    contract(engine, "ACME-1", monthly_fee="100")
    ctx, now = context(make_settings), datetime(2026, 11, 1, 3, tzinfo=timezone.utc)
    with new_session(engine) as session, session.begin():  # another gateway is running the job right now
        assert take_lease(session.connection(), "invoice-periods", "other-host:1", now, INVOICE_LEASE)
    assert Housekeeping(engine, ctx, clock=lambda: now).invoices_once() == 0
    assert invoices(engine) == []
    later = now + INVOICE_LEASE + timedelta(minutes=1)  # its lease ran out: it died mid-run
    assert Housekeeping(engine, ctx, clock=lambda: later).invoices_once() == 1


def test_the_job_is_off_until_the_provider_has_an_edi_id(engine, make_settings, caplog):
    seed(engine)
    contract(engine, "ACME-1", monthly_fee="100")
    ctx = make_pipeline_context(make_settings(), lambda: load_rules(make_settings().rules))  # no provider details
    jobs = Housekeeping(engine, ctx, clock=lambda: datetime(2026, 11, 1, 3, tzinfo=timezone.utc))
    with caplog.at_level(logging.WARNING, logger="helpdesk.billing"):
        assert jobs.invoices_once() == 0
    assert invoices(engine) == []
    assert not [r for r in caplog.records if r.name == "helpdesk.billing"]  # not tried: no hourly warning per contract
