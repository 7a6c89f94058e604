"""Values as EDIFACT data elements hold them: text fitted to the charset and the directory's
lengths, numbers with a decimal point and no exponent, the service characters of each syntax version.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydifact.control.characters import Characters

from helpdesk.gateway.billing.currencies import quantum
from helpdesk.gateway.billing.edi_charsets import fit_to_charset

# ISO 9735 v4 gives the reserved UNA position to the repetition separator, "*" by default; v3
# leaves it a space. We write the decimal point as "." (pydifact's default is ",").
UNA_V3 = ":+.? '"
UNA_V4 = ":+.?*'"


class ServiceCharacters(Characters):
    """pydifact's control characters, with the repetition separator escaped too when there is one:
    a "*" in a v4 name would otherwise split the element into repeats."""

    @property
    def escaped_syntax_dic(self) -> dict[str, str]:
        escapes = dict(super().escaped_syntax_dic)
        if self.reserved_character.strip():
            escapes[self.reserved_character] = self.escape_character + self.reserved_character
        return escapes


def service_characters(syntax_version: int) -> ServiceCharacters:
    return ServiceCharacters.from_str(UNA_V4 if syntax_version >= 4 else UNA_V3)


def text(charset: str, value: str, max_length: int) -> str:
    """A one-line text element: fitted to the charset, spaces collapsed, cut at the directory's length."""
    fitted = " ".join(fit_to_charset(charset, value).split())
    return fitted[:max_length].rstrip()


def text_components(charset: str, value: str, width: int, count: int) -> list[str]:
    """A long text spread over up to `count` components of `width` characters (C080 party name:
    5 x an..35; C273 item description: 2 x an..35), broken at spaces where one is near; what
    does not fit in all of them is cut."""
    remaining = " ".join(fit_to_charset(charset, value).split())
    parts: list[str] = []
    while remaining and len(parts) < count:
        if len(remaining) <= width:
            parts.append(remaining)
            break
        cut = remaining.rfind(" ", width // 2, width + 1)
        cut = cut if cut > 0 else width
        parts.append(remaining[:cut].rstrip())
        remaining = remaining[cut:].lstrip()
    return parts


def amount(value: Decimal, currency: str) -> str:
    """A monetary amount in the currency's minor unit: "1234.50", "1200" for JPY; half-up."""
    return _plain(value.quantize(quantum(currency), rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> str:
    """A quantity or a rate as written: "2", "1.5", "0.25" (trailing zeros dropped)."""
    return _plain(value.normalize()) if value != value.to_integral_value() else _plain(value.quantize(1))


def price(value: Decimal, currency: str) -> str:
    """A unit price with at least the currency's decimals, more when the price has them."""
    minimum = quantum(currency)
    if value.as_tuple().exponent < minimum.as_tuple().exponent:  # type: ignore[operator]
        return _plain(value.normalize())
    return _plain(value.quantize(minimum, rounding=ROUND_HALF_UP))


def _plain(value: Decimal) -> str:
    # "f" never writes an exponent (Decimal("1E+2") -> "100") nor a thousands separator; a zero
    # is written without the sign a negative zero would keep.
    return format(abs(value) if value.is_zero() else value, "f")
