"""Text fitted to the EDIFACT character set a partner agreed (UNB syntax identifier), and encoded in it.

ISO 9735 names the repertoires; Python names the codecs:

    UNOA  level A: A-Z 0-9 space . , - ( ) / = ' + : ? ! " % & * ; < >   (ASCII bytes)
    UNOB  level B: level A and a-z                                       (ASCII bytes)
    UNOC  ISO 8859-1 (Latin 1)      UNOD  ISO 8859-2 (Latin 2: ł ř č š ž ć đ ő ...)
    UNOE  ISO 8859-5 (Cyrillic)     UNOF  ISO 8859-7 (Greek)
    UNOW  UTF-8 (ISO 9735 v4)       UNOY  ISO 10646-1, written as UTF-8 (v4)

UNOY names the repertoire, not the octets; every partner we know reads it as UTF-8, so it is
written as UTF-8 (UCS-2 would break the single-octet UNA/UNB every parser expects first).

A character the set cannot hold is spelled in letters it can: the Polish, Czech, Croatian and
Russian letters as gateway/sms/transliterate.py spells them (ł l, ř r, đ dj, ж zh), others by
dropping their accents (ü u) or by a small table (ß ss, æ ae, € EUR). What still does not fit
becomes "-". Never "?": that is EDIFACT's release character, and a stray one would escape the
separator after it. Control characters (CR, LF, TAB, ...) become spaces, since a line break
inside a data element is not allowed and some partners' parsers stop at it.
"""

from __future__ import annotations

import re
import string
import unicodedata

from helpdesk.gateway.sms.transliterate import transliterate

CODECS: dict[str, str] = {
    "UNOA": "ascii", "UNOB": "ascii", "UNOC": "iso8859_1", "UNOD": "iso8859_2",
    "UNOE": "iso8859_5", "UNOF": "iso8859_7", "UNOW": "utf_8", "UNOY": "utf_8",
}
SYNTAX_VERSIONS: dict[str, int] = {
    "UNOA": 3, "UNOB": 3, "UNOC": 3, "UNOD": 3, "UNOE": 3, "UNOF": 3, "UNOW": 4, "UNOY": 4,
}
LEVEL_A = frozenset(string.ascii_uppercase + string.digits + " .,-()/='+:?!\"%&*;<>")
LEVEL_B = LEVEL_A | frozenset(string.ascii_lowercase)
_REPERTOIRE_LIMITS = {"UNOA": LEVEL_A, "UNOB": LEVEL_B}
SUBSTITUTE = "-"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # Unicode categories Cc, Zl, Zp

# Letters no accent-stripping reaches, spelled as the languages' own usage does.
_SPELLED = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ı": "i", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T",
    "€": "EUR", "£": "GBP", "©": "(c)", "®": "(R)", "°": "o", "×": "x", "÷": "/",
}
_GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω", [
    "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s", "s",
    "t", "y", "f", "ch", "ps", "o"], strict=True))


def check_charset(charset: str) -> str:
    """The syntax identifier, or ValueError naming the ones we write."""
    if charset not in CODECS:
        raise ValueError(f"character set {charset!r} is not one of {', '.join(CODECS)}")
    return charset


def encode_for(charset: str, text: str) -> bytes:
    """The text as octets of the charset, every character it cannot hold spelled in ones it can."""
    return fit_to_charset(charset, text).encode(CODECS[check_charset(charset)])


def fit_to_charset(charset: str, text: str) -> str:
    """The text with only characters the charset holds (see the module docstring for how)."""
    check_charset(charset)
    text = unicodedata.normalize("NFC", text)
    if _fits_as_it_is(charset, text):  # the usual case, and a whole interchange at once: no walk
        fitted = text
    else:
        fitted = "".join(_fit_character(charset, text, index) for index in range(len(text)))
    return fitted.upper() if charset == "UNOA" else fitted


def _fits_as_it_is(charset: str, text: str) -> bool:
    if _CONTROL.search(text):
        return False
    limit = _REPERTOIRE_LIMITS.get(charset)
    if limit is not None:
        return set(text.upper() if charset == "UNOA" else text) <= limit
    try:
        text.encode(CODECS[charset])
    except UnicodeEncodeError:
        return False
    return True


def is_representable(charset: str, char: str) -> bool:
    """Whether the charset holds the character (after UNOA's capitals, for level A)."""
    if charset == "UNOA":
        char = char.upper()
    limit = _REPERTOIRE_LIMITS.get(charset)
    if limit is not None:
        return char in limit
    try:
        char.encode(CODECS[charset])
    except UnicodeEncodeError:
        return False
    return True


def _fit_character(charset: str, text: str, index: int) -> str:
    char = text[index]
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return " "
    if is_representable(charset, char):
        return char
    for spelled in _spellings(char):
        # A "?" only where the text had one: NFKD turns "？" and "⁇" into question marks.
        if "?" not in spelled and all(is_representable(charset, c) for c in spelled):
            return _capitalised(spelled, text, index)
    return SUBSTITUTE


def _spellings(char: str) -> list[str]:
    """Ways to write the character in fewer letters, best first."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    candidates = [transliterate(char), _SPELLED.get(char, ""), stripped]
    greek = _GREEK.get(stripped.lower())
    if greek:
        candidates.append(greek.capitalize() if char.isupper() else greek)
    return [c for c in candidates if c and c != char]


def _capitalised(spelled: str, text: str, index: int) -> str:
    """ЖУК becomes ZHUK, Жук Zhuk: a capital spelled with several letters is all capitals when its
    neighbour is a capital too."""
    if len(spelled) < 2 or not text[index].isupper():
        return spelled
    neighbours = [text[i] for i in (index + 1, index - 1) if 0 <= i < len(text) and text[i].isalpha()]
    return spelled.upper() if neighbours and neighbours[0].isupper() else spelled
