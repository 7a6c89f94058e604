"""The SLA alert templates: the staff mail (sla_alert) and the SMS (alert_sms), every event in every locale.

Pure tests, no database: they render through outbound.render.Renderer, the way the alert fan-out does.
"""

from __future__ import annotations

import re

import pytest
from jinja2 import meta

from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.outbound.render import DEFAULT_TEMPLATES, LOCALES, SAMPLE_CONTEXT, Renderer

MAIL, SMS = "sla_alert", "alert_sms"
EVENTS = ("warning", "breach", "escalation", "alert")
SLA_EVENTS = ("warning", "breach", "escalation")
TRANSLATED = [loc for loc in LOCALES if loc != "en"]
SMS_LIMIT = 160  # one SMS; the test counts characters, not bytes or GSM septets

# The context the alert fan-out gives both templates, besides the renderer's own tag, number and support_*.
ALERT_CONTEXT = {"event", "targets", "subject", "queue", "priority", "assignee_name", "requester_name",
                 "requester_email", "due", "overdue", "used", "target", "share", "level", "alert_level",
                 "alert_text", "alert_id"}
RENDERER_CONTEXT = {"tag", "number", "support_name", "support_address"}

# How each locale names the SLA targets (the context gives them in English).
TARGET_WORDS = {
    "en": {"first response": "first response", "resolution": "resolution"},
    "pl": {"first response": "pierwsza odpowiedź", "resolution": "rozwiązanie"},
    "cs": {"first response": "první odpověď", "resolution": "vyřešení"},
    "ru": {"first response": "первый ответ", "resolution": "решение"},
    "hr": {"first response": "prvi odgovor", "resolution": "rješenje"},
}
TARGET_SETS = (["resolution"], ["first response"], ["first response", "resolution"])
LONG_SUBJECT = "Drukarka w sekretariacie na drugim piętrze nie drukuje od wczoraj"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _context(**changes) -> dict:
    return {**SAMPLE_CONTEXT, **changes}


def _sms(renderer: Renderer, locale: str, **changes) -> str:
    """The text as the fan-out sends it: the rendered body with its whitespace collapsed."""
    return " ".join(renderer.render(SMS, locale, _context(**changes)).body.split())


def _variables(renderer: Renderer, kind: str, locale: str) -> set[str]:
    source = (DEFAULT_TEMPLATES / kind / f"{locale}.txt.j2").read_text(encoding="utf-8")
    return meta.find_undeclared_variables(renderer.env.parse(source))


# --- both kinds ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", [MAIL, SMS])
def test_templates_use_only_the_alert_context_and_the_sample_has_all_of_it(renderer, kind, locale):
    used = _variables(renderer, kind, locale)
    assert used <= ALERT_CONTEXT | RENDERER_CONTEXT, used - ALERT_CONTEXT - RENDERER_CONTEXT
    assert used <= set(SAMPLE_CONTEXT), "check() would not render every branch"
    assert used == _variables(renderer, kind, "en"), "a translation uses the English template's variables"


def test_check_renders_the_alert_templates(renderer):
    names = set(renderer.check())
    assert {f"{kind}/{locale}.txt.j2" for kind in (MAIL, SMS) for locale in LOCALES} <= names


# --- the staff mail ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_the_mail_keeps_the_tickets_subject_and_says_the_event_first(renderer, locale):
    first_lines = set()
    for event in (*EVENTS, "something-new"):
        mail = renderer.render(MAIL, locale, _context(event=event))
        assert mail.subject == "[HD#1] Printer does not print", event  # threads with the ticket's staff mail
        first_line = mail.body.splitlines()[0]
        assert "[HD#1]" in first_line, event
        first_lines.add(first_line)
        assert "Support <support@example.com>" in mail.body, event  # the layout's signature
    assert len(first_lines) == len(EVENTS) + 1  # each event says itself


@pytest.mark.parametrize("targets", TARGET_SETS, ids=" + ".join)
@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_mail_is_translated_and_names_the_targets_in_its_language(renderer, locale, event, targets):
    context = _context(event=event, targets=targets)
    body = renderer.render(MAIL, locale, context).body
    assert body != renderer.render(MAIL, "en", context).body
    for target in targets:
        assert TARGET_WORDS[locale][target] in body, target
    for english in TARGET_WORDS["en"].values():
        assert english not in body, english


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_mail_says_what_to_do(renderer, locale, event):
    body = renderer.render(MAIL, locale, _context(event=event)).body
    assert re.search(r"^#ack\b", body, re.MULTILINE) and "#take" in body
    assert SAMPLE_CONTEXT["assignee_name"] in body and SAMPLE_CONTEXT["requester_email"] in body
    assert SAMPLE_CONTEXT["due"] in body and SAMPLE_CONTEXT["used"] in body and SAMPLE_CONTEXT["target"] in body


@pytest.mark.parametrize("locale", LOCALES)
def test_the_mail_says_the_share_the_level_and_the_reason(renderer, locale):
    assert f"{SAMPLE_CONTEXT['share']}" in renderer.render(MAIL, locale, _context(event="warning")).body
    first_lines = {renderer.render(MAIL, locale, _context(event="escalation", level=n)).body.splitlines()[0]
                   for n in (1, 2)}
    assert len(first_lines) == 2
    alert = renderer.render(MAIL, locale, _context(event="alert")).body
    assert SAMPLE_CONTEXT["alert_text"] in alert.splitlines()[0]


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_mail_translates_priorities_and_alert_levels(renderer, locale):
    bodies = {p: renderer.render(MAIL, locale, _context(priority=p)).body for p in PRIORITIES}
    assert len(set(bodies.values())) == len(PRIORITIES)
    for priority, body in bodies.items():
        assert not re.search(rf"\b{priority}\b", body), priority
    levels = {level: renderer.render(MAIL, locale, _context(event="alert", alert_level=level)).body
              for level in ("standard", "important", "urgent")}
    assert len(set(levels.values())) == 3
    for level, body in levels.items():
        assert not re.search(rf"\b{level}\b", body, re.IGNORECASE), level


# Values that are empty in real alerts: nobody has the ticket, the target is not overdue, no name or reason;
# an alert the routing rules raised may concern no SLA target (an SLA event always has one).
EMPTY = {"no assignee": {"assignee_name": ""}, "not overdue": {"overdue": ""}, "no requester name":
         {"requester_name": ""}, "no alert text": {"alert_text": ""}}
EMPTY_CASES = [pytest.param(locale, event, changes, id=f"{locale}-{event}-{name}")
               for locale in LOCALES for event in EVENTS for name, changes in EMPTY.items()] + \
              [pytest.param(locale, "alert", {"targets": []}, id=f"{locale}-alert-no targets") for locale in LOCALES]


@pytest.mark.parametrize(("locale", "event", "changes"), EMPTY_CASES)
def test_an_empty_value_leaves_no_dangling_words(renderer, locale, event, changes):
    context = _context(event=event, **changes)
    body = renderer.render(MAIL, locale, context).body
    assert not re.search(r"[,:;] *[,.;]|, *$| <>|\(\)", body, re.MULTILINE), body
    assert _sms(renderer, locale, **context).count("..") <= 1  # only the cut alert text's "..."
    if "assignee_name" in changes:
        assert body != renderer.render(MAIL, locale, _context(event=event)).body
    if "requester_name" in changes:
        assert f"<{context['requester_email']}>" not in body and context["requester_email"] in body


# --- the SMS ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_sms_is_short_signed_by_nobody_and_says_how_to_stop_it(renderer, locale, event):
    rendered = renderer.render(SMS, locale, _context(event=event))
    text = _sms(renderer, locale, event=event)
    assert len(text) <= SMS_LIMIT, f"{len(text)} characters: {text}"
    assert rendered.subject == "" and len(rendered.body.strip().splitlines()) <= 2
    assert SAMPLE_CONTEXT["support_address"] not in rendered.body  # no signature
    assert text.startswith("[HD#1] ") and "#ack" in text and SAMPLE_CONTEXT["subject"] in text


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_long_subject_is_cut_to_keep_the_sms_one_message(renderer, locale, event):
    text = _sms(renderer, locale, event=event, subject=LONG_SUBJECT, overdue="12 h 20 min")
    assert len(text) <= SMS_LIMIT, f"{len(text)} characters: {text}"
    assert "Drukarka" in text and LONG_SUBJECT not in text and "..." in text
    assert "#ack" in text


@pytest.mark.parametrize("targets", TARGET_SETS, ids=" + ".join)
@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_sms_is_translated_and_names_the_targets_in_its_language(renderer, locale, event, targets):
    text = _sms(renderer, locale, event=event, targets=targets)
    assert text != _sms(renderer, "en", event=event, targets=targets)
    if event in SLA_EVENTS:  # an alert's SMS says its reason instead
        for target in targets:
            assert TARGET_WORDS[locale][target] in text, target
    for english in TARGET_WORDS["en"].values():
        assert english not in text, english


@pytest.mark.parametrize("locale", LOCALES)
def test_each_sms_event_says_itself(renderer, locale):
    heads = {_sms(renderer, locale, event=event).split(".")[0] for event in (*EVENTS, "something-new")}
    assert len(heads) == len(EVENTS) + 1
