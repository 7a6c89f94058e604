"""The ISO 4217 currencies an invoice may be written in, with the number of decimals (minor unit)
each is rounded and written to.

The table holds the currencies a European provider bills in (the euro, the other currencies of the
EU and EEA, the European neighbours, and the few world currencies partners ask for), taken from
ISO 4217's list one (the "minor unit" column). Codes withdrawn when their country joined the euro
(HRK in 2023, BGN in 2026) are left out: a new invoice in one is a configuration mistake, refused by
`check_currency` rather than sent to a partner who would reject it.
"""

from __future__ import annotations

from decimal import Decimal

from helpdesk.gateway.ground.errors import UserError

MINOR_UNITS: dict[str, int] = {
    # the euro and the EU currencies outside it
    "EUR": 2, "CZK": 2, "DKK": 2, "HUF": 2, "PLN": 2, "RON": 2, "SEK": 2,
    # EEA, EFTA and the United Kingdom; ISK has no minor unit in ISO 4217
    "CHF": 2, "GBP": 2, "ISK": 0, "NOK": 2,
    # European neighbours
    "ALL": 2, "BAM": 2, "BYN": 2, "GEL": 2, "MDL": 2, "MKD": 2, "RSD": 2, "RUB": 2, "TRY": 2, "UAH": 2,
    # world currencies partners ask for; JPY and KRW have none, the Gulf dinars three
    "AUD": 2, "CAD": 2, "CNY": 2, "JPY": 0, "KRW": 0, "USD": 2, "BHD": 3, "KWD": 3, "OMR": 3,
}


def check_currency(code: str) -> str:
    """The ISO 4217 code, checked against the table; UserError naming the problem otherwise."""
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isalpha():
        raise UserError(f"currency {code!r} is not an ISO 4217 code (three letters, e.g. EUR)")
    if code not in MINOR_UNITS:
        if code.upper() in MINOR_UNITS:
            raise UserError(f"currency {code!r} must be written in capitals: {code.upper()}")
        raise UserError(f"currency {code!r} is not one we bill in (known: {', '.join(sorted(MINOR_UNITS))})")
    return code


def minor_unit(currency: str) -> int:
    """How many decimals amounts in the currency carry (2 for EUR, 0 for JPY, 3 for KWD)."""
    return MINOR_UNITS[check_currency(currency)]


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency, for Decimal.quantize: Decimal('0.01') for EUR."""
    return Decimal(1).scaleb(-minor_unit(currency))
