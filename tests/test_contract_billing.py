"""Contracts' billing fields and the `helpdesk invoices` commands, run as an operator would:
validation with one-line errors, the run (and its dry run), list, show, export, approval by CLI,
rejection and resending. The real command, both databases."""

from __future__ import annotations

import json
import warnings

from pydifact.parser import Parser

from tests.test_accounts_cli import data, ok, refused
from tests.test_accounts_cli import env as env  # noqa: F401  (the fixture)
from tests.test_invoices_run import BOSS, EVA, at, seed, ticket, work

BILLING = ["--currency", "CZK", "--period-fee", "12000", "--hourly-rate", "950", "--included-minutes", "120",
           "--vat-rate", "21", "--tax-category", "S", "--ticket-prices", "high=250,highest=500", "--carry-over",
           "--buyer-edi-id", "8591234000007", "--buyer-edi-qualifier", "14", "--buyer-vat", "CZ87654321",
           "--buyer-name", "Acme s.r.o.", "--buyer-street", "Náměstí Míru 15", "--buyer-city", "Brno",
           "--buyer-postcode", "602 00", "--buyer-country", "cz", "--edi-address", "EDI@acme.example",
           "--edi-charset", "UNOD", "--eancom", "--requires-approval", "--payment-terms-days", "30"]
PROVIDER = {"HELPDESK_PROVIDER_LEGAL_NAME": "Provider a.s.", "HELPDESK_PROVIDER_EDI_ID": "8590000000008",
            "HELPDESK_PROVIDER_EDI_QUALIFIER": "14", "HELPDESK_PROVIDER_COUNTRY": "CZ"}


def test_billing_fields_are_set_checked_and_shown(env, engine):
    seed(engine)
    ok(env, "contracts", "add", "ACME-1", "--org", "Acme s.r.o.", "--start", "2026-01-01", *BILLING)
    shown = data(env, "contracts", "show", "ACME-1")
    assert {k: shown[k] for k in ("currency", "monthly_fee", "tax_category", "ticket_prices", "carry_over_minutes",
                                  "buyer_country", "edi_address", "edi_charset", "eancom", "requires_approval",
                                  "payment_terms_days")} == {
        "currency": "CZK", "monthly_fee": "12000.00", "tax_category": "S",
        "ticket_prices": {"high": "250.00", "highest": "500.00"}, "carry_over_minutes": True, "buyer_country": "CZ",
        "edi_address": "edi@acme.example", "edi_charset": "UNOD", "eancom": True, "requires_approval": True,
        "payment_terms_days": 30}
    ok(env, "contracts", "edit", "ACME-1", "--no-approval", "--no-carry-over", "--ticket-prices", "")
    shown = data(env, "contracts", "show", "ACME-1")
    assert (shown["requires_approval"], shown["carry_over_minutes"], shown["ticket_prices"]) == (False, False, {})
    for args, message in [
        (["--currency", "XYZ"], "not one we bill in"), (["--currency", "EURO"], "ISO 4217"),
        (["--tax-category", "Q"], "tax category"), (["--ticket-prices", "urgent=5"], "priority one of"),
        (["--ticket-prices", "high=-5"], "ticket price for high"), (["--edi-charset", "UNOX"], "character set"),
        (["--edi-address", "not-an-address"], "malformed email"), (["--buyer-country", "XX"], "unknown country"),
        (["--buyer-name", "Acme\r\nBcc: x@evil.example"], "buyer legal name"),
        (["--buyer-edi-qualifier", "1 4"], "qualifier"), (["--period", "yearly"], "unknown billing period"),
    ]:
        assert message in refused(env, "contracts", "edit", "ACME-1", *args), args
    assert data(env, "contracts", "show", "ACME-1") == shown  # nothing changed


def _acme(env, engine, *extra: str) -> None:
    seed(engine)
    ok(env, "contracts", "add", "ACME-1", "--org", "Acme s.r.o.", "--start", "2026-10-01", "--currency", "EUR",
       "--period-fee", "1000", "--hourly-rate", "80", "--vat-rate", "21", "--buyer-edi-id", "8591234000007",
       "--buyer-edi-qualifier", "14", "--edi-address", "edi@acme.example", *extra)
    work(engine, ticket(engine, at(3)), 90, at(3))


def test_run_list_show_and_export(env, engine, tmp_path):
    env = env | PROVIDER
    _acme(env, engine)
    assert "2099-Q4 has not ended yet" in refused(env, "invoices", "run", "--period", "2099-Q4")
    assert "period must be" in refused(env, "invoices", "run", "--period", "2026-13")
    planned = data(env, "invoices", "run", "--period", "2026-10", "--dry-run")["planned"]
    assert planned == [{"contract": "ACME-1", "currency": "EUR", "line_total": "1120.00", "tax_total": "235.20",
                        "invoice_total": "1355.20", "lines": 2}]
    assert data(env, "invoices", "list") == []  # the dry run stored nothing
    assert "1 invoice(s) issued, 0 awaiting approval, 0 failed" in ok(env, "invoices", "run", "--period", "2026-10")
    assert "0 invoice(s) issued" in ok(env, "invoices", "run", "--period", "2026-10")
    [row] = data(env, "invoices", "list", "--period", "2026-10", "--org", "Acme s.r.o.", "--status", "approved")
    assert (row["number"], row["invoice_total"], row["status"]) == ("2026-000001", "1355.20", "approved")
    text = ok(env, "invoices", "show", "2026-000001")
    assert "Invoice 2026-000001 (approved, EDI mail outbox" in text and "1355.20 EUR" in text
    shown = data(env, "invoices", "show", "2026-000001")
    assert shown["document"]["invoice_total"] == "1355.20" and shown["delivery"] == "queued"
    ok(env, "invoices", "export", "2026-000001", "-o", str(tmp_path / "inv.edi"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segments = list(Parser().parse((tmp_path / "inv.edi").read_bytes().decode("iso-8859-1")))
    assert [s.elements[1] for s in segments if s.tag == "BGM"] == ["2026-000001"]
    ok(env, "invoices", "export", "2026-000001", "-o", str(tmp_path / "inv.json"), "--format", "json")
    assert json.loads((tmp_path / "inv.json").read_text())["document"]["number"] == "2026-000001"
    assert "unknown format" in refused(env, "invoices", "export", "2026-000001", "-o", "x", "--format", "pdf")
    assert "unknown invoice" in refused(env, "invoices", "show", "2026-999999")
    assert "queued again" in ok(env, "invoices", "resend", "2026-000001")
    assert "not awaiting approval" in refused(env, "invoices", "approve", "2026-000001")


def test_approval_and_rejection_by_cli(env, engine):
    env = env | PROVIDER
    _acme(env, engine, "--requires-approval")
    ok(env, "contracts", "add", "ACME-2", "--org", "Acme s.r.o.", "--start", "2026-10-01", "--period-fee", "10",
       "--buyer-edi-id", "X", "--edi-address", "edi@acme.example", "--requires-approval")
    assert "2 awaiting approval" in ok(env, "invoices", "run", "--period", "2026-10")
    assert "neither a fin-admin" in refused(env, "invoices", "approve", "2026-000001", "--by", "jan@acme.example")
    assert "EDI mail queued" in ok(env, "invoices", "approve", "2026-000001", "--by", EVA)
    assert "a rejection needs a reason" in refused(env, "invoices", "reject", "2026-000002", "--reason", " ")
    assert "at most 2000 fit" in refused(env, "invoices", "reject", "2026-000002", "--reason", "x" * 2001)
    assert "rejection reason contains" in refused(env, "invoices", "reject", "2026-000002", "--reason", "a\x1bb")
    assert data(env, "invoices", "list", "--status", "awaiting-approval")[0]["number"] == "2026-000002"
    assert "1 admin(s) told" in ok(env, "invoices", "reject", "2026-000002", "--reason", "wrong fee", "--by", BOSS)
    rows = {r["number"]: r for r in data(env, "invoices", "list")}
    assert (rows["2026-000001"]["status"], rows["2026-000001"]["decided_by"]) == ("approved", EVA)
    assert (rows["2026-000002"]["status"], rows["2026-000002"]["reject_reason"]) == ("rejected", "wrong fee")
    assert "only an approved invoice" in refused(env, "invoices", "resend", "2026-000002")
    assert "unknown status" in refused(env, "invoices", "list", "--status", "paid")
