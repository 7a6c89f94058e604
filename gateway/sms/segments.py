"""How many SMS segments a text takes, GSM-7 or UCS-2 (3GPP TS 23.038, TS 23.040), and trimming it to fit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

from helpdesk.gateway.sms.transliterate import transliterate as spell_in_gsm7

Encoding = Literal["GSM-7", "UCS-2"]

# 3GPP TS 23.038 §6.2.1: the GSM 7-bit default alphabet in code order, 0x00 to 0x7F. Position 0x1B is
# the escape to the extension table, not a character: a text holding U+001B is not GSM-7.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
ESCAPE = "\x1b"
# 3GPP TS 23.038 §6.2.1.1: the default alphabet extension table; each is sent as ESC and one more
# septet, so it costs two, and the pair cannot be split between two segments.
GSM7_EXTENSION = "\x0c^{}\\[~]|€"
_ONE_SEPTET = frozenset(GSM7_BASIC) - {ESCAPE}
_TWO_SEPTETS = frozenset(GSM7_EXTENSION)

# TS 23.040: 140 octets of user data. A concatenated message spends 6 of them on the header that
# numbers the parts (IEI 00, 8-bit reference), leaving 153 septets or 67 UTF-16 units per part.
_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67

# The marker of a cut text: "…" costs a UCS-2 message, so a GSM-7 one gets three dots instead.
GSM7_ELLIPSIS, UCS2_ELLIPSIS = "...", "…"
WORD_CUT_REACH = 20  # how far back a cut may move to fall between words rather than inside one


class FittedText(NamedTuple):
    text: str
    segments: int
    encoding: Encoding


def is_gsm7(text: str) -> bool:
    return all(char in _ONE_SEPTET or char in _TWO_SEPTETS for char in text)


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def septets(text: str) -> int:
    """The septets a GSM-7 text takes (an extension character takes two); ValueError for a text that is not GSM-7."""
    return sum(_septet_costs(text))


def utf16_units(text: str) -> int:
    """The UTF-16 code units of a UCS-2 message: a character beyond the BMP (an emoji) is a surrogate pair."""
    return sum(_utf16_costs(text))


def segments(text: str) -> int:
    """The number of segments the text is sent in; 0 for an empty text, which is not sent at all."""
    if not text:
        return 0
    if is_gsm7(text):
        return _count_parts(_septet_costs(text), _GSM7_SINGLE, _GSM7_PART)
    return _count_parts(_utf16_costs(text), _UCS2_SINGLE, _UCS2_PART)


def trim_to_segments(text: str, max_segments: int, note: str = "") -> str:
    """The text unchanged if it fits in max_segments; else its longest prefix that fits with an ellipsis
    and, on a line of its own, the note (dropped when it would leave no room at all for the text)."""
    if max_segments < 1:
        raise ValueError(f"max_segments must be at least 1, not {max_segments}")
    if segments(text) <= max_segments:
        return text
    tail = "\n" + note if note else ""
    if segments(_mark_cut("", tail)) > max_segments:
        tail = ""  # the answer matters more than the note saying where the rest of it went
    keep = _longest_fitting_prefix(text, tail, max_segments)
    return _mark_cut(_cut_between_words(text, keep), tail)


def fit(text: str, max_segments: int, transliterate: bool, note: str = "") -> FittedText:
    """The text as sent: transliterated first when asked, trimmed, with its segments and encoding."""
    if transliterate:
        text, note = spell_in_gsm7(text), spell_in_gsm7(note)
    final = trim_to_segments(text, max_segments, note)
    return FittedText(final, segments(final), encoding_of(final))


def _septet_costs(text: str) -> Iterable[int]:
    for char in text:
        if char in _ONE_SEPTET:
            yield 1
        elif char in _TWO_SEPTETS:
            yield 2
        else:
            raise ValueError(f"{char!r} (U+{ord(char):04X}) is not in the GSM-7 alphabet")


def _utf16_costs(text: str) -> Iterable[int]:
    return (2 if ord(char) > 0xFFFF else 1 for char in text)


def _count_parts(costs: Iterable[int], single: int, part: int) -> int:
    """Parts needed when a character (an escape pair, a surrogate pair) never straddles two of them."""
    costs = list(costs)
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _mark_cut(prefix: str, tail: str) -> str:
    ellipsis = GSM7_ELLIPSIS if is_gsm7(prefix + tail) else UCS2_ELLIPSIS
    return prefix + ellipsis + tail


def _longest_fitting_prefix(text: str, tail: str, max_segments: int) -> int:
    """The length of the longest prefix that fits once marked, by bisection (a 10,000-character answer
    costs some 14 counts, not thousands).

    Fitting is monotonic in the length even where a longer prefix turns the message into UCS-2: a
    GSM-7 part holds at least 76 characters and a UCS-2 one at most 67, so a GSM-7 text never takes
    more segments than the same text with more characters in UCS-2."""
    fits, too_long = 0, len(text)  # the bare marker and tail fit (checked above); the whole text does not
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if segments(_mark_cut(text[:middle], tail)) <= max_segments:
            fits = middle
        else:
            too_long = middle
    return fits


def _cut_between_words(text: str, keep: int) -> str:
    """text[:keep], moved back to the end of a word when one ends within WORD_CUT_REACH characters."""
    if keep == 0 or text[keep].isspace() or text[keep - 1].isspace():
        return text[:keep].rstrip()
    for index in range(keep - 1, max(0, keep - WORD_CUT_REACH) - 1, -1):
        if text[index].isspace() and text[:index].strip():
            return text[:index].rstrip()
    return text[:keep]
