"""Tell whether an SMS is an opt-out, opt-in or help keyword, in English or one of our clients' languages.

Only a message that is the keyword alone counts ("stop the printer from jamming" is a ticket), as
with Twilio: surrounding spaces, letter case, diacritics and trailing punctuation do not matter.

Twilio itself handles the English words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT,
REVOKE; START, YES, UNSTOP; HELP, INFO) on US and Canadian long codes and toll-free numbers: it
answers them and, after an opt-out, refuses further messages to the number on its side (error
21610) until an opt-in word arrives. It still passes the message on to us, and we record the opt-out
regardless, so our record does not depend on the kind of number or the country it came through.
The Polish, Czech, Croatian and Russian words Twilio does not know: there only our record applies.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from helpdesk.gateway.sms.transliterate import transliterate

Keyword = Literal["stop", "start", "help"]

_WORDS: dict[Keyword, dict[str, str]] = {
    "stop": {
        "en": "STOP STOPALL UNSUBSCRIBE CANCEL END QUIT OPTOUT REVOKE",
        "pl": "STOP KONIEC WYPISZ",
        "cs": "STOP KONEC ODHLÁSIT",
        "hr": "STOP KRAJ ODJAVA",
        "ru": "СТОП ОТПИСАТЬСЯ",
    },
    "start": {
        # Not YES or INFO, though Twilio lists them: "Yes" alone is how a client answers "does it
        # work now?", and taking it as a keyword would keep the answer from the ticket.
        "en": "START UNSTOP",
        "pl": "START ZAPISZ",
        "cs": "START",
        "hr": "START PRIJAVA",
        "ru": "СТАРТ",
    },
    "help": {
        "en": "HELP",
        "pl": "POMOC",
        "cs": "POMOC NÁPOVĚDA",
        "hr": "POMOĆ",
        "ru": "ПОМОЩЬ СПРАВКА",
    },
}


def _spelling_key(text: str) -> str:
    # Transliterated, so a phone without diacritics matches too: NAPOVEDA, ODHLASIT, POMOC for POMOĆ.
    return transliterate(text.casefold())


_KEYWORD_OF = {
    _spelling_key(word): keyword
    for keyword, languages in _WORDS.items()
    for words in languages.values()
    for word in words.split()
}


def keyword_of(text: str) -> Keyword | None:
    """The keyword the whole message is, or None for any other message."""
    return _KEYWORD_OF.get(_spelling_key(_strip_trailing_punctuation(text.strip())))


def _strip_trailing_punctuation(text: str) -> str:
    end = len(text)
    while end and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[:end]
