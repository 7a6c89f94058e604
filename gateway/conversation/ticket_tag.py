"""The ticket tag in subjects ("[HD#123]"): formatting, finding, and stripping reply prefixes."""

from __future__ import annotations

import re
from functools import lru_cache

# Reply/forward prefixes of common mail clients in our languages: Re/RE/AW (de), Odp (pl),
# Odg (hr), Fwd/Fw/WG (de forward), Tr (fr transfert), Sv (nordic), Vs, Antw, Ynt, Отв/Ответ (ru).
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|odp|odg|fwd?|wg|tr|sv|vs|antw|ynt|отв|ответ|přeposlat|fw)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


@lru_cache(maxsize=8)
def _tag_pattern(tag: str) -> re.Pattern[str]:
    # Tolerant of case, spacing and missing brackets: "[HD#12]", "[ hd # 12 ]", "HD#12".
    return re.compile(rf"\[?\s*{re.escape(tag)}\s*#\s*(\d{{1,12}})\s*\]?", re.IGNORECASE)


def format_tag(tag: str, number: int) -> str:
    return f"[{tag}#{number}]"


def find_ticket_number(subject: str, tag: str) -> int | None:
    match = _tag_pattern(tag).search(subject or "")
    return int(match.group(1)) if match else None


def strip_reply_prefixes(subject: str) -> str:
    """'Re: AW:  Fwd: Printer' -> 'Printer' (for the subject of a new ticket)."""
    return _PREFIX.sub("", subject or "").strip()


def clean_subject(subject: str, tag: str) -> str:
    """The subject without reply prefixes and without our tag: what a ticket is called."""
    without_tag = _tag_pattern(tag).sub(" ", subject or "")
    return " ".join(strip_reply_prefixes(without_tag).split())
