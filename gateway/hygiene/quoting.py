"""Find the author's new text in a plain-text reply: drop the quoted history, attribution lines and signature.

The full text is stored elsewhere; this only decides what a ticket shows as the new message. It scans line by
line and applies each pattern to one short line at a time, so no input can make a regular expression backtrack
over the whole message. Everything a mail client writes in a given language lives in the `LANGUAGES` table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientPhrases:
    """What one language's mail clients write around a reply. Every entry is a regular expression."""

    attributions: tuple[str, ...]  # a whole line (or two joined lines) that introduces quoted text, ending ":"
    header_from: tuple[str, ...]  # the Outlook header field that opens a header block ("From")
    header_fields: tuple[str, ...]  # the other Outlook header fields ("Sent", "To", "Subject", ...)
    original_message: tuple[str, ...]  # what sits between the dashes of "-----Original Message-----"
    footers: tuple[str, ...]  # a whole line that mobile and web clients append ("Sent from my iPhone")


# A device or app name in a footer: one to four words, so a real sentence is rarely mistaken for one.
_DEVICE = r"\S+(?: \S+){0,3}"

# Adding a language is one entry here. Attributions are matched case-insensitively against the stripped line.
LANGUAGES: dict[str, ClientPhrases] = {
    "en": ClientPhrases(
        attributions=(r".+\swrote:",),  # "On Thu, Mar 12, 2026 at 10:15 AM John <j@x.com> wrote:"
        header_from=("From",),
        header_fields=("Sent", "Date", "To", "Subject", "Cc"),
        original_message=("Original Message",),
        footers=(
            rf"Sent from my {_DEVICE}",
            r"Sent from (?:Mail|Outlook|Yahoo Mail)\b.{0,40}",
            rf"Get Outlook for {_DEVICE}",
        ),
    ),
    "pl": ClientPhrases(
        # "W dniu 12.03.2026 o 10:15, Jan <j@x.pl> pisze:" (Thunderbird), "czw., 12 mar 2026 ... napisał(a):" (Gmail)
        attributions=(r".+\s(?:napisał|napisała|napisał\(a\)|nadesłał|pisze):",),
        header_from=("Od",),
        header_fields=("Wysłano", "Wysłane", "Data", "Do", "Temat", "DW", "Kopia"),
        original_message=("Wiadomość oryginalna", "Oryginalna wiadomość"),
        footers=(rf"Wysłan[eo] z {_DEVICE}", rf"Pobierz (?:aplikację )?Outlook dla {_DEVICE}"),
    ),
    "cs": ClientPhrases(
        # "Dne 12. 3. 2026 10:15 napsal(a) Jan <j@x.cz>:" and "Dne ... Jan <j@x.cz> napsal(a):"
        attributions=(r"Dne\s.+\snapsal(?:\(a\)|a)?\s.+:", r".+\snapsal(?:\(a\)|a)?:"),
        header_from=("Od",),
        header_fields=("Odesláno", "Datum", "Komu", "Předmět", "Kopie"),
        original_message=("Původní zpráva",),
        footers=(rf"Odesláno z {_DEVICE}", rf"Získat Outlook pro {_DEVICE}"),
    ),
    "ru": ClientPhrases(
        # "12.03.2026, 10:15, Иван Петров написал(а):" (Thunderbird), "... пишет:" (Mail.ru)
        attributions=(r".+\s(?:написал|написала|написал\(а\)|пишет):",),
        header_from=("От",),
        header_fields=("Отправлено", "Дата", "Кому", "Тема", "Копия"),
        original_message=("Исходное сообщение",),
        footers=(rf"Отправлено (?:с|из) {_DEVICE}", rf"Получить Outlook для {_DEVICE}"),
    ),
    "hr": ClientPhrases(
        # "Dana 12.03.2026. u 10:15, Ivan Horvat je napisao:" and Gmail's "... napisao je:"
        attributions=(r".+\s(?:je\s)?napisa(?:o|la|o/la|o\(la\))(?:\sje)?:",),
        header_from=("Šalje", "Od"),
        header_fields=("Poslano", "Datum", "Prima", "Za", "Predmet", "Kopija"),
        original_message=("Izvorna poruka", "Originalna poruka"),
        footers=(rf"Poslano sa? {_DEVICE}", rf"Preuzmite Outlook za {_DEVICE}"),
    ),
    "de": ClientPhrases(
        # "Am 12.03.2026 um 10:15 schrieb Hans <h@x.de>:" and "Hans <h@x.de> schrieb am 12.03.2026 um 10:15:"
        attributions=(r"Am\s.+\sschrieb\s.+:", r".+\sschrieb(?:\sam\s.+)?:"),
        header_from=("Von",),
        header_fields=("Gesendet", "Datum", "An", "Betreff", "Cc", "Kopie"),
        original_message=("Ursprüngliche Nachricht", "Originalnachricht"),
        footers=(
            rf"Von meinem {_DEVICE} gesendet",
            rf"Gesendet (?:von|mit) {_DEVICE}",
            rf"Outlook für {_DEVICE} herunterladen",
        ),
    ),
}


def _alternation(key: str) -> str:
    return "|".join(f"(?:{pattern})" for phrases in LANGUAGES.values() for pattern in getattr(phrases, key))


def _header_names(key: str) -> str:
    return "|".join(re.escape(name) for phrases in LANGUAGES.values() for name in getattr(phrases, key))


_ATTRIBUTION = re.compile(_alternation("attributions"), re.IGNORECASE)
# Outlook pasted from HTML writes "*From:* ..."; the name must be followed by a space or end the line.
_HEADER_FROM = re.compile(rf"\*?(?:{_header_names('header_from')})\s*:\*?(?:\s|$)")
_HEADER_FIELD = re.compile(rf"\*?(?:{_header_names('header_fields')})\s*:\*?(?:\s|$)")
_ORIGINAL_MESSAGE = re.compile(rf"-{{2,}}\s*(?:{_alternation('original_message')})\s*-{{2,}}", re.IGNORECASE)
# Outlook's footers often carry a link: "Get Outlook for Android<https://aka.ms/ghei36>".
_FOOTER = re.compile(rf"(?:{_alternation('footers')})\.?(?:\s*<[^>\s]+>)?", re.IGNORECASE)
_OUTLOOK_SEPARATOR = re.compile(r"_{10,}")
# Every client writes both the date and the time into its attribution ("On 12.03.2026 10:15, ..."), which
# tells it from prose such as "On Monday John wrote:" or "At 10:15 the technician wrote:".
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")

# Attribution and header lines are short; longer lines are never tested against a pattern, which keeps each
# regex run small whatever the input.
_MAX_MARKER_LEN = 300
_HEADER_BLOCK_SPAN = 6  # lines after "From:" in which the other header fields must appear
_QUOTE_LOOKAHEAD = 3  # blank lines allowed between an attribution and its quoted block

_CUT = "cut"  # the rest of the message is history or signature
_DROP = "drop"  # this line is not the author's, but their text may continue below it


def strip_quoted(text: str, fallback: bool = True) -> str:
    """The author's new text: quoted history and signature removed; the full text is kept elsewhere.

    With `fallback`, a message that strips to nothing is returned whole; without it, "" (for
    staff mail, where the quoted part is our own notification and must not be forwarded)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _join_kept(_scan(lines))
    # Stripping everything means we misread the message (all quoted, or it starts like a header block):
    # showing the whole text beats showing nothing.
    return kept or (text.strip() if fallback else "")


def _scan(lines: list[str]) -> list[str | None]:
    """The lines to keep, with None where dropped lines were, so gaps can be tidied up."""
    kept: list[str | None] = []
    i = 0
    while i < len(lines):
        verdict, span = _classify(lines, i)
        if verdict == _CUT:
            break
        if verdict == _DROP:
            kept.append(None)
        else:
            kept.append(lines[i])
        i += span
    return kept


def _classify(lines: list[str], i: int) -> tuple[str | None, int]:
    """Whether line i (and maybe the next) is cut, dropped or kept (None), and how many lines that covers."""
    line = lines[i].strip()
    if line.startswith(">"):
        return _DROP, 1
    if line == "--":
        # RFC 3676 section 4.3: "-- " on its own line starts the signature; many clients trim the space.
        return _CUT, 1
    if not line or len(line) > _MAX_MARKER_LEN:
        return None, 1
    if _ORIGINAL_MESSAGE.fullmatch(line) or _starts_header_block(lines, i):
        return _CUT, 1
    if _OUTLOOK_SEPARATOR.fullmatch(line) and _starts_header_block(lines, _next_nonblank(lines, i + 1)):
        return _CUT, 1
    if _FOOTER.fullmatch(line):
        return _DROP, 1
    return _classify_attribution(lines, i)


def _classify_attribution(lines: list[str], i: int) -> tuple[str | None, int]:
    """An attribution above a quoted block is dropped; a dated one above unquoted text starts the history."""
    if not lines[i].rstrip().endswith(":") and not (i + 1 < len(lines) and lines[i + 1].rstrip().endswith(":")):
        return None, 1  # an attribution, of one line or two, ends with ":" (most lines are prose)
    for span in (1, 2):
        candidate = _joined(lines, i, span)
        if candidate is None:
            continue
        matched = _ATTRIBUTION.fullmatch(candidate) is not None
        if _is_quote_start(lines, i + span):
            # Above quoted lines a dated intro with an address is an attribution whatever the client's
            # language (Gmail in Russian writes only "<date> <time>, <name> <address>:").
            if matched or (_is_dated(candidate) and "@" in candidate):
                return _DROP, span
        elif matched and _is_dated(candidate):
            # Clients that quote without ">" (and HTML converted to text) leave the history unmarked.
            return _CUT, span
    return None, 1


def _is_dated(line: str) -> bool:
    return _TIME.search(line) is not None and _YEAR.search(line) is not None


def _joined(lines: list[str], i: int, span: int) -> str | None:
    """Line i alone, or joined with the next one as Gmail and Thunderbird wrap long attributions; None if unfit."""
    if i + span > len(lines):
        return None
    first = lines[i].strip()
    if span == 1:
        return first if first.endswith(":") else None
    second = lines[i + 1].strip()
    if first.endswith(":") or not second.endswith(":") or second.startswith(">"):
        return None
    if _is_dated(second) and _ATTRIBUTION.fullmatch(second):
        # The next line is a whole attribution by itself: line i is the author's, not its first half.
        return None
    candidate = f"{first} {second}"
    return candidate if len(candidate) <= _MAX_MARKER_LEN else None


def _starts_header_block(lines: list[str], i: int) -> bool:
    """An Outlook header block: a "From:" line and at least two other header fields right after it."""
    if i >= len(lines) or not _HEADER_FROM.match(lines[i].lstrip()):
        return False
    window = lines[i + 1 : i + 1 + _HEADER_BLOCK_SPAN]
    return sum(1 for line in window if _HEADER_FIELD.match(line.lstrip())) >= 2


def _is_quote_start(lines: list[str], i: int) -> bool:
    j = _next_nonblank(lines, i)
    return j < len(lines) and j - i <= _QUOTE_LOOKAHEAD and lines[j].lstrip().startswith(">")


def _next_nonblank(lines: list[str], i: int) -> int:
    """The index of the first non-blank line from i, looking only a few lines ahead (len(lines) if none)."""
    for j in range(i, min(len(lines), i + _QUOTE_LOOKAHEAD + 1)):
        if lines[j].strip():
            return j
    return len(lines)


def _join_kept(kept: list[str | None]) -> str:
    """Join the kept lines; where lines were dropped, the blank lines around the gap become one."""
    out: list[str] = []
    gap = False
    for line in kept:
        if line is None or (gap and not line.strip()):
            while out and not out[-1].strip():
                out.pop()
            gap = True
            continue
        if gap and out:
            out.append("")
        gap = False
        out.append(line)
    return "\n".join(out).strip()
