"""One contract's invoice for one period as plain values: its terms and usage read from the
database, the amounts computed (gateway/billing/amounts.py), the parties from the contract and
the provider's settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from helpdesk.gateway.billing.amounts import Amounts, Terms, Usage, compute_amounts
from helpdesk.gateway.billing.currencies import quantum
from helpdesk.gateway.billing.document import InvoiceDocument, Party
from helpdesk.gateway.billing.periods import Period, active_days, active_window
from helpdesk.gateway.ground.settings import Settings
from helpdesk.store import invoices as q


@dataclass(frozen=True)
class Draft:
    """An invoice computed but not yet numbered or stored. `contract` is the row of
    store/invoices.contract_for_invoice: the contract's columns, org_name and org_locale."""

    contract: object
    amounts: Amounts
    entry_ids: list[int]


def ticket_prices(contract) -> dict[str, Decimal]:
    return {priority: Decimal(price) for priority, price in json.loads(contract.ticket_prices or "{}").items()}


def _terms(conn: Connection, contract, period: Period, prices: dict[str, Decimal]) -> Terms:
    included = contract.included_minutes
    if contract.carry_over_minutes:
        included += q.minutes_carried_in(conn, contract.id, period.start)
    return Terms(fee=contract.monthly_fee, hourly_rate=contract.hourly_rate, included_minutes=included,
                 vat_rate=contract.vat_rate, tax_category=contract.tax_category, quantum=quantum(contract.currency),
                 ticket_prices=prices, fee_unit="MON" if period.kind == "monthly" else "QAN",
                 carry_limit=contract.included_minutes)


def contract_window(contract, period: Period) -> tuple[date, date]:
    """The days of the period the contract runs. Its time and tickets are counted in these days only:
    when one contract of an organization ends mid-period and the next begins, each bills its own days
    (counted over the whole period, both would charge the same tickets)."""
    return active_window(period, contract.starts_on, contract.ends_on)


def draft_invoice(conn: Connection, contract, period: Period) -> Draft:
    first, last = contract_window(contract, period)
    entries = q.unbilled_entries(conn, contract.organization_id, first, last)
    prices = ticket_prices(contract)
    tickets = q.tickets_by_priority(conn, contract.organization_id, first, last) if prices else {}
    usage = Usage(period.key, active_days(period, contract.starts_on, contract.ends_on), period.days,
                  sum(minutes for _, minutes in entries), tickets)
    return Draft(contract, compute_amounts(_terms(conn, contract, period, prices), usage),
                 [entry_id for entry_id, _ in entries])


def supplier(s: Settings) -> Party:
    return Party(s.provider_edi_id, s.provider_edi_qualifier, s.provider_legal_name, s.provider_street,
                 s.provider_city, s.provider_postcode, s.provider_country, s.provider_vat_number)


def buyer(contract) -> Party:
    return Party(contract.buyer_edi_id or "", contract.buyer_edi_qualifier,
                 contract.buyer_legal_name or contract.org_name, contract.buyer_street, contract.buyer_city,
                 contract.buyer_postcode, contract.buyer_country, contract.buyer_vat_number)


def invoice_document(draft: Draft, number: str, period: Period, issued: date, s: Settings) -> InvoiceDocument:
    c, a = draft.contract, draft.amounts
    return InvoiceDocument(
        number=number, issue_date=issued, period_start=period.start, period_end=period.end, currency=c.currency,
        supplier=supplier(s), buyer=buyer(c), lines=a.lines, taxes=a.taxes,
        line_total=a.line_total, taxable_total=a.line_total, tax_total=a.tax_total, invoice_total=a.invoice_total,
        payment_terms_days=c.payment_terms_days, due_date=issued + timedelta(days=c.payment_terms_days),
        contract_number=c.number, charset=c.edi_charset, eancom=c.eancom,
        control_reference="")  # edifact_envelope derives it from the number's last 14 letters and digits
