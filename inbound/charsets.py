"""Turn bytes of unknown or wrongly labelled charset into the text the author wrote, and make it storable.

Real mail often lies about its charset: "us-ascii" over UTF-8, "utf-8" over Windows-1250,
"iso-8859-1" over ISO-8859-2, or no label at all. Single-byte codecs accept any bytes, so
"try the label" alone never fails and happily produces mojibake. Hence: valid UTF-8 wins
(legacy 8-bit text is practically never valid UTF-8 by chance), a label is trusted when its
result shows no sign of mojibake, and otherwise the candidates of our clients' languages
(pl, cs, sk, hr, de, ru, uk, ...) are scored by how much the result looks like one language.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

# Labels seen in the wild that Python's codec registry does not know (or knows as something else).
_ALIASES = {
    "x-unknown": "", "unknown-8bit": "", "x-user-defined": "", "default": "", "unknown": "",
    "unicode-1-1-utf-7": "utf-7", "utf-7-imap": "utf-7", "ks_c_5601-1987": "cp949", "gb2312": "gb18030",
    "gbk": "gb18030", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp", "iso-2022-jp-ms": "iso2022_jp_ext", "ansi_x3.4-1968": "ascii", "x-mac-ce": "mac_latin2",
}
# A label of an ISO charset whose text carries C1 controls is really the Windows sibling (WHATWG does the same).
# (Keys are codecs.lookup() names.)
_WINDOWS_SIBLING = {"iso8859-1": "cp1252", "iso8859-2": "cp1250", "iso8859-9": "cp1254", "iso8859-7": "cp1253",
                    "iso8859-13": "cp1257", "iso8859-8": "cp1255", "iso8859-6": "cp1256", "iso8859-15": "cp1252",
                    "ascii": "cp1252"}
# The legacy charsets our clients' mail programs use, most common first (a tie keeps this order).
_CANDIDATES = ("cp1250", "iso8859-2", "cp1251", "koi8-r", "cp1252", "koi8-u", "cp866")
# Non-ASCII letters of each language (lower case). Every one of a Latin alphabet is telling; of a
# Cyrillic one the frequent letters are, and Cyrillic text has few ASCII letters.
_LATIN = ("ąćęłńóśźż", "áčďéěíňóřšťúůýž", "áäčďéíĺľňóôŕšťúýž", "čćđšž", "äöüß", "áéíóöőúüű",
          "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœ")
_CYRILLIC = (("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "оеаинтсрвл"), ("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя", "оаніитевр"))
# Punctuation at home next to letters in those languages (quotes, dashes, ellipsis, no-break space).
_WORD_PUNCT = set("\u00a0\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u00ab\u00bb\u2022\u20ac\u00b0")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WORD = re.compile(r"\S+")
_SAMPLE_BYTES = 16384  # enough text to judge a charset by; scoring more only costs time


def codec_for(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when it is unknown or meaningless."""
    label = (label or "").strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    for candidate in (label, label.removeprefix("x-"), label.replace("win-", "windows-")):
        try:
            return codecs.lookup(candidate).name if candidate else None
        except (LookupError, ValueError):
            continue
    return None


def _is_symbol(char: str) -> bool:
    return char > "\x7f" and not char.isalpha() and unicodedata.category(char) not in ("Nd", "Zs")


def _word_penalty(word: str) -> int:
    """Mojibake inside one word: symbols among letters ("Za¿ó³æ"), swapped case ("пРИВЕТ"), mixed scripts."""
    if not any(c.isalpha() for c in word):
        return 0
    penalty = 0
    for i, char in enumerate(word):
        if _is_symbol(char) and (char not in _WORD_PUNCT or 0 < i < len(word) - 1 and word[i - 1].isalpha()
                                 and word[i + 1].isalpha() and char != "\u2019"):
            penalty += 3
        elif i and char.isupper() and word[i - 1].islower() and char >= "\u0370":
            penalty += 2
    if any("\u0400" <= c <= "\u04ff" for c in word) and any(c.isascii() and c.isalpha() or "\u00c0" <= c <= "\u024f"
                                                           for c in word):
        penalty += 5
    return penalty


def _mojibake_penalty(text: str) -> int:
    """Signs that text was decoded with the wrong charset; 0 means it looks like someone wrote it."""
    penalty = sum(10 for c in text if "\x80" <= c <= "\x9f" or c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
    penalty += sum(5 for c in text if "\u2500" <= c <= "\u259f")  # box drawing: KOI8 or CP866 misread
    penalty += sum(_word_penalty(word) for word in _WORD.findall(text))
    # Cyrillic read as Latin-1 is all accented letters ("Ïðèíòåð"); real Latin text is mostly ASCII.
    accented = sum(1 for c in text if "\u00c0" <= c <= "\u024f" and c.isalpha())
    if accented > 8 and accented > 1.5 * sum(1 for c in text if c.isascii() and c.isalpha()):
        penalty += accented
    return penalty


def _language_score(text: str) -> float:
    """How much the non-ASCII letters look like one of our clients' languages."""
    letters = [c.lower() for c in text if c > "\x7f" and c.isalpha()]
    ascii_letters = sum(1 for c in text if c.isascii() and c.isalpha())
    scores = [sum(2 if c in alphabet else -1 for c in letters) for alphabet in _LATIN]
    scores += [sum(2 if c in frequent else 1 if c in alphabet else -1 for c in letters) - ascii_letters / 4
               for alphabet, frequent in _CYRILLIC]
    return max(scores)


def _strict(data: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _score(text: str) -> float:
    return _language_score(text) - 3 * _mojibake_penalty(text)


def _best_codec(sample: bytes, declared: str | None) -> str:
    """The best-looking codec among the declared one, its Windows sibling and our languages' charsets."""
    candidates = dict.fromkeys(filter(None, (declared, _WINDOWS_SIBLING.get(declared or ""), *_CANDIDATES)))
    scored = [(_score(text), -order, codec) for order, codec in enumerate(candidates)
              if (text := _strict(sample, codec)) is not None]
    if not scored or max(scored)[0] < 0:
        detected = _detected(sample)
        if detected and (text := _strict(sample, detected)) is not None:
            scored.append((_score(text), 1, detected))
    return max(scored)[2] if scored else "utf-8"


def _detected(sample: bytes) -> str | None:
    """A statistical guess for languages outside our candidates (Japanese, Greek, ...)."""
    from charset_normalizer import from_bytes  # imported late: only odd mail needs it

    best = from_bytes(sample).best()
    return codec_for(best.encoding) if best is not None else None


def _is_mostly_utf8(sample: bytes) -> bool:
    text = sample.decode("utf-8", "replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for c in text if c > "\x7f") - invalid
    return valid > 0 and valid >= 2 * invalid


def _sample(data: bytes) -> bytes:
    """The start of a long text, cut at a line end: judging a charset needs no more, and scoring is slow."""
    if len(data) <= _SAMPLE_BYTES:
        return data
    head = data[:_SAMPLE_BYTES]
    return head[:head.rfind(b"\n") + 1] or head


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from bytes in the charset `label` claims, recovering from a wrong or missing label."""
    codec = codec_for(label)
    wide = (codec or "").startswith(("utf-16", "utf-32"))
    if data.isascii() and (not wide or b"\x00" in data):
        # 7-bit: only the stateful 7-bit codecs (UTF-7, ISO-2022-JP) and UTF-16 change anything.
        return _strict(data, codec) or data.decode("ascii")
    if not wide and (text := _strict(data, "utf-8")) is not None:
        return text
    text = _strict(data, codec)
    if text is not None and _mojibake_penalty(text[:_SAMPLE_BYTES]) == 0:
        return text
    if _is_mostly_utf8(_sample(data)):  # UTF-8 cut mid-character, or with one stray Windows byte
        return data.decode("utf-8", "replace")
    return data.decode(_best_codec(_sample(data), codec), "replace")


def raw_bytes(value: str) -> bytes:
    """The bytes behind a header string the stdlib parser decoded as ASCII with surrogate escapes."""
    try:
        return value.encode("latin-1", "surrogateescape")
    except UnicodeEncodeError:  # already real text beyond Latin-1
        return value.encode("utf-8", "surrogateescape")


def clean_text(text: str) -> str:
    """Storable text: no NUL or other control characters (PostgreSQL refuses NUL), no lone surrogates."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def clean_line(text: str) -> str:
    """A one-line value (header, name): cleaned, whitespace runs and line breaks folded to one space."""
    return " ".join(clean_text(text).replace("\t", " ").split())
