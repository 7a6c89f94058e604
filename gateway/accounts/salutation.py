"""How mail greets a client by name: their gender and the Czech vocative of their surname, when the name shows them.

Polish and Czech greet formally by gender ("Szanowna Pani", "Vážený pane") and Czech names the surname in
the vocative ("pane Svobodo"); a full name in the nominative ("Dobrý den Tomáš Svoboda") reads like a form
letter. Only what the name shows for sure is derived: a gender from a surname's form (-ska/-ski, -ová/-ý)
or a common first name, a vocative from a regular ending. Anything else gives nothing, and the template
greets neutrally ("Dzień dobry", "Dobrý den"): a neutral greeting is always right, a wrong gender never.
"""

from __future__ import annotations

import re

# Common first names in Poland and Czechia (lower case); rarer ones get the neutral greeting.
_FEMALE_NAMES = frozenset("""
anna maria katarzyna małgorzata agnieszka barbara ewa krystyna elżbieta zofia janina teresa joanna magdalena
monika danuta jadwiga aleksandra irena halina helena beata natalia marta karolina dorota justyna jolanta iwona
grażyna paulina alicja renata julia wiktoria zuzanna hanna urszula sylwia patrycja weronika emilia kinga
izabela agata oliwia lena maja bożena wanda marianna kasia basia ania gosia ola
jana eva hana marie lenka kateřina lucie věra alena petra veronika jaroslava tereza martina michaela jitka
ludmila zdeňka ivana eliška zuzana markéta barbora kristýna dana simona jiřina marcela pavla andrea vlasta
ilona adéla klára olga miroslava šárka blanka radka dagmar
""".split())
_MALE_NAMES = frozenset("""
jan andrzej piotr krzysztof stanisław tomasz paweł józef marcin marek michał grzegorz jerzy tadeusz adam
łukasz zbigniew ryszard dariusz henryk mariusz kazimierz wojciech robert mateusz marian rafał jacek janusz
mirosław maciej sławomir jarosław kamil wiesław roman władysław jakub artur zdzisław edward mieczysław damian
dawid przemysław sebastian czesław leszek daniel waldemar szymon kacper filip bartosz kuba igor oskar antoni
aleksander wiktor tomek
jiří petr josef pavel jaroslav martin tomáš miroslav františek zdeněk václav michal milan karel lukáš david
vladimír ladislav ondřej stanislav radek antonín vojtěch matěj aleš libor vít dominik patrik luboš bohumil
dušan štěpán viktor oldřich jindřich vlastimil rudolf ivan richard zbyněk radim marcel jaromír
""".split())
# A surname's form only confirms a gender (or contradicts it): "Polska" and "Warszawski" end company names too.
# Only -ová is sure enough by itself.
_FEMALE_SURNAME = ("ska", "cka", "dzka", "ová", "á")  # Kowalska, Svobodová, Černá
_MALE_SURNAME = ("ski", "cki", "dzki", "ý")  # Kowalski, Černý
_TITLES = frozenset({"dr", "mgr", "inż", "ing", "prof", "bc", "doc", "pan", "pani", "pane"})
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
_VOWELS = "aiouyáíóúůý"  # not e: "Lev" -> "Lve" drops it


def salutation(name: str) -> dict[str, str]:
    """Template context: `requester_gender` ("female", "male" or "") and `requester_vocative` (the surname
    in the Czech vocative: "Svobodo", "Svobodová"; "" when it cannot be derived)."""
    words = _name_words(name)
    gender = _gender(words)
    surname = _surname(words)
    vocative = _czech_vocative(surname, gender) if surname and gender else ""
    return {"requester_gender": gender, "requester_vocative": vocative}


def _name_words(name: str) -> list[str]:
    """The words of a person's name without titles; [] when it does not look like one (a mailbox, an address)."""
    if name.count(",") == 1:  # "Svoboda, Tomáš": directories put the surname first
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    words = [w for w in name.split() if not w.endswith(".") and w.lower() not in _TITLES]
    words = [w.title() if w.isupper() else w for w in words]  # "JAN KOWALSKI"
    if not 1 <= len(words) <= 3 or not all(_WORD.fullmatch(w) and w.istitle() for w in words):
        return []
    return words


def _gender(words: list[str]) -> str:
    """The gender a first name (or a Czech -ová) shows and nothing in the name contradicts; else ""."""
    sure, signs = set(), set()
    for word in words:
        low = word.lower()
        if low in _FEMALE_NAMES or (len(words) > 1 and low.endswith("ová")):
            sure.add("female")
        elif low in _MALE_NAMES:
            sure.add("male")
        elif len(words) > 1 and low.endswith(_FEMALE_SURNAME):
            signs.add("female")
        elif len(words) > 1 and low.endswith(_MALE_SURNAME):
            signs.add("male")
    return sure.pop() if len(sure) == 1 and signs <= sure else ""


def _surname(words: list[str]) -> str:
    """The surname: the word beside a known first name, else the only word with a surname's form."""
    if len(words) < 2:
        return ""
    known = [w for w in words if w.lower() in _FEMALE_NAMES | _MALE_NAMES]
    if len(words) == 2 and len(known) == 1:
        return words[1] if known[0] == words[0] else words[0]
    formed = [w for w in words if w.lower().endswith(_FEMALE_SURNAME + _MALE_SURNAME) and w not in known]
    return formed[0] if len(formed) == 1 else ""


def _czech_vocative(surname: str, gender: str) -> str:
    low = surname.lower()
    if gender == "female":  # Svobodová, Černá: the vocative is the nominative
        return surname if low.endswith("á") else ""
    if low.endswith(("ý", "í")):  # Černý, Krejčí: adjectives do not change
        return surname
    if low.endswith(("ěk", "ec", "el", "en", "ev")):  # Vaněk -> Vaňku, Němec -> Němče: a vowel drops, too irregular
        return ""
    if low.endswith("ek"):  # Marek -> Marku, Hájek -> Hájku
        return surname[:-2] + "ku"
    if low.endswith("a"):  # Svoboda -> Svobodo
        return surname[:-1] + "o"
    if low.endswith(("k", "h", "g")):  # Novák -> Nováku, Čech -> Čechu
        return surname + "u"
    if low.endswith(("š", "ž", "č", "ř", "j", "ň", "ť", "ď")):  # Beneš -> Beneši, Kolář -> Koláři
        return surname + "i"
    if low[-1] in "bdfmnptv" and len(low) > 1 and low[-2] in _VOWELS:  # Zeman -> Zemane, Holub -> Holube
        return surname + "e"
    return ""
