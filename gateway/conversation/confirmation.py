"""Read the client's answer to "may we close this ticket?": a yes, a rating, or anything else.

Deliberately strict: only a short answer made of agreeing words (in any of the languages we
write in, since people often answer in English whatever their locale) counts as yes. Anything
longer or any other word may be new information, and new information must reopen the ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

YES_WORDS = {
    "en": {"yes", "yep", "yeah", "ok", "okay", "thanks", "thank", "confirmed", "confirm", "fine", "solved",
           "resolved", "great", "perfect", "works", "done", "agreed", "sure"},
    "pl": {"tak", "ok", "dziękuję", "dziekuje", "dzięki", "dzieki", "potwierdzam", "zgoda", "działa", "dziala",
           "super", "świetnie", "swietnie"},
    "cs": {"ano", "ok", "děkuji", "dekuji", "díky", "diky", "potvrzuji", "souhlasím", "souhlasim", "funguje",
           "vyřešeno", "vyreseno", "super"},
    "ru": {"да", "ок", "ok", "спасибо", "подтверждаю", "согласен", "согласна", "работает", "решено",
           "отлично", "хорошо"},
    "hr": {"da", "ok", "hvala", "potvrđujem", "potvrdjujem", "slažem", "slazem", "radi", "riješeno", "rijeseno",
           "super", "odlično", "odlicno"},
    "de": {"ja", "ok", "danke", "bestätigt", "bestaetigt", "passt", "erledigt", "funktioniert", "gut"},
}
# Words that may stand beside a yes without changing its meaning ("yes, thank you very much").
FILLER = {
    "you", "very", "much", "a", "lot", "so", "all", "good", "it", "now", "please", "close", "can", "be", "closed",
    "the", "ticket", "is", "everything", "bardzo", "wszystko", "można", "mozna", "zamknąć", "zamknac", "moc",
    "vše", "vse", "můžete", "muzete", "zavřít", "zavrit", "большое", "всё", "все", "можно", "закрыть",
    "puno", "lijepa", "sve", "možete", "mozete", "zatvoriti", "vielen", "schön", "schoen", "alles", "sehr",
    "and", "i", "и", "a", "und", "out", "of", "rating", "ocena", "hodnocení", "hodnoceni", "оценка", "ocjena",
    "again", "jeszcze", "raz", "znovu", "ещё", "еще", "раз", "opet", "još", "nochmal", "einmal",
}
_ANY_YES = set().union(*YES_WORDS.values())
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_RATING = re.compile(r"(?<![\d.,])([1-5])(?:\s*/\s*5|\s*(?:of|z|ze|из|od|von)\s*5)?(?![\d.,])")
_SCORES = {"1", "2", "3", "4", "5"}
MAX_WORDS = 12


@dataclass(frozen=True)
class Answer:
    confirms: bool        # the client agrees the ticket may be closed
    rating: int | None    # 1-5 when the answer carries one


def find_rating(text: str) -> int | None:
    """A 1-5 rating in a short answer ("5", "4/5", "yes, 5 of 5"); None when there is none."""
    matches = _RATING.findall(text)
    return int(matches[0]) if len(set(matches)) == 1 else None


def read_answer(text: str) -> Answer:
    """`text` is the new part of the reply (quoted history already removed)."""
    rating = find_rating(text)
    words = [w.lower() for w in _WORD.findall(text)]
    words_only = [w for w in words if not w.isdigit()]
    digits = [w for w in words if w.isdigit()]
    if rating is not None and not words_only and len(digits) <= 2:  # a bare "5" (or "5/5") is a content yes
        return Answer(True, rating)
    short = 0 < len(words) <= MAX_WORDS
    agrees = short and any(w in _ANY_YES for w in words_only) and all(
        w in _ANY_YES or w in FILLER for w in words_only) and all(d in _SCORES for d in digits)
    return Answer(agrees, rating if agrees else None)
