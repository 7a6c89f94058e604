"""Tell the sign-off a person wrote under their own text ("Pozdrawiam,\nMarek") from the text itself.

A technician's answer is judged by its last sentence (a question leaves the ticket waiting for the client),
and it is signed by the gateway only when the technician did not sign it: both need the sign-off apart.
Only the last few short lines are looked at, one line at a time, so any input is cheap. What people write
above their name in each language lives in the `CLOSINGS` table (the languages of gateway/hygiene/quoting.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Adding a language is one entry here. Each entry is a regular expression matched, case-insensitively, against
# a whole line without its punctuation ("Best regards," -> "Best regards").
CLOSINGS: dict[str, tuple[str, ...]] = {
    "en": (r"(?:(?:best|kind|warm|many)\s+)?(?:regards|thanks)", r"best(?:\s+wishes)?", r"cheers",
           r"thank\s+you(?:\s+in\s+advance)?", r"thanks\s+in\s+advance", r"(?:yours\s+)?sincerely",
           r"all\s+the\s+best", r"have\s+a\s+(?:nice|good|great)\s+day"),
    "pl": (r"(?:serdecznie\s+)?pozdrawiam(?:\s+serdecznie)?", r"(?:z\s+)?(?:serdecznymi\s+)?pozdrowieniami",
           r"pozdrowienia", r"z\s+poważaniem", r"z\s+wyrazami\s+szacunku", r"(?:z\s+góry\s+)?dziękuję",
           r"dziękuję\s+z\s+góry", r"dzięki", r"miłego\s+dnia", r"pzdr", r"lp"),
    "cs": (r"(?:s\s+)?(?:přátelským\s+)?pozdravem", r"(?:předem\s+)?děkuji", r"díky", r"zdravím", r"hezký\s+den"),
    "ru": (r"с\s+уважением", r"(?:заранее\s+)?спасибо", r"всего\s+(?:доброго|хорошего)",
           r"с\s+наилучшими\s+пожеланиями", r"хорошего\s+дня"),
    "hr": (r"(?:lijep|srdačan)\s+pozdrav", r"pozdrav", r"s\s+poštovanjem", r"(?:unaprijed\s+)?hvala", r"lp"),
    "de": (r"(?:mit\s+)?(?:freundlichen|besten|herzlichen|lieben)\s+grüßen", r"(?:viele\s+)?grüße", r"gruß",
           r"(?:vielen\s+)?dank", r"danke", r"lg", r"vg", r"mfg"),
}

_CLOSING = re.compile("|".join(f"(?:{p})" for patterns in CLOSINGS.values() for p in patterns), re.IGNORECASE)
_PUNCTUATION = " \t,.!-–—"
_MAX_LINES = 5  # closing, name, role, phone, company
_MAX_LINE_LEN = 60
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")  # letters, maybe joined: "Nowak-Kowalska"
_INITIALS = re.compile(r"(?:[^\W\d_]\.){1,3}")  # "M." or "A.N."
# A name alone counts only where a sentence or a paragraph ended above it: "…na ekranie?\nMarek".
_SENTENCE_END = re.compile(r"[.?!…:)]\s*$")


@dataclass(frozen=True)
class SignOff:
    body: str                # the text above the sign-off (all of it when there is none)
    lines: tuple[str, ...]   # the sign-off's lines, () when there is none
    named: bool              # it carries a name (or more), not only a closing ("Regards,")


def split_signoff(text: str, names: Iterable[str] = ()) -> SignOff:
    """The text and, apart, the sign-off under it. `names` are the writer's own names ("Marek Wiśniewski"):
    those words count as a name in any case. The first line is never part of a sign-off."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    own = {word.lower() for name in names for word in name.split()}
    start = _signoff_start(lines, own)
    if start is None:
        return SignOff(text.strip(), (), False)
    tail = tuple(line.strip() for line in lines[start:] if line.strip())
    return SignOff("\n".join(lines[:start]).strip(), tail, any(not _is_bare_closing(line) for line in tail))


def _signoff_start(lines: list[str], own: set[str]) -> int | None:
    """The topmost of the last few lines where a sign-off can begin; None when none can."""
    found, seen = None, 0
    for i in range(len(lines) - 1, 0, -1):
        line = lines[i].strip()
        if not line:
            continue
        seen += 1
        if seen > _MAX_LINES or len(line) > _MAX_LINE_LEN:
            break
        if _opens_signoff(line, lines[i - 1], own):
            found = i
        elif line.endswith(("?", ".", "!")):  # a sentence: the text itself, so nothing above it is a sign-off
            break
    return found


def _opens_signoff(line: str, above: str, own: set[str]) -> bool:
    if _is_bare_closing(line) or _is_closing_with_name(line, own):
        return True
    return _is_name(line, own) and (not above.strip() or _SENTENCE_END.search(above) is not None)


def _is_bare_closing(line: str) -> bool:
    return _CLOSING.fullmatch(line.strip(_PUNCTUATION)) is not None


def _is_closing_with_name(line: str, own: set[str]) -> bool:
    """A closing and a name on one line: "Dzięki, Marek", "Regards - Anna"."""
    match = _CLOSING.match(line)
    rest = line[match.end():] if match else ""
    return bool(rest) and rest[0] in _PUNCTUATION and _is_name(rest, own)


def _is_name(line: str, own: set[str]) -> bool:
    """One to four words, each one of the writer's names, initials or a capitalised word ("Ania", "Nowak")."""
    words = line.strip(_PUNCTUATION).replace(",", " ").split()
    return 0 < len(words) <= 4 and all(
        word.lower().rstrip(".") in own or _INITIALS.fullmatch(word) or (_NAME_WORD.fullmatch(word) and word.istitle())
        for word in words)
