"""Spell Polish, Czech, Croatian and Russian text in GSM-7 letters, so an SMS costs GSM-7 segments, not UCS-2.

Every letter of those languages outside plain ASCII loses its diacritic, é and É too although GSM-7 has
them: a half-accented word ("dabelské") reads worse than one with none. Croatian đ becomes "dj" (the
usual spelling where the letter is missing, as in "Djuro"), not "d", which reads as another name.
Russian follows BGN/PCGN simplified: ж zh, х kh, ц ts, ч ch, ш sh, щ shch, ю yu, я ya, ё yo, й and ы y,
э e, and the hard and soft signs vanish. A capital spelled with several letters is capitalised ("Zh")
unless its neighbour is a capital too, so ЖУК becomes "ZHUK". Typographic quotes, dashes, the ellipsis
and the special spaces become their ASCII forms; every other character is kept as it is.
"""

from __future__ import annotations

import unicodedata

_LATIN = {
    # Polish
    "ą": "a", "ć": "c", "ę": "e", "ł": "l", "ń": "n", "ó": "o", "ś": "s", "ź": "z", "ż": "z",
    # Czech (ó as in Polish)
    "á": "a", "č": "c", "ď": "d", "é": "e", "ě": "e", "í": "i", "ň": "n", "ř": "r", "š": "s", "ť": "t",
    "ú": "u", "ů": "u", "ý": "y", "ž": "z",
    # Croatian (č, ć, š, ž shared)
    "đ": "dj",
}
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}
_TYPOGRAPHY = {
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "‹": "'", "›": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ",
    "\u00ad": "", "\u200b": "", "\u2060": "", "\ufeff": "",
}


def _with_capitals(lower: dict[str, str]) -> dict[str, str]:
    capitals = {letter.upper(): spelled.capitalize() for letter, spelled in lower.items()}
    return {**lower, **capitals}


_SPELLING = {**_with_capitals(_LATIN), **_with_capitals(_CYRILLIC), **_TYPOGRAPHY}


def transliterate(text: str) -> str:
    """The text with our languages' letters and typographic punctuation spelled in GSM-7 characters."""
    # Composed first: a phone may send "č" as c + combining caron, which the table would not see.
    text = unicodedata.normalize("NFC", text)
    spelled = []
    for index, char in enumerate(text):
        replacement = _SPELLING.get(char)
        if replacement is None:
            spelled.append(char)
        elif len(replacement) > 1 and char.isupper() and _is_among_capitals(text, index):
            spelled.append(replacement.upper())
        else:
            spelled.append(replacement)
    return "".join(spelled)


def _is_among_capitals(text: str, index: int) -> bool:
    """Whether the letter at index belongs to a word written in capitals: its next letter, or else
    its previous one, is a capital."""
    if index + 1 < len(text) and text[index + 1].isalpha():
        return text[index + 1].isupper()
    return index > 0 and text[index - 1].isalpha() and text[index - 1].isupper()
