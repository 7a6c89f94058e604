"""The money of one invoice: its lines, the VAT per rate and the totals, as Decimal.

Rules (the README's Billing section says the same):
- the fee is pro-rated by days for a contract that starts or ends within the period:
  fee * active days / days in the period;
- work beyond the included minutes (plus, when the contract carries them over, the minutes left
  unused in the period just before) is billed at the hourly rate: rate * minutes / 60; unused
  minutes carry over one period only, at most one period's allowance (`carry_limit`), so an idle
  contract does not bank months of free work;
- tickets created in the period are billed at the contract's price for their priority;
- every line is rounded on its own to the currency's minor unit, half-up (ROUND_HALF_UP);
- VAT is computed once per (rate, category) on the sum of that rate's rounded lines, and rounded
  half-up: so the tax shown per rate is exactly rate * taxable amount, and the totals are sums
  of rounded figures that add up to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from helpdesk.gateway.billing.document import InvoiceLine, TaxSummary

HUNDRED, SIXTY = Decimal(100), Decimal(60)
QUANTITY = Decimal("0.0001")  # hours as a quantity: 50 minutes are 0.8333 h


@dataclass(frozen=True)
class Terms:
    """What a contract says about money, for one period."""

    fee: Decimal                  # per billing period
    hourly_rate: Decimal
    included_minutes: int         # per period, plus any carried over into this one
    vat_rate: Decimal             # percent
    tax_category: str
    quantum: Decimal              # the currency's minor unit: Decimal("0.01")
    ticket_prices: dict[str, Decimal] = field(default_factory=dict)
    fee_unit: str = "MON"         # UN/ECE rec. 20: MON a month, QAN a quarter
    carry_limit: int | None = None  # at most this many unused minutes go on (one period's allowance)


@dataclass(frozen=True)
class Usage:
    period_key: str
    active_days: int
    period_days: int
    minutes: int                                   # time entries in the period, not yet invoiced
    tickets: dict[str, int] = field(default_factory=dict)  # priority -> tickets created in the period


@dataclass(frozen=True)
class Amounts:
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxSummary, ...]
    line_total: Decimal
    tax_total: Decimal
    invoice_total: Decimal
    minutes_left: int             # included minutes not used


def round_money(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min"


def _fee_line(terms: Terms, usage: Usage) -> tuple[str, str, Decimal, str, Decimal, Decimal]:
    description = f"Service fee {usage.period_key}"
    if usage.active_days < usage.period_days:
        description += f" (pro rata {usage.active_days}/{usage.period_days} days)"
    amount = round_money(terms.fee * usage.active_days / usage.period_days, terms.quantum)
    return "fee", description, Decimal(1), terms.fee_unit, amount, amount


def _plan_lines(terms: Terms, usage: Usage) -> tuple[list[tuple[str, str, Decimal, str, Decimal, Decimal]], int]:
    """(kind, description, quantity, unit, unit price, net amount) per line, and the minutes left."""
    planned = [_fee_line(terms, usage)]
    beyond = max(0, usage.minutes - terms.included_minutes)
    if beyond and terms.hourly_rate:
        hours = (Decimal(beyond) / SIXTY).quantize(QUANTITY, rounding=ROUND_HALF_UP)
        net = round_money(terms.hourly_rate * beyond / SIXTY, terms.quantum)
        planned.append(("hours", f"Work beyond the included time: {_duration(beyond)}", hours, "HUR",
                        terms.hourly_rate, net))
    for priority in sorted(usage.tickets):
        price = terms.ticket_prices.get(priority)
        if price and (count := usage.tickets[priority]):
            planned.append(("ticket", f"Tickets of priority {priority}", Decimal(count), "C62", price,
                            round_money(price * count, terms.quantum)))
    unused = max(0, terms.included_minutes - usage.minutes)
    return planned, unused if terms.carry_limit is None else min(unused, terms.carry_limit)


def _taxes(lines: list[InvoiceLine], quantum: Decimal) -> tuple[TaxSummary, ...]:
    taxable: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        taxable[line.vat_rate, line.tax_category] += line.net_amount
    return tuple(TaxSummary(rate, category, amount, round_money(amount * rate / HUNDRED, quantum))
                 for (rate, category), amount in sorted(taxable.items()))


def compute_amounts(terms: Terms, usage: Usage) -> Amounts:
    planned, minutes_left = _plan_lines(terms, usage)
    lines = [InvoiceLine(number, kind, description, quantity, unit, price, net, terms.vat_rate, terms.tax_category)
             for number, (kind, description, quantity, unit, price, net) in enumerate(planned, start=1)]
    taxes = _taxes(lines, terms.quantum)
    line_total = sum((line.net_amount for line in lines), Decimal(0))
    tax_total = sum((tax.tax_amount for tax in taxes), Decimal(0))
    return Amounts(tuple(lines), taxes, line_total, tax_total, line_total + tax_total, minutes_left)
