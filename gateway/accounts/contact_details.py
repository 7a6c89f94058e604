"""Normalize and validate what people type about people: addresses, phone numbers, domains, locales."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from helpdesk.gateway.ground.errors import UserError

# The languages there are mail templates for (templates/*/<locale>.txt.j2): a locale without them
# would silently get English, so it is refused where it is typed.
LOCALES = ("en", "pl", "cs", "ru", "hr")
# Where a locale is spoken as a country: a national phone number is read as from there.
COUNTRY_OF_LOCALE = {"pl": "PL", "cs": "CZ", "hr": "HR", "ru": "RU"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>(),;:\"\[\]]+@{_LABEL}(?:\.{_LABEL})+$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_email(value: str) -> str:
    address = value.strip().lower()
    if len(address) > 320 or not _EMAIL.match(address):
        raise UserError(f"malformed email address {value!r}")
    return address


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Any common notation -> E.164 ('+420601123456'); a national number ('601 234 567') is read
    as from default_region (an ISO 3166 country code such as 'PL')."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        hint = "" if default_region else ", or give its country: --country PL"
        raise UserError(f"malformed phone number {value!r} (use international form, e.g. +420601123456{hint})"
                        ) from None
    if not phonenumbers.is_valid_number(number):
        where = f" in {default_region}" if default_region and not value.strip().startswith("+") else ""
        raise UserError(f"invalid phone number {value!r}{where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_country(value: str) -> str:
    """An ISO 3166 alpha-2 country code, as phone numbers are read with: 'pl' -> 'PL'."""
    country = value.strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise UserError(f"unknown country {value!r} (an ISO 3166 code such as PL, CZ, HR)")
    return country


def country_of_locale(locale: str | None) -> str | None:
    return COUNTRY_OF_LOCALE.get(locale or "")


def normalize_domain(value: str) -> str:
    domain = value.strip().lower().lstrip("@")
    if not _DOMAIN.match(domain):
        raise UserError(f"malformed mail domain {value!r}")
    return domain


def normalize_locale(value: str) -> str:
    locale = value.strip().lower()
    if locale not in LOCALES:
        raise UserError(f"unknown locale {value!r} (one of {', '.join(LOCALES)})")
    return locale


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown timezone {value!r} (e.g. Europe/Prague)") from None
    return value
