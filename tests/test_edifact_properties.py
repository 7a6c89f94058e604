"""Properties of EDIFACT interchanges over random invoices: random lines, quantities, prices, VAT
rates, currencies, names with service characters and non-Latin letters, every character set. Each
one passes the directory-built checker, parses back to the names as fitted to its charset, and its
MOA amounts add up; encode_for never fails and never writes a "?" the text did not have."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydifact.parser import Parser

from helpdesk.gateway.billing.edi_charsets import CODECS, LEVEL_B, encode_for, fit_to_charset
from helpdesk.gateway.billing.edifact import build_interchange
from tests.edifact_directory import check_interchange
from tests.edifact_directory.sample_documents import BUYER, SUPPLIER, LineSpec, make_document, quantum

NOW = datetime(2026, 11, 30, 23, 59)
SERVICE = "'+:?*"
LETTERS = "aZłŁřŘčšžćđĐąęóźżěůňťďÄöüßéèçñøåæЖжщЩыЁёюяΩωλάέ株式会社€«»’–…"
CONTROL = "\r\n\t\x00\x7f\u2028\ud800"
name_text = st.text(
    alphabet=st.sampled_from(SERVICE + LETTERS + CONTROL + " .,-/&%") | st.characters(codec="utf-8"),
    min_size=1, max_size=90,
).filter(lambda name: name.strip())
decimals = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.999"), places=3)
line_specs = st.builds(
    LineSpec,
    description=name_text,
    quantity=st.decimals(min_value=Decimal("0.25"), max_value=Decimal("999.75"), places=2),
    unit_price=decimals,
    vat_rate=st.sampled_from([Decimal(r) for r in (0, 5, 8, 21, 23, 25)]),
    unit=st.sampled_from(["HUR", "MON", "C62"]),
)
documents = st.builds(
    lambda lines, charset, currency, buyer_name, supplier_name: make_document(
        lines, charset=charset, currency=currency,
        buyer=dataclasses.replace(BUYER, name=buyer_name), supplier=dataclasses.replace(SUPPLIER, name=supplier_name)),
    lines=st.lists(line_specs, min_size=1, max_size=12),
    charset=st.sampled_from(list(CODECS)),
    currency=st.sampled_from(["EUR", "PLN", "CZK", "JPY", "KWD"]),
    buyer_name=name_text,
    supplier_name=name_text,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(data: bytes, charset: str) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(Parser().parse(data.decode(CODECS[charset])))


def joined(value) -> str:
    return " ".join(value) if isinstance(value, list) else value


@SETTINGS
@given(documents)
def test_every_random_invoice_passes_the_checker_and_reads_back(doc):
    data = build_interchange(doc, now=NOW)
    assert check_interchange(data) == []
    segments = parse(data, doc.charset)
    supplier, buyer = (s for s in segments if s.tag == "NAD")
    for nad, party in ((supplier, doc.supplier), (buyer, doc.buyer)):
        # A name of control characters only is no name: NAD then names the party by its id.
        fitted = " ".join(fit_to_charset(doc.charset, party.name).split()) or party.edi_id
        if len(fitted) <= 35:
            assert nad[3] == fitted
        else:  # spread over C080's components, each cut at a word boundary where there is one
            assert fitted.replace(" ", "").startswith(joined(nad[3]).replace(" ", ""))
    descriptions = [joined(s[2][3:]) for s in segments if s.tag == "IMD"]
    assert len(descriptions) == len(doc.lines)


@SETTINGS
@given(documents)
def test_moa_amounts_add_up(doc):
    segments = parse(build_interchange(doc, now=NOW), doc.charset)
    q = quantum(doc.currency)
    tags = [s.tag for s in segments]
    lines = [segments[i + 1:i + 6] for i, tag in enumerate(tags) if tag == "LIN"]
    nets = []
    for imd, qty, moa, pri, tax in lines:
        net = Decimal(moa[0][1])
        assert net == (Decimal(qty[0][1]) * Decimal(pri[0][1])).quantize(q, rounding=ROUND_HALF_UP)
        nets.append((Decimal(tax[4][3]), net))
    summary = segments[tags.index("UNS"):]
    totals = {s[0][0]: Decimal(s[0][1]) for s in summary[2:6]}
    assert totals["79"] == totals["125"] == sum(net for _, net in nets)
    taxes = {}
    for i, segment in enumerate(summary):
        if segment.tag == "TAX":
            rate, taxable, tax = Decimal(segment[4][3]), Decimal(summary[i + 1][0][1]), Decimal(summary[i + 2][0][1])
            assert taxable == sum(net for r, net in nets if r == rate)
            assert tax == (taxable * rate / 100).quantize(q, rounding=ROUND_HALF_UP)
            taxes[rate] = tax
    assert set(taxes) == {rate for rate, _ in nets}
    assert totals["176"] == sum(taxes.values())
    assert totals["77"] == totals["125"] + totals["176"]
    assert int(segments[tags.index("CNT")][0][1]) == len(lines) == len(doc.lines)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(CODECS)), st.text(alphabet=st.sampled_from(SERVICE + LETTERS + CONTROL)
                                             | st.characters(codec="utf-8") | st.characters()))
def test_encode_for_holds_anything_without_a_stray_question_mark(charset, text):
    data = encode_for(charset, text)
    decoded = data.decode(CODECS[charset])
    assert decoded.count("?") == text.count("?")
    assert not any(c in decoded for c in "\r\n\t\x00")
    if charset in ("UNOA", "UNOB"):
        assert set(decoded) <= LEVEL_B and (charset == "UNOB" or decoded == decoded.upper())
