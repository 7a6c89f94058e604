"""`helpdesk contracts ...`: service contracts of organizations."""

from __future__ import annotations

import typer

from helpdesk.app.commands.console import confirm, session_scope, settings, show
from helpdesk.gateway.accounts.contracts import (
    BILLING_PERIODS,
    add_contract,
    apply_fields,
    contract_view,
    find_contract,
    list_contracts,
)
from helpdesk.gateway.ground.clock import utc_today
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.gateway.sla.contract_change import follow_contract_change, unknown_profile_warning

app = typer.Typer(help="Service contracts.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
NUMBER = typer.Argument(..., metavar="NUMBER", help="The contract number, e.g. ACME-2026-01.")


def _fields(start, end, period, sla, guarantor, currency, monthly_fee, hourly_rate, included_minutes, vat_rate,
            payment_terms_days, buyer_edi_id, notes, billing: dict) -> dict:
    return {"starts_on": start, "ends_on": end, "billing_period": period, "sla_profile": sla,
            "guarantor": guarantor, "currency": currency, "monthly_fee": monthly_fee, "hourly_rate": hourly_rate,
            "included_minutes": included_minutes, "vat_rate": vat_rate, "payment_terms_days": payment_terms_days,
            "buyer_edi_id": buyer_edi_id, "notes": notes, **billing}


def _billing(tax_category, carry_over, ticket_prices, buyer_edi_qualifier, buyer_vat, buyer_name, buyer_street,
             buyer_city, buyer_postcode, buyer_country, edi_address, edi_charset, eancom, requires_approval) -> dict:
    return {"tax_category": tax_category, "carry_over_minutes": carry_over, "ticket_prices": ticket_prices,
            "buyer_edi_qualifier": buyer_edi_qualifier, "buyer_vat_number": buyer_vat, "buyer_legal_name": buyer_name,
            "buyer_street": buyer_street, "buyer_city": buyer_city, "buyer_postcode": buyer_postcode,
            "buyer_country": buyer_country, "edi_address": edi_address, "edi_charset": edi_charset,
            "eancom": eancom, "requires_approval": requires_approval}


# The same options for add and edit; None means "not given" (edit leaves the field alone).
START = typer.Option(None, "--start", metavar="DATE", help="First day, YYYY-MM-DD.")
START_REQUIRED = typer.Option(..., "--start", metavar="DATE", help="First day, YYYY-MM-DD.")
END = typer.Option(None, "--end", metavar="DATE", help="Last day, YYYY-MM-DD.")
PERIOD = typer.Option(None, "--period", metavar="PERIOD", help=f"Billing period: {', '.join(BILLING_PERIODS)}.")
SLA = typer.Option(None, "--sla", metavar="PROFILE", help="SLA profile name.")
GUARANTOR = typer.Option(None, "--guarantor", metavar="USER", help="Technician responsible (email or id).")
CURRENCY = typer.Option(None, metavar="CODE", help="ISO 4217 code, e.g. EUR.")
FEE = typer.Option(None, "--monthly-fee", "--period-fee", metavar="AMOUNT",
                   help="Fixed fee per billing period (per quarter for a quarterly contract).")
RATE = typer.Option(None, "--hourly-rate", metavar="AMOUNT", help="Price of an hour of work beyond the included time.")
INCLUDED = typer.Option(None, "--included-minutes", min=0, max=10**9, metavar="MINUTES",
                        help="Minutes of work included per billing period (0 to 1000000000).")
VAT = typer.Option(None, "--vat-rate", metavar="PERCENT", help="VAT in percent.")
TERMS = typer.Option(None, "--payment-terms-days", min=0, max=3650, metavar="DAYS",
                     help="Days the client has to pay an invoice (0 to 3650).")
EDI = typer.Option(None, "--buyer-edi-id", metavar="ID", help="Buyer's id in EDIFACT invoices (e.g. GLN).")
NOTES = typer.Option(None, "--notes", metavar="TEXT", help="Free text for people reading the contract.")
TAX_CATEGORY = typer.Option(None, "--tax-category", metavar="CODE",
                            help="VAT category (UN/CEFACT 5305): S standard, Z zero, E exempt, AE reverse charge, ...")
CARRY = typer.Option(None, "--carry-over/--no-carry-over", help="Unused included minutes go on to the next period.")
TICKET_PRICES = typer.Option(None, "--ticket-prices", metavar="PRIORITY=AMOUNT,...",
                             help='Price per ticket created in the period, by priority, e.g. "high=25,highest=40" '
                                  '("" for none).')
QUALIFIER = typer.Option(None, "--buyer-edi-qualifier", metavar="CODE", help="Code list of the buyer's EDI id: 14 "
                         "(GLN), ZZZ (mutually defined), ...")
BUYER_VAT = typer.Option(None, "--buyer-vat", metavar="NUMBER", help="Buyer's VAT number.")
BUYER_NAME = typer.Option(None, "--buyer-name", metavar="NAME", help="Buyer's legal name (else the organization's).")
BUYER_STREET = typer.Option(None, "--buyer-street", metavar="TEXT", help="Buyer's street and number.")
BUYER_CITY = typer.Option(None, "--buyer-city", metavar="TEXT", help="Buyer's city.")
BUYER_POSTCODE = typer.Option(None, "--buyer-postcode", metavar="TEXT", help="Buyer's postcode.")
BUYER_COUNTRY = typer.Option(None, "--buyer-country", metavar="CC", help="ISO 3166 alpha-2, e.g. CZ.")
EDI_ADDRESS = typer.Option(None, "--edi-address", metavar="EMAIL", help="The client's EDI inbox: where invoices go.")
CHARSET = typer.Option(None, "--edi-charset", metavar="UNOC", help="Character set agreed: UNOC (default), UNOD, UNOE, "
                       "UNOW, UNOY.")
EANCOM = typer.Option(None, "--eancom/--no-eancom", help="The partner reads EANCOM INVOIC.")
APPROVAL = typer.Option(None, "--requires-approval/--no-approval",
                        help="Each invoice waits for a fin-admin of the organization to approve it.")


def _sla_config():
    """The SLA section of the rules the service runs with: a contract's profile must be one of them."""
    return load_rules(settings().rules).sla


def _retime(session, config, contract) -> str:
    if warning := unknown_profile_warning(config, contract.sla_profile):
        typer.echo(warning, err=True)
    count, profile = follow_contract_change(session, config, contract.organization_id, utc_today())
    return f"; {count} open ticket(s) of the organization now follow SLA profile {profile}" if count else ""


@app.command("add")
def add(number: str = NUMBER, org: str = typer.Option(..., "--org", metavar="ORG", help="Organization (name or id)."),
        start: str = START_REQUIRED, end: str = END, period: str = PERIOD, sla: str = SLA, guarantor: str = GUARANTOR,
        currency: str = CURRENCY, monthly_fee: str = FEE, hourly_rate: str = RATE, included_minutes: int = INCLUDED,
        vat_rate: str = VAT, payment_terms_days: int = TERMS, buyer_edi_id: str = EDI, notes: str = NOTES,
        tax_category: str = TAX_CATEGORY, carry_over: bool = CARRY, ticket_prices: str = TICKET_PRICES,
        buyer_edi_qualifier: str = QUALIFIER, buyer_vat: str = BUYER_VAT, buyer_name: str = BUYER_NAME,
        buyer_street: str = BUYER_STREET, buyer_city: str = BUYER_CITY, buyer_postcode: str = BUYER_POSTCODE,
        buyer_country: str = BUYER_COUNTRY, edi_address: str = EDI_ADDRESS, edi_charset: str = CHARSET,
        eancom: bool = EANCOM, requires_approval: bool = APPROVAL) -> None:
    """Add a contract."""
    fields = _fields(start, end, period, sla, guarantor, currency, monthly_fee, hourly_rate, included_minutes,
                     vat_rate, payment_terms_days, buyer_edi_id, notes,
                     _billing(tax_category, carry_over, ticket_prices, buyer_edi_qualifier, buyer_vat, buyer_name,
                              buyer_street, buyer_city, buyer_postcode, buyer_country, edi_address, edi_charset,
                              eancom, requires_approval))
    config = _sla_config()
    with session_scope() as session:
        contract = add_contract(session, org, number, fields)
        moved = _retime(session, config, contract)
    typer.echo(f"contract {number} added{moved}")


@app.command("list")
def list_cmd(org: str = typer.Option(None, "--org", metavar="ORG", help="Only this organization's contracts."),
             as_json: bool = JSON) -> None:
    """Contracts, optionally of one organization."""
    with session_scope(read_only=True) as session:
        rows = list_contracts(session, org)
    show(rows, as_json, ["number", "organization", "starts_on", "ends_on", "billing_period", "sla_profile",
                         "guarantor"], "Contracts")


@app.command("show")
def show_cmd(number: str = NUMBER, as_json: bool = JSON) -> None:
    """One contract with its billing fields."""
    with session_scope(read_only=True) as session:
        data = contract_view(session, find_contract(session, number))
    show(data, as_json)


@app.command("edit")
def edit(number: str = NUMBER, start: str = START, end: str = END, period: str = PERIOD, sla: str = SLA,
         guarantor: str = GUARANTOR, currency: str = CURRENCY, monthly_fee: str = FEE, hourly_rate: str = RATE,
         included_minutes: int = INCLUDED, vat_rate: str = VAT, payment_terms_days: int = TERMS,
         buyer_edi_id: str = EDI, notes: str = NOTES,
         tax_category: str = TAX_CATEGORY, carry_over: bool = CARRY, ticket_prices: str = TICKET_PRICES,
         buyer_edi_qualifier: str = QUALIFIER, buyer_vat: str = BUYER_VAT, buyer_name: str = BUYER_NAME,
         buyer_street: str = BUYER_STREET, buyer_city: str = BUYER_CITY, buyer_postcode: str = BUYER_POSTCODE,
         buyer_country: str = BUYER_COUNTRY, edi_address: str = EDI_ADDRESS, edi_charset: str = CHARSET,
         eancom: bool = EANCOM, requires_approval: bool = APPROVAL) -> None:
    """Change a contract's fields."""
    fields = _fields(start, end, period, sla, guarantor, currency, monthly_fee, hourly_rate, included_minutes,
                     vat_rate, payment_terms_days, buyer_edi_id, notes,
                     _billing(tax_category, carry_over, ticket_prices, buyer_edi_qualifier, buyer_vat, buyer_name,
                              buyer_street, buyer_city, buyer_postcode, buyer_country, edi_address, edi_charset,
                              eancom, requires_approval))
    config = _sla_config()
    with session_scope() as session:
        contract = find_contract(session, number)
        apply_fields(session, contract, fields)
        moved = _retime(session, config, contract)
    typer.echo(f"contract {number} updated{moved}")


@app.command("end")
def end(number: str = NUMBER,
        on: str = typer.Option(None, "--on", metavar="DATE", help="Last day (default today), YYYY-MM-DD."),
        yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """End a contract on a given day."""
    last_day = on or utc_today().isoformat()
    confirm(f"End contract {number} on {last_day}?", yes)
    with session_scope() as session:
        apply_fields(session, find_contract(session, number), {"ends_on": last_day})
    typer.echo(f"contract {number} ends on {last_day}")
