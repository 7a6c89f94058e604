"""SMS text arithmetic as pure functions: segment counts figured by hand at every boundary, trimming,
transliteration per language, and the opt-out keywords; properties over random text for the rest.

The figures: GSM-7 is 160 septets in one segment, else 153 per part; UCS-2 is 70 UTF-16 units,
else 67 per part; an extension character (two septets) or an emoji (a surrogate pair) is never split
between two parts, so it moves whole to the next one.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpdesk.gateway.sms.keywords import keyword_of
from helpdesk.gateway.sms.segments import (
    ESCAPE,
    GSM7_BASIC,
    GSM7_EXTENSION,
    encoding_of,
    fit,
    is_gsm7,
    segments,
    septets,
    trim_to_segments,
    utf16_units,
)
from helpdesk.gateway.sms.transliterate import transliterate

EMOJI = "😀"
NOTE = "Full answer sent by email."
SENTENCES = {  # (text, its length in characters, each one UTF-16 unit and, transliterated, one septet)
    "pl": ("Dzień dobry, drukarka w biurze na drugim piętrze znowu nie działa. Proszę o pilną pomoc, dziękuję.", 98),
    "cs": ("Dobrý den, tiskárna v kanceláři ve druhém patře opět nefunguje. Prosím o rychlou pomoc, děkuji.", 95),
    "hr": ("Dobar dan, pisač u uredu na drugom katu opet ne radi. Molim hitnu pomoć, hvala. Đuro Šimić", 90),
    "ru": ("Здравствуйте, принтер в офисе на втором этаже снова не работает. Пожалуйста, помогите срочно.", 93),
}
TRANSLITERATED_LENGTH = {"pl": 98, "cs": 95, "hr": 91, "ru": 96}  # đ is "dj"; ж, й and ю take two letters


# --- the alphabet -------------------------------------------------------------------------------

def test_the_alphabet_is_the_standards_128_positions_and_its_ten_extension_characters():
    assert len(GSM7_BASIC) == len(set(GSM7_BASIC)) == 128
    assert (GSM7_BASIC[0x00], GSM7_BASIC[0x1B], GSM7_BASIC[0x24], GSM7_BASIC[0x40], GSM7_BASIC[0x7F]) == (
        "@", ESCAPE, "¤", "¡", "à")
    assert set(GSM7_EXTENSION) == set("^{}\\[~]|€\f")
    assert "`" not in GSM7_BASIC and "ą" not in GSM7_BASIC


def test_encoding_and_the_units_counted():
    assert encoding_of("Hello {world} €5") == "GSM-7"
    assert septets("Hello {world} €5") == 19  # 16 characters, three of them escaped
    assert encoding_of("Zażółć") == encoding_of("a`b") == encoding_of("x" + ESCAPE) == "UCS-2"
    assert utf16_units("a" + EMOJI + "ą") == 4
    with pytest.raises(ValueError, match="U\\+0105"):
        septets("ą")


# --- segments: GSM-7 ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("", 0),
    ("a", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 153 * 2, 2),
    ("a" * (153 * 2 + 1), 3),
    ("€" * 80, 1),                      # 160 septets
    ("€" * 80 + "a", 2),                # 76 pairs (152 septets) in the first part, the rest in the second
    ("a" * 159 + "€", 2),               # 161 septets
    ("a" * 151 + "€" + "a" * 153, 2),   # the pair ends the first part exactly at septet 153
    ("a" * 152 + "€" + "a" * 152, 3),   # 306 septets, but the pair would straddle 153/154: it moves on
])
def test_gsm7_segments(text, expected):
    assert encoding_of(text) == "GSM-7"
    assert segments(text) == expected


# --- segments: UCS-2 ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("ą" * 70, 1),
    ("ą" * 71, 2),
    ("ą" * 67 * 2, 2),
    ("ą" * (67 * 2 + 1), 3),
    (EMOJI * 35, 1),                              # 70 units
    (EMOJI * 35 + "a", 2),
    ("a" * 69 + EMOJI, 2),                        # one emoji makes the whole text UCS-2: 71 units
    ("ą" * 66 + EMOJI + "ą" * 65, 2),             # the pair opens the second part
    ("ą" * 66 + EMOJI + "ą" * 66, 3),             # 134 units, but the pair would straddle 67/68
])
def test_ucs2_segments(text, expected):
    assert encoding_of(text) == "UCS-2"
    assert segments(text) == expected


@pytest.mark.parametrize("language", SENTENCES)
def test_a_sentence_in_each_language_takes_two_ucs2_segments_and_one_gsm7_transliterated(language):
    text, length = SENTENCES[language]
    assert (encoding_of(text), utf16_units(text), segments(text)) == ("UCS-2", length, 2)  # > 70: 2 parts of 67
    spelled = transliterate(text)
    assert (encoding_of(spelled), septets(spelled), segments(spelled)) == (
        "GSM-7", TRANSLITERATED_LENGTH[language], 1)


# --- trimming -----------------------------------------------------------------------------------

def test_a_text_that_fits_is_returned_unchanged_without_the_note():
    assert trim_to_segments("Printer fixed.", 1, NOTE) == "Printer fixed."
    assert trim_to_segments("a" * 160, 1, NOTE) == "a" * 160
    assert trim_to_segments("ą" * 134, 2) == "ą" * 134


def test_a_cut_falls_between_words_and_gets_three_dots_in_gsm7():
    # 157 characters leave room for "..."; the 157th is inside a word, so the cut moves back to the space at 154.
    assert trim_to_segments("word " * 40, 1) == ("word " * 31).rstrip() + "..."


def test_the_note_goes_on_its_own_line_after_the_cut():
    # 160 - 27 (newline and note) - 3 (dots) = 130 characters, which end on a space.
    trimmed = trim_to_segments("word " * 40, 1, NOTE)
    assert trimmed == ("word " * 26).rstrip() + "...\n" + NOTE
    assert segments(trimmed) == 1


def test_a_word_longer_than_the_reach_is_cut_inside():
    assert trim_to_segments("x" * 200, 1) == "x" * 157 + "..."
    assert trim_to_segments("a " + "x" * 300, 1) == "a " + "x" * 155 + "..."  # the space is 155 characters back


def test_ucs2_text_gets_the_ellipsis_character():
    # 70 units leave 69 characters for the text; the 69th is inside a word, the space before it is at 65.
    assert trim_to_segments("słowo " * 30, 1) == ("słowo " * 11).rstrip() + "…"
    note = "Całość wysłano e-mailem."
    # 70 - 25 (newline and note) - 1 (ellipsis) = 44 characters; back to the space at 41.
    assert trim_to_segments("słowo " * 30, 1, note) == ("słowo " * 7).rstrip() + "…\n" + note


def test_cutting_off_the_only_ucs2_character_makes_the_text_gsm7():
    trimmed = trim_to_segments("x" * 200 + "ą", 1)
    assert trimmed == "x" * 157 + "..."
    assert encoding_of(trimmed) == "GSM-7"


@pytest.mark.parametrize(("max_segments", "expected"), [
    (1, ("word " * 31).rstrip() + "..."),   # 160 - 3 = 157: back to the space at 154
    (2, ("word " * 60).rstrip() + "..."),   # 306 - 3 = 303: back to the space at 299
    (3, ("word " * 91).rstrip() + "..."),   # 459 - 3 = 456: back to the space at 454
])
def test_trimming_to_one_two_and_three_segments(max_segments, expected):
    trimmed = trim_to_segments("word " * 100, max_segments)
    assert trimmed == expected
    assert segments(trimmed) == max_segments


def test_a_ten_thousand_character_answer():
    polish = "dziękuję " * 1112  # 10,008 characters
    # 3 UCS-2 parts hold 201 units: 200 characters and the ellipsis; back to the space at 197.
    assert trim_to_segments(polish, 3) == ("dziękuję " * 22).rstrip() + "…"
    # 5 GSM-7 parts hold 765 septets: 762 characters and the dots; back to the space at 759.
    assert trim_to_segments("word " * 2000, 5) == ("word " * 152).rstrip() + "..."


def test_a_note_too_long_to_leave_room_is_dropped_rather_than_sending_more_segments():
    assert trim_to_segments("word " * 40, 1, "n" * 200) == trim_to_segments("word " * 40, 1)


def test_at_least_one_segment_is_needed():
    with pytest.raises(ValueError, match="max_segments must be at least 1"):
        trim_to_segments("word " * 40, 0)


# --- fit: transliteration as a setting ----------------------------------------------------------

def test_fit_without_transliteration_trims_the_ucs2_text():
    text, _ = SENTENCES["pl"]
    # 69 characters and the ellipsis; the 69th is inside "Proszę", so the cut moves back to the space at 66.
    assert fit(text, 1, transliterate=False) == (
        "Dzień dobry, drukarka w biurze na drugim piętrze znowu nie działa.…", 1, "UCS-2")


def test_fit_with_transliteration_sends_the_whole_text_in_gsm7():
    text, _ = SENTENCES["cs"]
    assert fit(text, 1, transliterate=True, note="Celá odpověď odešla e-mailem.") == (
        "Dobry den, tiskarna v kancelari ve druhem patre opet nefunguje. Prosim o rychlou pomoc, dekuji.", 1, "GSM-7")


def test_fit_transliterates_the_note_too():
    final, count, encoding = fit("Drukarka działa. " * 20, 1, transliterate=True, note="Całość wysłaliśmy e-mailem.")
    assert final.endswith("...\nCalosc wyslalismy e-mailem.")
    assert (count, encoding) == (1, "GSM-7")


# --- transliteration ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Zażółć gęślą jaźń. ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "Zazolc gesla jazn. ZAZOLC GESLA JAZN"),
    ("Příliš žluťoučký kůň úpěl ďábelské ódy", "Prilis zlutoucky kun upel dabelske ody"),
    ("ÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ", "ACDEEINORSTUUYZ"),
    ("Đuro Šimić, ĐURO, đak, Ćuk, čaša, žaba", "Djuro Simic, DJURO, djak, Cuk, casa, zaba"),
    ("Жук ЖУК Щи ЩИ Ж юла Ёлка ёж", "Zhuk ZHUK Shchi SHCHI Zh yula Yolka yozh"),
    ("съешь объём ЦАРЬ хлеб чай шум йод мыло эхо яма", "sesh obyom TSAR khleb chay shum yod mylo ekho yama"),
    ("„Tak”, «да» ‚x‘ – — … a\u00a0b\u202fc soft\u00adhyphen", "\"Tak\", \"da\" 'x' - - ... a b c softhyphen"),
    ("c\u030caj", "caj"),  # a decomposed č (c and a combining caron) is spelled too
    ("Grüße, Ñoño, è, £5 @ 10:00 {ok} 😀 日本", "Grüße, Ñoño, è, £5 @ 10:00 {ok} 😀 日本"),  # everything else is kept
])
def test_transliteration_samples(text, expected):
    assert transliterate(text) == expected


def test_the_whole_russian_alphabet_becomes_gsm7():
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    assert transliterate(alphabet) == "abvgdeyozhziyklmnoprstufkhtschshshchyeyuya"
    assert is_gsm7(transliterate(alphabet.upper()))


OUR_LETTERS = "ąćęłńóśźżáčďéěíňóřšťúůýžčćđšž" + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
OUR_TEXT = st.text(st.sampled_from(
    OUR_LETTERS + OUR_LETTERS.upper() + string.ascii_letters + string.digits + " .,;:!?'\"-()/%&\n"
    + "„“”‚‘’«»–—…\u00a0\u202f\u00ad"), max_size=300)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(OUR_TEXT)
def test_text_in_our_languages_transliterates_to_pure_gsm7(text):
    assert is_gsm7(transliterate(text))


# --- trimming properties ------------------------------------------------------------------------

# Any text a technician could type, with the characters that matter to the count made common.
ANY_TEXT = st.text(st.one_of(st.sampled_from("aą€{ ЖЯ\n.…" + EMOJI), st.characters(exclude_categories=("Cs",))),
                   max_size=1000)
NOTES = st.one_of(st.just(""), st.just(NOTE), st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
ENDINGS = ("...", "…")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(ANY_TEXT, st.integers(1, 5), NOTES)
@example("a" * 152 + "€" * 10, 1, "")
@example("ą" * 66 + EMOJI * 10, 1, NOTE)
def test_a_trimmed_text_fits_and_is_a_prefix_of_the_original(text, max_segments, note):
    trimmed = trim_to_segments(text, max_segments, note)
    assert segments(trimmed) <= max_segments
    if segments(text) <= max_segments:
        assert trimmed == text
    else:
        endings = [mark + tail for mark in ENDINGS for tail in ("\n" + note if note else "", "")]
        assert any(trimmed.endswith(end) and text.startswith(trimmed[:len(trimmed) - len(end)]) for end in endings)


WORDLESS_TEXT = st.text(st.one_of(st.sampled_from("aą€{Я" + EMOJI),
                                  st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"))),
                        min_size=1, max_size=800)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(WORDLESS_TEXT, st.integers(1, 5))
@example("x" * 200 + "ą", 1)
@example("a" * 100 + "ą" * 100, 2)
def test_without_spaces_the_cut_keeps_as_much_as_fits(text, max_segments):
    trimmed = trim_to_segments(text, max_segments)
    if trimmed == text:
        return
    kept = trimmed[:-3] if trimmed.endswith("...") and is_gsm7(trimmed) else trimmed[:-1]
    assert text.startswith(kept)
    one_more = text[:len(kept) + 1]
    assert segments(one_more + ("..." if is_gsm7(one_more) else "…")) > max_segments


# --- keywords -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # English, as Twilio knows them
    ("STOP", "stop"), ("stop", "stop"), ("  Stop!  ", "stop"), ("StopAll", "stop"), ("UNSUBSCRIBE", "stop"),
    ("cancel.", "stop"), ("End", "stop"), ("quit", "stop"), ("OPTOUT", "stop"), ("revoke", "stop"),
    ("START", "start"), ("Unstop", "start"), ("HELP", "help"),
    # Polish
    ("KONIEC", "stop"), ("wypisz", "stop"), ("Zapisz", "start"), ("pomoc", "help"),
    # Czech
    ("konec", "stop"), ("ODHLÁSIT", "stop"), ("odhlasit", "stop"), ("Nápověda", "help"), ("NAPOVEDA", "help"),
    # Croatian
    ("KRAJ", "stop"), ("odjava", "stop"), ("Prijava", "start"), ("POMOĆ", "help"), ("pomoc!", "help"),
    # Russian
    ("СТОП", "stop"), ("стоп.", "stop"), ("Отписаться", "stop"), ("старт", "start"), ("ПОМОЩЬ", "help"),
    ("справка", "help"),
])
def test_keywords(text, expected):
    assert keyword_of(text) == expected


@pytest.mark.parametrize("text", [
    "stop the printer from jamming", "Please stop", "STOP PLEASE", "help me", "Pomoc, nie działa drukarka",
    "Стоп-кран", "stopp", "no", "", "   ", "!!!", "¿help", "konec dobrý, všechno dobré",
    "Yes", "yes!", "INFO",  # everyday answers to a technician, not keywords here
])
def test_other_messages_are_not_keywords(text):
    assert keyword_of(text) is None
