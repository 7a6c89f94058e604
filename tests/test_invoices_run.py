"""The period run: one invoice per active contract, its amounts (pro-rated fee, hours beyond the
included ones, per-ticket charges, rounding half-up per line, VAT per rate), the time entries it
locks, and a rerun that creates nothing new. Real SQLite and PostgreSQL databases."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.contracts import add_contract
from helpdesk.gateway.accounts.directory import add_org, add_user, find_user
from helpdesk.gateway.billing.amounts import Terms, Usage, compute_amounts
from helpdesk.gateway.billing.invoice_json import document_from_json
from helpdesk.gateway.billing.period_run import run_due_period, run_period
from helpdesk.gateway.billing.periods import active_days, parse_period, periods_due
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.db import new_session
from helpdesk.store.models import Ticket, TimeEntry

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc)
JAN, EVA, ANNA, BOSS = "jan@acme.example", "eva@acme.example", "anna@provider.example", "boss@provider.example"
CENT = Decimal("0.01")


def seed(engine, locale: str = "cs") -> None:
    """Acme (a client with a contact and a fin-admin), a technician and an admin of the provider."""
    with new_session(engine) as session, session.begin():
        add_org(session, "Acme s.r.o.", ["acme.example"], locale=locale)
        add_user(session, "Jan Novák", [JAN], organization="Acme s.r.o.")
        add_user(session, "Eva Svobodová", [EVA], organization="Acme s.r.o.", roles=("fin-admin",))
        add_user(session, "Anna Nowak", [ANNA], roles=("technician",))
        add_user(session, "Boss Admin", [BOSS], roles=("admin",))


def contract(engine, number: str, org: str = "Acme s.r.o.", **fields) -> None:
    values = {"starts_on": "2026-01-01", "currency": "EUR", "vat_rate": "21", "edi_address": "edi@acme.example",
              "buyer_edi_id": "ACME-0001",
              **fields}
    with new_session(engine) as session, session.begin():
        add_contract(session, org, number, values)


def ticket(engine, created: datetime, priority: str = "normal", requester: str = JAN) -> int:
    with new_session(engine) as session, session.begin():
        user = find_user(session, requester)
        row = Ticket(subject="Printer", priority=priority, requester_id=user.id, created_at=created,
                     updated_at=created)
        session.add(row)
        session.flush()
        return row.id


def work(engine, ticket_id: int, minutes: int, at: datetime) -> int:
    with new_session(engine) as session, session.begin():
        entry = TimeEntry(ticket_id=ticket_id, user_id=find_user(session, ANNA).id, minutes=minutes, at=at)
        session.add(entry)
        session.flush()
        return entry.id


def context(make_settings, **overrides):
    s = make_settings(provider_legal_name="Provider a.s.", provider_edi_id="8590000000008",
                      provider_edi_qualifier="14", provider_vat_number="CZ12345678", provider_country="CZ",
                      **overrides)
    return make_pipeline_context(s, lambda: load_rules(s.rules))


def invoices(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT number, contract_id, period, status, document, line_total, "
                                      "tax_total, invoice_total FROM invoice ORDER BY number")))


def at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=timezone.utc)


# --- the arithmetic, without a database ---------------------------------------------------------

def _terms(**changes) -> Terms:
    values = dict(fee=Decimal("310.00"), hourly_rate=Decimal("50.00"), included_minutes=60, vat_rate=Decimal("21"),
                  tax_category="S", quantum=CENT)
    return Terms(**{**values, **changes})


def test_the_fee_is_pro_rated_by_days_and_rounded_half_up():
    # 10.01 * 15 / 30 = 5.005: half-up gives 5.01 (the banker's rounding would give 5.00)
    amounts = compute_amounts(_terms(fee=Decimal("10.01")), Usage("2026-09", 15, 30, 0))
    assert amounts.lines[0].net_amount == Decimal("5.01")
    assert "pro rata 15/30 days" in amounts.lines[0].description
    whole = compute_amounts(_terms(), Usage("2026-10", 31, 31, 0))
    assert whole.lines[0].net_amount == Decimal("310.00") and "pro rata" not in whole.lines[0].description


def test_only_the_hours_beyond_the_included_ones_are_billed():
    amounts = compute_amounts(_terms(), Usage("2026-10", 31, 31, 150))  # 90 min beyond 60
    hours = amounts.lines[1]
    assert (hours.kind, hours.quantity, hours.unit, hours.net_amount) == ("hours", Decimal("1.5000"), "HUR",
                                                                          Decimal("75.00"))
    assert compute_amounts(_terms(), Usage("2026-10", 31, 31, 45)).minutes_left == 15
    assert len(compute_amounts(_terms(), Usage("2026-10", 31, 31, 60)).lines) == 1  # nothing beyond


def test_vat_is_computed_once_per_rate_on_the_sum_of_its_lines():
    # two lines of 1.05 at 10 %: per line 0.105 -> 0.11 twice = 0.22; on the sum 2.10 -> 0.21
    terms = _terms(fee=Decimal("1.05"), vat_rate=Decimal("10"), ticket_prices={"high": Decimal("1.05")})
    amounts = compute_amounts(terms, Usage("2026-10", 31, 31, 0, {"high": 1}))
    assert [line.net_amount for line in amounts.lines] == [Decimal("1.05"), Decimal("1.05")]
    assert [(t.taxable_amount, t.tax_amount) for t in amounts.taxes] == [(Decimal("2.10"), Decimal("0.21"))]
    assert amounts.invoice_total == Decimal("2.31") == amounts.line_total + amounts.tax_total


def test_a_currency_without_minor_unit_rounds_to_whole_units():
    amounts = compute_amounts(_terms(fee=Decimal("1000"), quantum=Decimal(1), vat_rate=Decimal("10")),
                              Usage("2026-10", 10, 30, 0))
    assert amounts.lines[0].net_amount == Decimal("333") and amounts.tax_total == Decimal("33")


def test_periods_by_name_and_the_ones_due():
    q4 = parse_period("2026-q4")
    assert (q4.key, q4.kind, q4.start, q4.end, q4.days) == ("2026-Q4", "quarterly", date(2026, 10, 1),
                                                             date(2026, 12, 31), 92)
    assert parse_period("2028-02").days == 29
    for bad in ("2026-13", "2026-Q5", "26-10", "october"):
        with pytest.raises(UserError, match="period must be"):
            parse_period(bad)
    assert active_days(parse_period("2026-10"), date(2026, 10, 17), None) == 15
    assert active_days(parse_period("2026-10"), date(2026, 1, 1), date(2026, 10, 10)) == 10
    assert active_days(parse_period("2026-10"), date(2026, 11, 1), None) == 0
    due = [p.key for p in periods_due(datetime(2027, 1, 1, 2, tzinfo=timezone.utc), run_hour=2)]
    assert due == ["2026-12", "2026-Q4"]
    before_the_hour = [p.key for p in periods_due(datetime(2027, 1, 1, 1, tzinfo=timezone.utc), run_hour=2)]
    assert before_the_hour == ["2026-11", "2026-Q3"]


# --- the run, on both databases -----------------------------------------------------------------

def test_a_period_run_bills_fee_hours_and_tickets_and_locks_the_entries(engine, make_settings):
    seed(engine)
    contract(engine, "ACME-1", starts_on="2026-10-17", monthly_fee="310", hourly_rate="50", included_minutes=60,
             ticket_prices="high=25")
    t1, t2 = ticket(engine, at(18), "high"), ticket(engine, at(20), "high")
    ticket(engine, at(21), "normal")          # no price for normal
    ticket(engine, at(30, 9), "high")         # created in September: not this period
    entries = [work(engine, t1, 100, at(18)), work(engine, t2, 50, at(31))]
    september = work(engine, t1, 500, at(30, 9))
    report = run_period(engine, context(make_settings), parse_period("2026-10"), NOW)
    assert report.created == ["2026-000001"] and not report.failed
    [row] = invoices(engine)
    doc = document_from_json(row.document)
    assert [(line.kind, line.net_amount) for line in doc.lines] == [
        ("fee", Decimal("150.00")), ("hours", Decimal("75.00")), ("ticket", Decimal("50.00"))]
    assert doc.lines[2].quantity == 2 and doc.lines[2].unit_price == Decimal("25.00")
    assert [(t.vat_rate, t.taxable_amount, t.tax_amount) for t in doc.taxes] == [
        (Decimal("21.00"), Decimal("275.00"), Decimal("57.75"))]
    assert (doc.line_total, doc.tax_total, doc.invoice_total) == (Decimal("275.00"), Decimal("57.75"),
                                                                   Decimal("332.75"))
    assert Decimal(row.invoice_total) == Decimal("332.75") and row.status == "approved"
    assert doc.due_date == date(2026, 11, 15) and doc.buyer.name == "Acme s.r.o." and doc.supplier.edi_id
    with engine.connect() as conn:
        locked = dict(conn.execute(text("SELECT time_entry_id, invoice_id FROM time_entry_billing")).all())
    assert set(locked) == set(entries) and september not in locked


def test_running_a_period_twice_creates_nothing_new(engine, make_settings, db):
    seed(engine)
    contract(engine, "ACME-1", monthly_fee="100")
    contract(engine, "ACME-Q", monthly_fee="300", billing_period="quarterly")
    ctx = context(make_settings)
    assert run_period(engine, ctx, parse_period("2026-10"), NOW).created == ["2026-000001"]
    outbox = len(db.outbox())
    assert run_period(engine, ctx, parse_period("2026-10"), NOW).created == []
    assert len(invoices(engine)) == 1 and len(db.outbox()) == outbox == 1
    # the quarterly contract only in quarters; the scheduler's job does both, once
    with pytest.raises(UserError, match="2026-Q4 has not ended yet"):
        run_period(engine, ctx, parse_period("2026-Q4"), NOW)
    assert run_due_period(engine, ctx, datetime(2026, 10, 1, 3, tzinfo=timezone.utc)) == 2  # 2026-09 and 2026-Q3
    assert run_due_period(engine, ctx, datetime(2026, 10, 1, 4, tzinfo=timezone.utc)) == 0
    assert sorted(r.period for r in invoices(engine)) == ["2026-09", "2026-10", "2026-Q3"]


def test_contracts_outside_the_period_or_of_another_kind_get_nothing(engine, make_settings):
    seed(engine)
    contract(engine, "OLD", starts_on="2025-01-01", ends_on="2026-09-30", monthly_fee="100")
    contract(engine, "LATER", starts_on="2026-11-01", monthly_fee="100")
    contract(engine, "ENDS", starts_on="2025-01-01", ends_on="2026-10-10", monthly_fee="310")
    report = run_period(engine, context(make_settings), parse_period("2026-10"), NOW)
    [row] = invoices(engine)
    assert report.created == [row.number] and Decimal(row.line_total) == Decimal("100.00")  # 310 * 10 / 31


def test_unused_minutes_carry_over_only_when_the_contract_says_so(engine, make_settings):
    seed(engine)
    contract(engine, "CARRY", monthly_fee="0", hourly_rate="60", included_minutes=120, carry_over_minutes=True)
    t = ticket(engine, at(5, 9))
    work(engine, t, 30, at(5, 9))     # September: 90 of 120 minutes left
    work(engine, t, 200, at(5))       # October: 120 + 90 included, 200 used: nothing beyond
    ctx = context(make_settings)
    run_period(engine, ctx, parse_period("2026-09"), NOW)
    run_period(engine, ctx, parse_period("2026-10"), NOW)
    october = document_from_json(invoices(engine)[1].document)
    assert [line.kind for line in october.lines] == ["fee"]


def test_without_a_fin_admin_the_providers_admins_are_asked(engine, make_settings, db):
    seed(engine)
    with new_session(engine) as session, session.begin():
        add_org(session, "Beta a.s.", ["beta.example"])
    contract(engine, "BETA-1", org="Beta a.s.", monthly_fee="100", requires_approval=True)
    contract(engine, "ACME-1", monthly_fee="100", requires_approval=True)
    report = run_period(engine, context(make_settings), parse_period("2026-10"), NOW)
    assert report.awaiting_approval == 2
    asked = sorted((row["kind"], row["to"]) for row in db.outbox())
    assert asked == [("invoice_approval", BOSS), ("invoice_approval", EVA)]


def test_unused_minutes_carry_over_one_period_only(engine, make_settings):
    """Idle months do not bank free work: what carries over is at most one period's allowance, and
    only into the period right after (a run for August, September and October)."""
    seed(engine)
    contract(engine, "CARRY", monthly_fee="0", hourly_rate="60", included_minutes=120, carry_over_minutes=True)
    work(engine, ticket(engine, at(5)), 300, at(5))  # October: 120 + 120 carried from September
    ctx = context(make_settings)
    for period in ("2026-08", "2026-09", "2026-10"):
        run_period(engine, ctx, parse_period(period), NOW)
    october = document_from_json(invoices(engine)[2].document)
    [hours] = [line for line in october.lines if line.kind == "hours"]
    assert hours.net_amount == Decimal("60.00")  # 300 - 240 = 60 minutes beyond, not 300 - 360


def test_a_contract_that_replaces_another_mid_period_bills_only_its_own_days(engine, make_settings):
    """Acme's contract ends on 15 October and the next starts on the 16th: each invoice bills the time
    and tickets of its own days; counted over the whole month, both would charge the same tickets."""
    seed(engine)
    contract(engine, "OLD", starts_on="2026-01-01", ends_on="2026-10-15", monthly_fee="0", hourly_rate="60",
             ticket_prices="high=10")
    contract(engine, "NEW", starts_on="2026-10-16", monthly_fee="0", hourly_rate="90", ticket_prices="high=20")
    work(engine, ticket(engine, at(5), priority="high"), 60, at(5))
    work(engine, ticket(engine, at(20), priority="high"), 60, at(20))
    run_period(engine, context(make_settings), parse_period("2026-10"), NOW)
    old, new = (document_from_json(row.document) for row in invoices(engine))
    assert [(line.kind, line.net_amount) for line in old.lines if line.kind != "fee"] == [
        ("hours", Decimal("60.00")), ("ticket", Decimal("10.00"))]
    assert [(line.kind, line.net_amount) for line in new.lines if line.kind != "fee"] == [
        ("hours", Decimal("90.00")), ("ticket", Decimal("20.00"))]
