"""Approval of invoices through the real gateway: the fin-admin's request arrives at the real SMTP
sink with a signed Reply-To, `#approve` sent back to it releases the EDI mail (its EDIFACT
attachment parsed back with pydifact), `#reject <reason>` goes to the provider's admins, and a
forged fin-admin changes nothing and gets nothing. Both databases."""

from __future__ import annotations

import warnings
from decimal import Decimal

from pydifact.parser import Parser
from sqlalchemy import text

from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.billing.period_run import run_period
from helpdesk.gateway.billing.periods import parse_period
from helpdesk.gateway.routing.rules import load_rules
from tests.mail import client_mail, send, wait_until
from tests.test_invoices_run import BOSS, EVA, JAN, NOW, at, contract, seed, ticket, work
from tests.workflow import Inbox

NUMBER = "2026-000001"
PROVIDER = dict(provider_legal_name="Provider a.s.", provider_edi_id="8590000000008", provider_edi_qualifier="14",
                provider_vat_number="CZ12345678", provider_country="CZ", provider_city="Praha")


def awaiting(engine, make_settings, start_gateway):
    """Acme's October invoice waiting for Eva, and the gateway running; returns it and the inbox."""
    seed(engine)
    contract(engine, "ACME-1", monthly_fee="1000", hourly_rate="80", included_minutes=0, requires_approval=True,
             buyer_edi_id="8591234000007", buyer_edi_qualifier="14", buyer_vat_number="CZ87654321",
             buyer_legal_name="Acme s.r.o. + Partneři: 'Ostrava'", buyer_city="Ostrava", buyer_country="CZ")
    work(engine, ticket(engine, at(3)), 90, at(3))
    s = make_settings(**PROVIDER)
    report = run_period(engine, make_pipeline_context(s, lambda: load_rules(s.rules)), parse_period("2026-10"), NOW)
    assert report.created == [NUMBER] and report.awaiting_approval == 1
    return start_gateway(s)


def status(engine) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, decided_by FROM invoice WHERE number = :n"), {"n": NUMBER}).one()
    return tuple(row)


def answer(gw, reply_to: str, body: str, sender: str = f"Eva Svobodová <{EVA}>") -> None:
    send(gw.port, client_mail(subject=f"Re: [{NUMBER}] Faktura", body=body, sender=sender, to=reply_to))


def edi_attachment(message):
    [part] = list(message.iter_attachments())
    return part


def test_a_fin_admin_approves_by_mail_and_the_edi_mail_goes_out(engine, make_settings, start_gateway, sink, db):
    gw, inbox = awaiting(engine, make_settings, start_gateway), Inbox(sink)
    request = inbox.next()[EVA].message
    assert "čeká na Vaše schválení" in request["Subject"] and f"[{NUMBER}]" in request["Subject"]
    assert "#approve" in request.get_content() and "1120.00 EUR" not in request.get_content()
    reply_to = request["Reply-To"]
    assert f"+r-inv-{NUMBER}-" in reply_to
    answer(gw, reply_to, "#approve\n\nS pozdravem\nEva\n")
    edi = inbox.next()["edi@acme.example"].message
    assert status(engine) == ("approved", EVA)
    assert f"Faktura {NUMBER}" in edi["Subject"]
    part = edi_attachment(edi)
    assert part.get_content_type() == "application/edifact" and part.get_filename() == f"{NUMBER}.edi"
    raw = part.get_payload(decode=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydifact has no D.96A definitions of its own
        segments = list(Parser().parse(raw.decode("iso-8859-1")))  # UNOC is ISO 8859-1
    assert raw.startswith(b"UNA:+.? 'UNB+UNOC:3+8590000000008:14+8591234000007:14+")
    [bgm] = [s for s in segments if s.tag == "BGM"]
    assert bgm.elements[1] == NUMBER
    totals = {m.elements[0][0]: Decimal(m.elements[0][1]) for m in segments if m.tag == "MOA"}
    # 1000.00 fee + 1.5 h * 80 = 120.00; VAT 21 % on 1120.00 = 235.20
    assert totals["79"] == Decimal("1120.00") and totals["77"] == Decimal("1355.20")
    [buyer] = [s for s in segments if s.tag == "NAD" and s.elements[0] == "BY"]
    # service characters escaped and read back; UNOC has no ř, so the contract's charset transliterates it
    assert buyer.elements[:4] == ["BY", ["8591234000007", "", "9"], "", "Acme s.r.o. + Partneri: 'Ostrava'"]
    assert {s.tag for s in segments} >= {"UNB", "UNH", "NAD", "LIN", "UNS", "UNT", "UNZ"}
    assert len(db.tickets()) == 1  # the ticket worked on; the answer made none
    inbox.nothing_more(db)


def test_a_forged_fin_admin_changes_nothing_and_gets_no_answer(engine, make_settings, start_gateway, sink, db):
    gw, inbox = awaiting(engine, make_settings, start_gateway), Inbox(sink)
    reply_to = inbox.next()[EVA].message["Reply-To"]
    forged_token = reply_to.replace(reply_to.split("-")[-1].split("@")[0], "a" * 16)
    answer(gw, forged_token, "#approve\n")                         # a guessed signature, From Eva
    answer(gw, reply_to, "#approve\n", sender=f"Jan <{JAN}>")     # Eva's address, used by someone else
    rows = db.processed(2)
    assert status(engine) == ("awaiting-approval", None)
    logs = "\n".join(r.processing_log or "" for r in rows)
    assert "sender not proven" in logs and len(db.tickets()) == 1
    inbox.nothing_more(db)  # no backscatter to the addresses written in From


def test_a_rejection_by_mail_goes_to_the_providers_admins(engine, make_settings, start_gateway, sink, db):
    gw, inbox = awaiting(engine, make_settings, start_gateway), Inbox(sink)
    reply_to = inbox.next()[EVA].message["Reply-To"]
    answer(gw, reply_to, "Hello\n")  # not an answer: Eva is told why, with the request again
    again = inbox.next()[EVA].message
    assert "nebylo možné provést" in again.get_content() and again["Reply-To"] == reply_to
    assert "\nNaše faktura č." in again.get_content()  # a new sentence after the list of errors
    answer(gw, reply_to, "#reject the hours of 3 October\nwere not agreed\n\nEva\n")
    notice = inbox.next()[BOSS].message
    assert status(engine) == ("rejected", EVA)
    assert "rejected" in notice["Subject"] and "the hours of 3 October were not agreed" in notice.get_content()
    wait_until(lambda: len(db.processed(2)) == 2)
    answer(gw, reply_to, "#approve\n")  # decided already: nothing changes
    db.processed(3)
    assert status(engine) == ("rejected", EVA)
