"""EDIFACT INVOIC D.96A interchanges: parsed back with pydifact, segment by segment; counts, control
references and amounts; character sets; service characters; and the directory-built checker, which
passes what we build and catches what is wrong."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pydifact.parser import Parser
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from helpdesk.gateway.billing.currencies import check_currency, minor_unit
from helpdesk.gateway.billing.edi_charsets import CODECS, encode_for
from helpdesk.gateway.billing.edifact import build_interchange, build_segments, describe_segments
from helpdesk.gateway.billing.edifact_values import service_characters
from helpdesk.gateway.ground.errors import UserError
from tests.edifact_directory import check_interchange
from tests.edifact_directory.sample_documents import BUYER, LineSpec, make_document, quantum

NOW = datetime(2026, 11, 1, 6, 30)
LINES = [
    LineSpec("Monthly fee, October 2026", Decimal("1"), Decimal("1000.00"), unit="MON", kind="fee"),
    LineSpec("Hours beyond the included 10", Decimal("2.5"), Decimal("80.10")),
    LineSpec("Ticket HD#17, priority high", Decimal("3"), Decimal("33.333"), Decimal("8"), unit="C62"),
    LineSpec("Training materials", Decimal("1"), Decimal("19.99"), Decimal("0"), unit="C62"),
]


def parse(data: bytes, charset: str = "UNOC") -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydifact warns that it has no D.96A definitions of its own
        return list(Parser().parse(data.decode(CODECS[charset])))


def by_tag(segments: list, tag: str) -> list:
    return [s for s in segments if s.tag == tag]


def test_every_segment_parses_back_as_built():
    doc = make_document(LINES)
    data = build_interchange(doc, now=NOW)
    parsed = parse(data)
    assert data.startswith(b"UNA:+.? 'UNB+UNOC:3+5901234123457:14+CLIENT-0042:ZZZ+261101:0630+INV000123'")
    assert [(s.tag, s.elements) for s in parsed[1:]] == [(s.tag, s.elements) for s in build_segments(doc, now=NOW)]
    expected_heading = [
        ("UNH", ["INV000123", ["INVOIC", "D", "96A", "UN"]]),
        ("BGM", ["380", "FV/2026/000123", "9"]),
        ("DTM", [["137", "20261101", "102"]]),
        ("DTM", [["263", "20261001-20261031", "718"]]),
        ("RFF", [["CT", "K-2026-17"]]),
        # 36 characters: C080 3036 holds 35, so the name goes on in the next component.
        ("NAD", ["SU", ["5901234123457", "", "9"], "", ["Serwis Pomocy Technicznej sp. z", "o.o."],
                 "ul. Piotrkowska 104", "Lódz", "", "90-926", "PL"]),
        ("RFF", [["VA", "PL7251234567"]]),
        ("NAD", ["BY", ["CLIENT-0042", "", "ZZZ"], "", "Dvorák a syn, s.r.o.", "Námestí Míru 15", "Brno", "",
                 "60200", "CZ"]),
        ("RFF", [["VA", "CZ25596641"]]),
        ("CUX", [["2", "EUR", "4"]]),
        ("PAT", ["1", "", ["5", "3", "D", "14"]]),
        ("DTM", [["13", "20261115", "102"]]),
    ]
    assert [(s.tag, s.elements) for s in parsed[2:14]] == expected_heading
    assert [(s.tag, s.elements) for s in parsed[14:20]] == [
        ("LIN", ["1"]),
        ("IMD", ["F", "", ["", "", "", "Monthly fee, October 2026"]]),
        ("QTY", [["47", "1", "MON"]]),
        ("MOA", [["203", "1000.00"]]),
        ("PRI", [["AAA", "1000.00"]]),
        ("TAX", ["7", "VAT", "", "", ["", "", "", "23"], "S"]),
    ]
    assert by_tag(parsed, "UNS")[0].elements == ["S"]
    assert by_tag(parsed, "CNT")[0].elements == [["2", "4"]]


def test_counts_and_control_references_tie_up():
    doc = make_document(LINES, control_reference="REF77")
    parsed = parse(build_interchange(doc, now=NOW))
    tags = [s.tag for s in parsed]
    unh, unt, unb, unz = (parsed[tags.index(t)] for t in ("UNH", "UNT", "UNB", "UNZ"))
    # UNH..DTM+13: 12 segments; 4 lines of 6; UNS, CNT; 4 totals; 3 rates of TAX and 2 MOA; UNT.
    assert int(unt[0]) == tags.index("UNT") - tags.index("UNH") + 1 == 12 + 4 * 6 + 2 + 4 + 3 * 3 + 1
    assert unt[1] == unh[0] == "REF77"
    assert unz.elements == ["1", "REF77"] and unb[4] == "REF77"
    assert check_interchange(build_interchange(doc, now=NOW)) == []


def test_line_amounts_taxes_and_totals_add_up_to_the_cent():
    parsed = parse(build_interchange(make_document(LINES), now=NOW))
    lines, index = [], 0
    while index < len(parsed):
        if parsed[index].tag == "LIN":
            group = {s.tag: s for s in parsed[index + 1:index + 6]}
            lines.append((Decimal(group["QTY"][0][1]), Decimal(group["PRI"][0][1]),
                          Decimal(group["MOA"][0][1]), Decimal(group["TAX"][4][3])))
        index += 1
    for qty, price, amount, _ in lines:
        assert amount == (qty * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert [amount for _, _, amount, _ in lines] == [Decimal("1000.00"), Decimal("200.25"), Decimal("100.00"),
                                                     Decimal("19.99")]
    summary = parsed[[s.tag for s in parsed].index("UNS"):]
    totals = {s[0][0]: Decimal(s[0][1]) for s in summary[2:6]}
    assert totals["79"] == sum(amount for _, _, amount, _ in lines) == Decimal("1320.24")
    per_rate = {}
    for position, segment in enumerate(summary):
        if segment.tag == "TAX":
            rate = Decimal(segment[4][3])
            taxable, tax = Decimal(summary[position + 1][0][1]), Decimal(summary[position + 2][0][1])
            assert taxable == sum(a for _, _, a, r in lines if r == rate)
            assert tax == (taxable * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            per_rate[rate] = tax
    assert per_rate == {Decimal("0"): Decimal("0.00"), Decimal("8"): Decimal("8.00"), Decimal("23"): Decimal("276.06")}
    assert totals["176"] == sum(per_rate.values()) == Decimal("284.06")
    assert totals["77"] == totals["125"] + totals["176"] == Decimal("1604.30")


@pytest.mark.parametrize("charset", list(CODECS))
def test_the_checker_finds_nothing_wrong_in_what_we_build(charset):
    doc = make_document(LINES, charset=charset, eancom=charset == "UNOD")
    assert check_interchange(build_interchange(doc, now=NOW)) == []


@pytest.mark.parametrize("charset, version, date_written", [
    ("UNOA", "3", "261101"), ("UNOC", "3", "261101"), ("UNOD", "3", "261101"), ("UNOE", "3", "261101"),
    ("UNOW", "4", "20261101"), ("UNOY", "4", "20261101"),
])
def test_unb_names_the_charset_the_octets_are_in(charset, version, date_written):
    data = build_interchange(make_document(LINES, charset=charset), now=NOW)
    unb = parse(data, charset)[1]
    assert unb[0] == [charset, version]
    assert unb[3] == [date_written, "0630"]


def test_unoc_spells_polish_and_czech_letters_it_cannot_hold():
    data = build_interchange(make_document(LINES, charset="UNOC"), now=NOW)
    text = data.decode("latin-1")
    assert "Lódz" in text and "Dvorák a syn" in text and "Námestí" in text
    for letter in "łŁřěŘĚ":
        assert letter.encode("utf-8") not in data and letter not in text


def test_unod_keeps_them():
    data = build_interchange(make_document(LINES, charset="UNOD"), now=NOW)
    text = data.decode("iso8859-2")
    assert "Łódź" in text and "Dvořák a syn" in text and "Náměstí Míru" in text
    assert data.startswith(b"UNA:+.? 'UNB+UNOD:3+")


def test_unow_keeps_cyrillic_and_unoe_writes_it_in_iso_8859_5():
    buyer = dataclasses.replace(BUYER, name="ООО «Техподдержка»", city="Москва", country="RU")
    for charset, codec in (("UNOW", "utf-8"), ("UNOE", "iso8859-5")):
        data = build_interchange(make_document(LINES, charset=charset, buyer=buyer), now=NOW)
        nad = by_tag(parse(data, charset), "NAD")[1]
        assert nad[3] == ("ООО «Техподдержка»" if charset == "UNOW" else 'ООО "Техподдержка"')
        assert "Москва".encode(codec) in data
    latin = by_tag(parse(build_interchange(make_document(LINES, buyer=buyer), now=NOW)), "NAD")[1]
    assert latin[3] == "OOO «Tekhpodderzhka»" and latin[5] == "Moskva"  # Latin 1 has the guillemets


def test_unoa_is_written_in_capitals_of_level_a():
    data = build_interchange(make_document(LINES, charset="UNOA"), now=NOW)
    assert by_tag(parse(data, "UNOA"), "NAD")[1][3] == "DVORAK A SYN, S.R.O."
    assert set(data.decode("ascii")) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>")


@pytest.mark.parametrize("charset", ["UNOC", "UNOW"])
def test_service_characters_in_names_are_released_and_read_back(charset):
    name = "O'Brien + Partner: 50% ? *"
    doc = make_document([LineSpec("Support: 'gold' + extras ?", Decimal("1"), Decimal("10"))], charset=charset,
                        buyer=dataclasses.replace(BUYER, name=name))
    data = build_interchange(doc, now=NOW)
    star = b"?*" if charset == "UNOW" else b"*"  # "*" is a service character only in v4
    assert b"NAD+BY+CLIENT-0042::ZZZ++O?'Brien ?+ Partner?: 50% ?? " + star + b"+" in data
    parsed = parse(data, charset)
    assert by_tag(parsed, "NAD")[1][3] == name
    assert by_tag(parsed, "IMD")[0][2][3] == "Support: 'gold' + extras ?"
    assert check_interchange(data) == []


def test_long_names_spread_over_components_and_stop_at_the_directory_limits():
    long_name = " ".join(["Przedsiębiorstwo Wielobranżowe"] * 10)
    doc = make_document([LineSpec("Opis " * 30, Decimal("1"), Decimal("1"))],
                        buyer=dataclasses.replace(BUYER, name=long_name, street="Ulica " * 10))
    data = build_interchange(doc, now=NOW)
    parsed = parse(data)
    nad = by_tag(parsed, "NAD")[1]
    assert isinstance(nad[3], list) and len(nad[3]) == 5 and all(0 < len(p) <= 35 for p in nad[3])
    assert " ".join(nad[3]).startswith("Przedsiebiorstwo Wielobranzowe Przedsiebiorstwo")
    assert len(nad[4]) == 2 and all(len(p) <= 35 for p in nad[4])
    description = by_tag(parsed, "IMD")[0][2][3:]
    assert len(description) == 2 and all(len(p) <= 35 for p in description)
    assert check_interchange(data) == []


@pytest.mark.parametrize("currency, written", [("JPY", "1235"), ("KWD", "1234.568"), ("EUR", "1234.57")])
def test_amounts_carry_the_currencys_minor_unit(currency, written):
    doc = make_document([LineSpec("Fee", Decimal("1"), Decimal("1234.5675"), Decimal("0"))], currency=currency)
    parsed = parse(build_interchange(doc, now=NOW))
    assert by_tag(parsed, "MOA")[0][0] == ["203", written]
    assert Decimal(written) == Decimal("1234.5675").quantize(quantum(currency), rounding=ROUND_HALF_UP)
    assert by_tag(parsed, "CUX")[0][0] == ["2", currency, "4"]


def test_a_document_without_a_party_identifier_is_refused_not_written():
    doc = make_document(LINES, buyer=dataclasses.replace(BUYER, edi_id=" "))
    with pytest.raises(ValueError, match="it lacks the buyer's EDI party identifier"):
        build_interchange(doc, now=NOW)


def test_credit_notes_and_eancom_are_marked():
    data = build_interchange(make_document(LINES, document_type="381", eancom=True), now=NOW)
    parsed = parse(data)
    assert by_tag(parsed, "UNH")[0][1] == ["INVOIC", "D", "96A", "UN", "EAN008"]
    assert by_tag(parsed, "BGM")[0].elements == ["381", "FV/2026/000123", "9"]


@pytest.mark.parametrize("charset, expected", [
    ("UNOA", b"LODZ ZHUK DJURO STRASSE - 50% OFF"),
    ("UNOB", b"Lodz Zhuk Djuro Strasse - 50% off"),
    ("UNOC", "Lódz Zhuk Djuro Straße - 50% off".encode("latin-1")),
    ("UNOD", "Łódź Zhuk Đuro Straße - 50% off".encode("iso8859-2")),
    ("UNOE", "Lodz Жук Djuro Strasse - 50% off".encode("iso8859-5")),
    ("UNOF", b"Lodz Zhuk Djuro Strasse - 50% off"),
    ("UNOW", "Łódź Жук Đuro Straße 株 50% off".encode()),
    ("UNOY", "Łódź Жук Đuro Straße 株 50% off".encode()),
])
def test_encode_for_spells_what_each_set_cannot_hold(charset, expected):
    # A line break is no part of an element: it becomes a space.
    assert encode_for(charset, "Łódź Жук Đuro Straße 株 50%\noff") == expected


def test_currencies_are_checked_against_iso_4217():
    assert [minor_unit(c) for c in ("EUR", "PLN", "CZK", "JPY", "ISK", "KWD")] == [2, 2, 2, 0, 0, 3]
    assert check_currency("EUR") == "EUR"
    for wrong, says in (("eur", "capitals: EUR"), ("EURO", "not an ISO 4217 code"), ("HRK", "not one we bill in"),
                        ("E1R", "not an ISO 4217 code"), ("", "not an ISO 4217 code")):
        with pytest.raises(UserError, match=says):
            check_currency(wrong)


def test_describe_segments_writes_one_segment_a_line():
    text = describe_segments(build_segments(make_document(LINES), now=NOW))
    lines = text.splitlines()
    assert lines[0] == "UNA:+.? '" and lines[1].startswith("UNB+UNOC:3+") and lines[-1] == "UNZ+1+INV000123'"
    assert "NAD+BY+CLIENT-0042::ZZZ++Dvorák a syn, s.r.o.+Námestí Míru 15+Brno++60200+CZ'" in lines


# The checker is only worth something if it fails: each mutation below breaks one rule of the
# directory or of ISO 9735, and the checker must name it.

def written(segments: list, version: int = 3, charset: str = "UNOC") -> bytes:
    return Serializer(service_characters(version)).serialize(segments, with_una_header=True).encode(CODECS[charset])


def mutated(change) -> list[str]:
    segments = build_segments(make_document(LINES), now=NOW)
    change(segments)
    return check_interchange(written(segments))


def replace_first(tag: str, *elements):
    def change(segments):
        index = [s.tag for s in segments].index(tag)
        segments[index].elements = list(elements)
    return change


def test_the_checker_catches_a_wrong_unt_count():
    assert mutated(replace_first("UNT", "51", "INV000123")) == [
        "UNT counts 51 segments, the message has 52 (UNH..UNT)"]


def test_the_checker_catches_a_missing_mandatory_element():
    assert mutated(replace_first("QTY", ["47", "", "MON"])) == [
        "QTY element 01 (C186) component 2 (6060): mandatory, missing"]
    assert mutated(replace_first("NAD", "", ["5901234123457", "", "9"])) == [
        "NAD element 01 (3035): mandatory, missing"]


def test_the_checker_catches_an_over_long_name():
    problems = mutated(replace_first("NAD", "SU", ["5901234123457", "", "9"], "", "x" * 36))
    assert problems == ["NAD element 04 (C080) component 1 (3036): 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' has 36 "
                        "characters, an..35 allows at most 35"]


def test_the_checker_catches_a_segment_out_of_order():
    def cux_after_the_lines(segments):
        cux = next(s for s in segments if s.tag == "CUX")
        segments.remove(cux)
        segments.insert([s.tag for s in segments].index("UNS"), cux)
    # UNH is segment 1 of the message; the lines end at 36, so CUX lands at 36, just before UNS.
    assert mutated(cux_after_the_lines) == ["segment 36 CUX: is out of order here (message)"]


def test_the_checker_catches_an_unknown_segment():
    def with_xyz(segments):
        segments.insert(3, Segment("XYZ", "1"))
    problems = mutated(with_xyz)
    assert "segment 3 XYZ: is not a segment of the message (message)" in problems
    assert "XYZ: no segment specification transcribed for it" in problems


def test_the_checker_catches_missing_segments_repeats_and_envelope_mismatches():
    def without_bgm(segments):
        segments.pop(2)
    assert "mandatory segment BGM missing (message)" in mutated(without_bgm)

    def eleven_cnt(segments):
        index = [s.tag for s in segments].index("CNT")
        segments[index:index] = [segments[index]] * 10
    assert mutated(eleven_cnt) == ["segment 48 CNT: segment CNT repeated more than 10 times (message)",
                                   "UNT counts 52 segments, the message has 62 (UNH..UNT)"]
    assert mutated(replace_first("UNZ", "2", "INV000123")) == ["UNZ counts 2 messages, the interchange has 1"]
    assert mutated(replace_first("UNZ", "1", "OTHER")) == ["UNZ reference 'OTHER' is not UNB's 'INV000123'"]
    assert "UNT reference 'OTHER' is not UNH's 'INV000123'" in mutated(replace_first("UNT", "52", "OTHER"))


def test_the_checker_catches_bad_numbers_octets_and_unreleased_repetitions():
    assert mutated(replace_first("MOA", ["203", "1000,00"])) == [
        "MOA element 01 (C516) component 2 (5004): '1000,00' is not numeric (n..18, decimal mark '.')"]
    assert mutated(replace_first("MOA", ["203", "1" * 19])) == [
        f"MOA element 01 (C516) component 2 (5004): '{'1' * 19}' has 19 characters, n..18 allows at most 18"]
    assert mutated(replace_first("MOA", ["203", "-" + "1" * 16 + ".5"])) == []  # sign and point not counted
    data = build_interchange(make_document(LINES, charset="UNOW"), now=NOW)
    assert check_interchange(data.replace(b"Training materials", b"Training * materials")) == [
        "1 unreleased repetition separator(s) '*' in elements that do not repeat"]
    latin2 = build_interchange(make_document(LINES, charset="UNOD"), now=NOW)
    problems = check_interchange(latin2.replace(b"UNOD:3", b"UNOW:3", 1))
    assert problems[0] == "UNOW exists only in syntax version 4, UNB says 3"
    assert problems[1].startswith("octets are not UNOW")  # ISO 8859-2 ł is no UTF-8
