"""Normalize and validate what people type about people: addresses, phone numbers, domains, locales."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from helpdesk.gateway.ground.errors import UserError

LOCALES = ("en", "pl", "cs", "ru", "hr", "de", "sk", "sl", "sr", "uk", "hu")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>(),;:\"\[\]]+@{_LABEL}(?:\.{_LABEL})+$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_email(value: str) -> str:
    address = value.strip().lower()
    if len(address) > 320 or not _EMAIL.match(address):
        raise UserError(f"malformed email address {value!r}")
    return address


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Any common notation -> E.164 ('+420601123456'); a national number needs a region."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        raise UserError(f"malformed phone number {value!r} (use international form, e.g. +420601123456)") from None
    if not phonenumbers.is_valid_number(number):
        raise UserError(f"invalid phone number {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
