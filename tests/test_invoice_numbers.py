"""Invoice numbers come from a gap-free sequence per year and provider: a contract that fails rolls
its number back, and two runs at once (two engines, as two gateway instances would) neither skip
nor reuse a number. Real SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import text

from helpdesk.gateway.billing.period_run import run_period
from helpdesk.gateway.billing.periods import parse_period
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.invoice_numbers import next_invoice_number
from tests.test_invoices_run import NOW, context, contract, invoices, seed


def test_numbers_count_up_per_year_and_provider(engine):
    with new_session(engine) as session, session.begin():
        conn = session.connection()
        assert [next_invoice_number(conn, 2026, "P") for _ in range(3)] == ["2026-000001", "2026-000002",
                                                                             "2026-000003"]
        assert next_invoice_number(conn, 2027, "P") == "2027-000001"
        assert next_invoice_number(conn, 2026, "Q") == "2026-000001"
    with new_session(engine) as session, session.begin():  # a rolled-back number is given back
        assert next_invoice_number(session.connection(), 2026, "P") == "2026-000004"
        session.rollback()
    with new_session(engine) as session, session.begin():
        assert next_invoice_number(session.connection(), 2026, "P") == "2026-000004"


def test_a_contract_failing_halfway_leaves_no_gap_and_a_rerun_fills_it_in(engine, make_settings, db):
    seed(engine)
    contract(engine, "A", monthly_fee="100")
    contract(engine, "B", monthly_fee="100", edi_address="")  # approved at once, but nowhere to send it
    contract(engine, "C", monthly_fee="100")
    ctx = context(make_settings)
    report = run_period(engine, ctx, parse_period("2026-10"), NOW)
    assert report.created == ["2026-000001", "2026-000002"]
    assert [c for c, _ in report.failed] == ["B"] and "no EDI delivery address" in report.failed[0][1]
    assert len(db.outbox()) == 2  # the failed one queued nothing either
    with engine.begin() as conn:
        conn.execute(text("UPDATE contract SET edi_address = 'edi@acme.example' WHERE number = 'B'"))
    assert run_period(engine, ctx, parse_period("2026-10"), NOW).created == ["2026-000003"]
    assert [r.number for r in invoices(engine)] == ["2026-000001", "2026-000002", "2026-000003"]


def test_two_runs_at_once_neither_skip_nor_reuse_a_number(db_url, engine, make_settings):
    seed(engine)
    for i in range(12):
        contract(engine, f"M-{i:02d}", monthly_fee="100")
    for i in range(6):
        contract(engine, f"Q-{i:02d}", monthly_fee="300", billing_period="quarterly")
    ctx = context(make_settings)
    jobs = ["2026-10", "2026-10", "2026-09", "2026-Q3", "2026-Q3"]  # the same period twice, and others at once
    reports, errors, start = {}, [], threading.Barrier(len(jobs))

    def run(index: int, period: str) -> None:
        own = make_engine(db_url, 10000)  # an engine of its own, like another gateway instance
        try:
            start.wait()
            reports[index] = run_period(own, ctx, parse_period(period), NOW)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and all(not r.failed for r in reports.values()), (errors, reports)
    rows = invoices(engine)
    expected = 12 + 12 + 6  # October and September for the monthly ones, Q3 for the quarterly ones
    assert sorted(r.number for r in rows) == [f"2026-{n:06d}" for n in range(1, expected + 1)]
    assert len({(r.contract_id, r.period) for r in rows}) == expected
    assert sorted(n for r in reports.values() for n in r.created) == sorted(r.number for r in rows)
