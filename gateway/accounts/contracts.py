"""Service contracts of organizations: their period, SLA profile, guarantor and billing fields."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from helpdesk.gateway.accounts.directory import actor_for, find_org, find_user
from helpdesk.gateway.accounts.names import check_line, check_text, column_length
from helpdesk.gateway.accounts.permissions import decide
from helpdesk.gateway.billing.contract_terms import check_billing_field, parse_money
from helpdesk.gateway.ground.clock import utc_today
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import Contract, Organization, UserEmail

# monthly_fee is the fee per billing period: per quarter for a quarterly contract.
BILLING_PERIODS = ("monthly", "quarterly")
FLAGS = ("carry_over_minutes", "eancom", "requires_approval")
MONEY_FIELDS = ("monthly_fee", "hourly_rate", "vat_rate")
# One-line text fields and how errors name them; their widths come from the table.
LINE_FIELDS = {"sla_profile": "SLA profile", "buyer_edi_id": "buyer EDI id"}
NUMBER_MAX = column_length(Contract, "number")


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} must be a date like 2026-01-31, got {value!r}") from None


def find_contract(session: Session, number: str) -> Contract:
    contract = session.execute(select(Contract).where(Contract.number == number)).scalar_one_or_none()
    if contract is None:
        raise UserError(f"unknown contract {number!r}")
    return contract


def apply_fields(session: Session, contract: Contract, fields: dict) -> None:
    """Validate and set the given fields (None = unchanged); used by add and edit alike."""
    for key, value in fields.items():
        if value is None:
            continue
        if key in ("starts_on", "ends_on"):
            value = parse_date(value, key.replace("_", " "))
        elif key == "billing_period" and value not in BILLING_PERIODS:
            raise UserError(f"unknown billing period {value!r} (one of {', '.join(BILLING_PERIODS)})")
        elif key in MONEY_FIELDS:
            value = parse_money(value, key.replace("_", " "), Decimal(100) if key == "vat_rate" else Decimal("1e10"))
        elif key in ("included_minutes", "payment_terms_days") and not 0 <= value <= 10**9:
            raise UserError(f"{key.replace('_', ' ')} must be between 0 and 1000000000")
        elif (checked := check_billing_field(key, value)) is not None or key == "edi_address":
            value = checked
        elif key in FLAGS:
            value = bool(value)
        elif key in LINE_FIELDS:
            value = check_line(value, LINE_FIELDS[key], column_length(Contract, key))
        elif key == "notes":
            value = check_text(value, "notes")
        elif key == "guarantor":
            guarantor = find_user(session, value)
            allowed = decide(actor_for(session, guarantor), "contract.guarantor")
            if not allowed:
                raise UserError(f"guarantor {value} must be a technician ({allowed.reason})")
            key, value = "guarantor_id", guarantor.id
        setattr(contract, key, value)
    if contract.ends_on and contract.ends_on < contract.starts_on:
        raise UserError("a contract cannot end before it starts")


def add_contract(session: Session, organization: str, number: str, fields: dict) -> Contract:
    org = find_org(session, organization)
    number = check_line(number, "contract number", NUMBER_MAX, missing="a contract needs a number")
    if session.execute(select(Contract.id).where(Contract.number == number)).first():
        raise UserError(f"contract {number!r} already exists")
    if not fields.get("starts_on"):
        raise UserError("a contract needs a start date (--start)")
    contract = Contract(organization_id=org.id, number=number, starts_on=utc_today())
    apply_fields(session, contract, fields)
    session.add(contract)
    return contract


def contract_view(session: Session, contract: Contract) -> dict:
    org = session.get(Organization, contract.organization_id)
    guarantor = None
    if contract.guarantor_id:
        guarantor = session.execute(select(UserEmail.address).where(UserEmail.user_id == contract.guarantor_id)
                                    .order_by(UserEmail.is_primary.desc())).scalars().first()
    return {"number": contract.number, "organization": org.name, "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat() if contract.ends_on else None,
            "billing_period": contract.billing_period, "sla_profile": contract.sla_profile,
            "guarantor": guarantor, "currency": contract.currency, "monthly_fee": str(contract.monthly_fee),
            "hourly_rate": str(contract.hourly_rate), "included_minutes": contract.included_minutes,
            "vat_rate": str(contract.vat_rate), "payment_terms_days": contract.payment_terms_days,
            "buyer_edi_id": contract.buyer_edi_id, "notes": contract.notes, **billing_view(contract)}


def billing_view(contract: Contract) -> dict:
    return {"tax_category": contract.tax_category, "carry_over_minutes": contract.carry_over_minutes,
            "ticket_prices": json.loads(contract.ticket_prices or "{}"),
            "buyer_edi_qualifier": contract.buyer_edi_qualifier, "buyer_vat_number": contract.buyer_vat_number,
            "buyer_legal_name": contract.buyer_legal_name, "buyer_street": contract.buyer_street,
            "buyer_city": contract.buyer_city, "buyer_postcode": contract.buyer_postcode,
            "buyer_country": contract.buyer_country, "edi_address": contract.edi_address,
            "edi_charset": contract.edi_charset, "eancom": contract.eancom,
            "requires_approval": contract.requires_approval}


def list_contracts(session: Session, organization: str | None = None) -> list[dict]:
    query = select(Contract).order_by(Contract.number)
    if organization:
        query = query.where(Contract.organization_id == find_org(session, organization).id)
    return [contract_view(session, c) for c in session.execute(query).scalars()]
