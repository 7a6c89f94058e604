"""Guess the language of a message's text from its script and common words (for routing rules).

Deterministic and dependency-free; it only has to tell apart the languages clients write in
(English, Polish, Czech, Slovak, Russian, Ukrainian, Croatian, German), and says None when unsure.
"""

from __future__ import annotations

import re

_WORDS = {
    "en": "the and is are you your please not have this that with for printer does doesn't work thanks hello",
    "pl": "nie jest się że czy proszę dzień dobry drukarka działa mam jak dziękuję pozdrawiam witam bardzo",
    "cs": "je se že není prosím dobrý den tiskárna nefunguje mám jak děkuji děkujeme zdravím také který",
    "sk": "je sa že nie prosím dobrý deň tlačiareň nefunguje mám ako ďakujem pozdravujem tiež ktorý",
    "hr": "je se da nije molim dobar dan pisač ne radi imam kako hvala pozdrav također koji lijep",
    "de": "der die das und ist nicht bitte ich sie mit für drucker funktioniert danke hallo grüße",
    "ru": "и не в на что это я с как пожалуйста добрый день принтер работает спасибо здравствуйте",
    "uk": "і не в на що це я з як будь ласка добрий день принтер працює дякую вітаю",
}
LANGUAGES = tuple(_WORDS)
_VOCABULARY = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
# Letters only one of the candidate languages uses settle many cases at once.
_MARKERS = {"pl": "ąęłńśźż", "cs": "ěřů", "sk": "ĺľŕô", "hr": "đ", "de": "ßäöü", "uk": "іїєґ"}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str, sample: int = 2000) -> str | None:
    """The most likely language code, or None for too little or ambiguous text."""
    words = _TOKEN.findall(text[:sample].lower())
    if not words:
        return None
    scores = {lang: sum(1 for w in words if w in vocab) for lang, vocab in _VOCABULARY.items()}
    letters = set("".join(words))
    for lang, marks in _MARKERS.items():
        if letters & set(marks):
            scores[lang] += 3
    best = max(scores, key=scores.get)
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == 0 or ranked[0] == ranked[1]:
        return None
    return best
