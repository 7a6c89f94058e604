"""The SMS templates for clients (sms_*): every kind in every locale, short, translated, formal, no signature.

Pure tests, no database: they render through outbound.render.Renderer, the way the SMS producers do, and
measure the text as it is sent (the rendered body with its whitespace collapsed, as gateway/alerts does).
"""

from __future__ import annotations

import re

import pytest
from jinja2 import meta

from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.render import DEFAULT_TEMPLATES, LOCALES, SAMPLE_CONTEXT, Renderer

TRANSLATED = [loc for loc in LOCALES if loc != "en"]
RENDERER_CONTEXT = {"tag", "number", "support_name", "support_address"}

# Each kind and the context its producer gives it besides the renderer's own.
KIND_CONTEXT = {
    "sms_acknowledgement": {"subject"},
    "sms_reply": {"text", "author_name"},
    "sms_full_answer_note": {"email"},
    "sms_help": set(),
    "sms_stopped": set(),
    "sms_started": set(),
    "sms_summary": {"count", "tickets"},
}
KINDS = sorted(KIND_CONTEXT)
CASES = [pytest.param(kind, locale, id=f"{kind}-{locale}") for kind in KINDS for locale in LOCALES]

LONG_TAG = {"tag": "[HD#123456]", "number": 123456}
LONG_SUBJECT = "Drukarka w sekretariacie na drugim piętrze nie drukuje od wczoraj, a toner wymieniano w poniedziałek"
BRACKETED_SUBJECT = "[Room 2.14] {urgent} printer|scanner ~ does not print since yesterday, toner replaced"
ACK_LIMIT = {"en": 160, "pl": 140, "cs": 140, "ru": 140, "hr": 140}  # GSM-7: one SMS; UCS-2: two segments
OTHERS_LIMIT, NOTE_LIMIT = 300, 80

# The printable ASCII of GSM 03.38 (3GPP TS 23.038): ` is not in the alphabet, and the extension table's
# characters (the tag's brackets among them) take two septets each.
GSM7_EXTENSION = set("^{}\\[~]|")
GSM7_ASCII = set(map(chr, range(0x20, 0x7F))) - {"`"}

# The informal "you" of each language: a support desk never uses it with clients.
INFORMAL = {
    "pl": r"\b(ty|tobie|ciebie|cię|twój|twoja|twoje|twojego|twoich|masz|możesz|odpisz|napisz)\b",
    "cs": r"\b(ty|tobě|tebe|tvůj|tvoje|tvá|máš|můžeš|odpověz|napiš|pošli)\b",
    "ru": r"\b(ты|тебе|тебя|твой|твоё|твоя|твои|ответь|напиши|пришли)\b",
    "hr": r"\b(ti|tebi|tebe|tvoj|tvoja|tvoje|odgovori|napiši|pošalji)\b",
}
# The formal pronoun is capitalised, as in a letter to one person (templates/acknowledgement).
LOWERCASE_FORMAL = {
    "pl": r"\bpaństw", "cs": r"\b(vy|vás|vám|váš|vaše|vaši)\b", "ru": r"\b(вы|вас|вам|ваш|ваше|ваша)\b",
    "hr": r"\b(vi|vas|vam|vaš|vaše|vaša)\b",
}

# The accusative after a number, in each language's plural rule: count -> what follows it in the summary.
HELD_BACK = {
    "en": {1: "1 message ", 2: "2 messages", 5: "5 messages"},
    "pl": {1: "1 wiadomość", 2: "2 wiadomości", 5: "5 wiadomości", 22: "22 wiadomości"},
    "cs": {1: "1 SMS zprávu", 3: "3 SMS zprávy", 5: "5 SMS zpráv", 11: "11 SMS zpráv"},
    "ru": {1: "1 сообщение", 3: "3 сообщения", 5: "5 сообщений", 11: "11 сообщений", 21: "21 сообщение",
           22: "22 сообщения", 112: "112 сообщений"},
    "hr": {1: "1 poruku", 3: "3 poruke", 5: "5 poruka", 12: "12 poruka", 21: "21 poruku", 24: "24 poruke"},
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _sms(renderer: Renderer, kind: str, locale: str, **changes) -> str:
    """The text as a producer sends it: the rendered body with its whitespace collapsed."""
    return " ".join(renderer.render(kind, locale, {**SAMPLE_CONTEXT, **changes}).body.split())


def _variables(renderer: Renderer, kind: str, locale: str) -> set[str]:
    source = (DEFAULT_TEMPLATES / kind / f"{locale}.txt.j2").read_text(encoding="utf-8")
    return meta.find_undeclared_variables(renderer.env.parse(source))


# --- every kind -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_every_kind_renders_in_every_locale_without_subject_layout_or_signature(renderer, kind, locale):
    source = (DEFAULT_TEMPLATES / kind / f"{locale}.txt.j2").read_text(encoding="utf-8")
    assert "{% block subject" not in source and "{% extends" not in source
    mail = renderer.render(kind, locale, SAMPLE_CONTEXT)
    assert mail.subject == ""
    body = mail.body.strip()
    assert body and "\n" not in body, body  # one line: nothing for the sender to collapse into a run-on
    assert "\n-- " not in mail.body and f"<{SAMPLE_CONTEXT['support_address']}>" not in body  # the layout's
    assert "{{" not in body and "{%" not in body


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_each_kind_uses_only_its_context_the_same_in_every_locale(renderer, kind, locale):
    used = _variables(renderer, kind, locale)
    assert used <= KIND_CONTEXT[kind] | RENDERER_CONTEXT, used - KIND_CONTEXT[kind] - RENDERER_CONTEXT
    assert used >= KIND_CONTEXT[kind], KIND_CONTEXT[kind] - used
    assert used <= set(SAMPLE_CONTEXT), "check() would not render it"
    assert used == _variables(renderer, kind, "en"), "a translation uses the English template's variables"


def test_check_renders_the_sms_templates(renderer):
    names = set(renderer.check())
    assert {f"{kind}/{locale}.txt.j2" for kind in KINDS for locale in LOCALES} <= names


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("kind", KINDS)
def test_each_locale_differs_from_english(renderer, kind, locale):
    for changes in ({}, LONG_TAG, {"tickets": [], "count": 1}, {"author_name": ""}):
        assert _sms(renderer, kind, locale, **changes) != _sms(renderer, kind, "en", **changes), changes


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("kind", KINDS)
def test_clients_are_addressed_formally(renderer, kind, locale):
    for changes in ({}, {"tickets": [], "count": 1}):
        text = _sms(renderer, kind, locale, **changes)
        assert not re.search(INFORMAL[locale], text, re.IGNORECASE), text
        assert not re.search(LOWERCASE_FORMAL[locale], text), text


@pytest.mark.parametrize("kind", KINDS)
def test_english_stays_in_the_gsm7_alphabet(renderer, kind):
    text = _sms(renderer, kind, "en", **LONG_TAG)
    assert set(text) <= GSM7_ASCII, set(text) - GSM7_ASCII


# --- sms_acknowledgement ----------------------------------------------------------------------------------

def _length(text: str, locale: str) -> int:
    """Septets for English (GSM-7: escaped characters count twice), UTF-16 units for the others (UCS-2)."""
    if locale == "en":
        return len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("subject", ["Printer does not print", LONG_SUBJECT, BRACKETED_SUBJECT],
                         ids=["short subject", "long subject", "bracketed subject"])
@pytest.mark.parametrize("locale", LOCALES)
def test_the_acknowledgement_fits_its_limit_with_a_long_tag(renderer, locale, subject):
    text = _sms(renderer, "sms_acknowledgement", locale, subject=subject, **LONG_TAG)
    assert _length(text, locale) <= ACK_LIMIT[locale], f"{_length(text, locale)} units: {text}"
    assert text.startswith("[HD#123456] ")
    if subject == "Printer does not print":
        assert subject in text
    else:
        assert " ".join(subject.split()[:2]) in text and subject not in text and "..." in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_acknowledgement_says_how_to_continue_in_words_the_gateway_recognises(renderer, locale):
    text = _sms(renderer, "sms_acknowledgement", locale, **LONG_TAG)
    instruction = text.split(SAMPLE_CONTEXT["subject"], 1)[1]  # what follows the client's own words
    pattern = re.compile(Settings.model_fields["sms_ticket_pattern"].default)
    found = [next(g for g in match.groups() if g) for match in pattern.finditer(instruction)]
    assert found == ["123456"], instruction


# --- sms_reply and its note -------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_the_reply_puts_the_text_last_as_written(renderer, locale):
    text = "First line of a long answer.\nSecond line " + "with many words " * 40
    body = renderer.render("sms_reply", locale, {**SAMPLE_CONTEXT, **LONG_TAG, "text": text}).body
    assert body.rstrip("\n").endswith(text)  # the sender trims the text: nothing may follow it
    head = body[: body.index(text)]
    assert head.startswith("[HD#123456] ") and SAMPLE_CONTEXT["author_name"] in head
    assert len(head) <= 40, head  # the answer gets the room


@pytest.mark.parametrize("locale", LOCALES)
def test_a_reply_without_an_author_name_is_from_the_support(renderer, locale):
    text = _sms(renderer, "sms_reply", locale, author_name="")
    assert text.startswith(f"[HD#1] {SAMPLE_CONTEXT['support_name']} ")
    assert text.endswith(SAMPLE_CONTEXT["text"])


@pytest.mark.parametrize("locale", LOCALES)
def test_the_full_answer_note_is_short_and_names_the_address(renderer, locale):
    text = _sms(renderer, "sms_full_answer_note", locale)
    assert len(text) <= NOTE_LIMIT, f"{len(text)} characters: {text}"
    assert SAMPLE_CONTEXT["email"] in text and "HD#" not in text  # appended: the reply said the tag


# --- help, stop, start and the summary --------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["sms_help", "sms_stopped", "sms_started", "sms_summary"])
def test_the_other_kinds_stay_short(renderer, kind, locale):
    for changes in ({}, {"tickets": list(range(100_000, 100_040)), "count": 112},
                    {"support_name": "Acme Support Desk", "support_address": "helpdesk@support.acme.example"}):
        text = _sms(renderer, kind, locale, **changes)
        assert len(text) <= OTHERS_LIMIT, f"{len(text)} characters: {text}"


@pytest.mark.parametrize("locale", LOCALES)
def test_help_says_who_we_are_how_tickets_work_and_how_to_stop(renderer, locale):
    text = _sms(renderer, "sms_help", locale)
    assert SAMPLE_CONTEXT["support_name"] in text and SAMPLE_CONTEXT["support_address"] in text
    assert re.search(r"\bSTOP\b", text) and "HD#" in text


@pytest.mark.parametrize(("kind", "keyword"), [("sms_stopped", "START"), ("sms_started", "STOP")])
@pytest.mark.parametrize("locale", LOCALES)
def test_stop_and_start_name_the_keyword_that_undoes_them(renderer, locale, kind, keyword):
    text = _sms(renderer, kind, locale)
    assert re.search(rf"\b{keyword}\b", text) and SAMPLE_CONTEXT["support_name"] in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_summary_names_the_count_and_the_tickets(renderer, locale):
    text = _sms(renderer, "sms_summary", locale, count=7, tickets=[12, 15, 19])
    assert re.search(r"\b7\b", text) and "12, 15, 19" in text
    one = _sms(renderer, "sms_summary", locale, count=1, tickets=[12])
    assert re.search(r"\b12\b", one) and one != _sms(renderer, "sms_summary", locale, count=1, tickets=[12, 15])


@pytest.mark.parametrize("locale", LOCALES)
def test_a_summary_without_tickets_lists_none(renderer, locale):
    text = _sms(renderer, "sms_summary", locale, count=3, tickets=[])
    assert "()" not in text and not re.search(r"[,(] *[.)]|  ", text), text
    assert text == " ".join(text.split()) and not re.search(r"\d+,", text)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_long_ticket_list_is_cut(renderer, locale):
    tickets = list(range(200, 240))
    text = _sms(renderer, "sms_summary", locale, count=40, tickets=tickets)
    assert "200, 201" in text and "209, ..." in text and "210" not in text


@pytest.mark.parametrize(("locale", "count"), [pytest.param(loc, n, id=f"{loc}-{n}")
                                               for loc, forms in HELD_BACK.items() for n in forms])
def test_the_summary_says_the_count_in_the_right_plural(renderer, locale, count):
    text = _sms(renderer, "sms_summary", locale, count=count, tickets=[12])
    assert HELD_BACK[locale][count] in text, text
