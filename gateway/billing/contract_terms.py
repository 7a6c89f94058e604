"""Validation of a contract's billing fields: each value checked, with one line naming the problem.

Used by gateway/accounts/contracts.py for `contracts add` and `contracts edit`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from helpdesk.gateway.accounts.contact_details import normalize_country, normalize_email
from helpdesk.gateway.accounts.names import check_line, column_length
from helpdesk.gateway.billing.currencies import check_currency
from helpdesk.gateway.billing.edi_charsets import check_charset
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.store.account_tables import Contract

# UN/CEFACT 5305 duty/tax/fee category codes an invoice of services uses.
TAX_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B")
EDI_QUALIFIER = re.compile(r"[A-Z0-9]{1,4}")  # UNB 0007: 14 (GLN), ZZZ (mutually defined), 9, ...
BUYER_LINES = {"buyer_vat_number": "buyer VAT number", "buyer_legal_name": "buyer legal name",
               "buyer_street": "buyer street", "buyer_city": "buyer city", "buyer_postcode": "buyer postcode"}


def parse_money(value: str, what: str, limit: Decimal = Decimal("1e10")) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise UserError(f"{what} must be a number, got {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount >= limit:
        raise UserError(f"{what} must be a number from 0 to below {limit}, got {value!r}")
    return amount.quantize(Decimal("0.01"))


def parse_ticket_prices(value: str) -> str:
    """`high=25,highest=40.50` (or "" for none) -> the JSON stored: {"high": "25.00", ...}."""
    prices = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        priority, sep, amount = item.partition("=")
        priority = priority.strip().lower()
        if not sep or priority not in PRIORITIES:
            raise UserError(f"ticket price {item!r} must be PRIORITY=AMOUNT, priority one of {', '.join(PRIORITIES)}")
        prices[priority] = str(parse_money(amount.strip(), f"ticket price for {priority}"))
    return json.dumps(prices, sort_keys=True)


def check_billing_field(key: str, value):
    """The value to store for a billing field, or UserError; None when `key` is not a billing field."""
    if key == "currency":
        return check_currency(value.strip().upper())
    if key == "tax_category":
        if value.upper() not in TAX_CATEGORIES:
            raise UserError(f"tax category {value!r} is not one of {', '.join(TAX_CATEGORIES)} (UN/CEFACT 5305)")
        return value.upper()
    if key == "ticket_prices":
        return parse_ticket_prices(value)
    if key == "buyer_edi_qualifier":
        if not EDI_QUALIFIER.fullmatch(value.upper()):
            raise UserError(f"buyer EDI qualifier must be a code like 14 or ZZZ, got {value!r}")
        return value.upper()
    if key in BUYER_LINES:
        return check_line(value, BUYER_LINES[key], column_length(Contract, key))
    if key == "buyer_country":
        return normalize_country(value) if value else ""
    if key == "edi_address":
        return normalize_email(check_line(value, "EDI address", column_length(Contract, key))) if value else None
    if key == "edi_charset":
        try:
            return check_charset(value.upper())
        except ValueError as exc:
            raise UserError(str(exc)) from None
    return None
