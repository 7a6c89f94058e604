"""The mail templates: every kind exists in every locale and renders with sample data in each branch.

Pure tests, no database: they use outbound.render directly, the way the service does at start.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from jinja2 import meta

from helpdesk.gateway.ground.errors import UserError
from helpdesk.outbound.render import DEFAULT_TEMPLATES, LOCALES, SAMPLE_CONTEXT, Renderer

# Every folder with templates in it is a kind of mail (templates/__pycache__ is not).
KINDS = sorted(p.name for p in DEFAULT_TEMPLATES.iterdir()
               if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.txt.j2")))
TRANSLATED = [loc for loc in LOCALES if loc != "en"]

# Kinds whose English body has no prose of its own (a technician's reply is forwarded as written),
# so a translation renders the same body as the English one.
LANGUAGE_NEUTRAL_BODY = {"reply"}

# Kinds sent as SMS: no subject block and no layout (an SMS has no signature).
SMS_KINDS = {"alert_sms", "sms_acknowledgement", "sms_reply", "sms_full_answer_note", "sms_help", "sms_stopped",
             "sms_started", "sms_summary"}

# Context variations on top of SAMPLE_CONTEXT, so every branch of every template is rendered.
VARIATIONS = {
    "sample": {},
    "event follow-up": {"event": "follow-up"},
    "event reopened": {"event": "reopened"},
    "event confirmed": {"event": "confirmed"},
    "event confirmed, no rating": {"event": "confirmed", "rating": None},
    "event assigned": {"event": "assigned"},
    "event unknown": {"event": "merged"},
    "strategy broadcast": {"strategy": "broadcast", "assigned_to_you": False},
    "strategy dispatcher": {"strategy": "dispatcher", "assigned_to_you": False},
    "assigned to you": {"assigned_to_you": True},
    "no text": {"text": ""},
    "no rating": {"rating": None},
    "no requester name": {"requester_name": ""},
    "several errors": {"errors": ["#tkae: unknown command", "#priority: no level 'asap'"]},
    "confirm_days 1": {"confirm_days": 1},
    "confirm_days 3": {"confirm_days": 3},
    "confirm_days 21": {"confirm_days": 21},
    "author signed": {"author_signed": True},
    "female requester": {"requester_gender": "female", "requester_vocative": "Nováková"},
    "male requester, no vocative": {"requester_gender": "male", "requester_vocative": ""},
    "gender unknown": {"requester_gender": "", "requester_vocative": ""},
}

# The reply word that confirms a resolved ticket, as the resolved template tells the client.
YES_WORD = {"en": "yes", "pl": "tak", "cs": "ano", "ru": "да", "hr": "da"}

CASES = [pytest.param(kind, locale, id=f"{kind}-{locale}") for kind in KINDS for locale in LOCALES]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _path(kind: str, locale: str) -> Path:
    return DEFAULT_TEMPLATES / kind / f"{locale}.txt.j2"


def _variables(renderer: Renderer, kind: str, locale: str) -> set[str]:
    """The context variables a template uses (its blocks included, the layout's not)."""
    source = _path(kind, locale).read_text(encoding="utf-8")
    return meta.find_undeclared_variables(renderer.env.parse(source))


def test_the_new_kinds_are_there():
    assert {"acknowledgement", "reopened", "reply", "resolved", "auto_closed", "staff_new", "staff_update",
            "command_result"} <= set(KINDS)


def test_renderer_kinds_are_the_folders(renderer):
    assert list(renderer.kinds()) == KINDS


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_template_renders_in_every_branch(renderer, kind, locale):
    path = _path(kind, locale)
    assert path.is_file(), f"missing template {kind}/{locale}.txt.j2"
    source = path.read_text(encoding="utf-8")
    subject_lines = [line for line in source.splitlines() if "{% block subject %}" in line]
    if kind in SMS_KINDS:
        assert not subject_lines, "an SMS has no subject"
    else:
        assert len(subject_lines) == 1 and "{% endblock %}" in subject_lines[0], "the subject block is one line"

    used = _variables(renderer, kind, locale)
    if locale != "en":
        assert used == _variables(renderer, kind, "en"), "a translation uses the English template's variables"

    for name, changes in VARIATIONS.items():
        context = {**SAMPLE_CONTEXT, **changes}
        mail = renderer.render(kind, locale, context)
        where = f"{kind}/{locale} with {name}"
        assert "\n" not in mail.subject, where
        assert mail.body.strip(), where
        if kind in SMS_KINDS:  # only an SMS about one ticket starts with its tag (not HELP, STOP, a summary)
            assert mail.subject == "" and ("tag" not in used or mail.body.startswith(context["tag"] + " ")), where
        else:
            assert mail.subject.startswith(context["tag"] + " "), where
            assert f'{context["support_name"]} <{context["support_address"]}>' in mail.body, where  # the layout
        assert "{{" not in mail.body and "{%" not in mail.body, where
        if "text" in used and context["text"]:
            assert context["text"] in mail.body, where
        if "errors" in used:
            for error in context["errors"]:
                assert error in mail.body, where
        if locale != "en":
            english = renderer.render(kind, "en", context)
            if kind in LANGUAGE_NEUTRAL_BODY:
                assert mail.body == english.body, where
            else:
                assert mail.body != english.body, f"{where}: the body is not translated"


@pytest.mark.parametrize("locale", LOCALES)
def test_resolved_tells_the_client_the_yes_word_and_the_rating(renderer, locale):
    body = renderer.render("resolved", locale, SAMPLE_CONTEXT).body
    assert re.search(rf'["„«]{YES_WORD[locale]}["“”»]', body), body
    assert re.search(r"\b1\b", body) and re.search(r"\b5\b", body), body


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["reply", "resolved"])
def test_an_answer_the_technician_signed_is_not_signed_again(renderer, kind, locale):
    name = SAMPLE_CONTEXT["author_name"]
    unsigned = renderer.render(kind, locale, {**SAMPLE_CONTEXT, "author_signed": False}).body
    signed = renderer.render(kind, locale, {**SAMPLE_CONTEXT, "author_signed": True}).body
    assert unsigned.count(name) == 1 and name not in signed
    assert SAMPLE_CONTEXT["text"] in signed


@pytest.mark.parametrize(("kind", "locale"), CASES)
def test_rendering_the_subject_and_the_body_uses_the_tag(renderer, kind, locale):
    mail = renderer.render(kind, locale, SAMPLE_CONTEXT)
    if kind in SMS_KINDS:  # an SMS has no subject: its text says what it uses of both
        used = _variables(renderer, kind, locale)
        assert "tag" not in used or "[HD#1]" in mail.body
        assert "subject" not in used or SAMPLE_CONTEXT["subject"] in mail.body
    else:
        assert "[HD#1]" in mail.subject
        assert SAMPLE_CONTEXT["subject"] in mail.subject


def test_check_passes_and_covers_every_template(renderer):
    names = set(renderer.check())
    assert {f"{kind}/{locale}.txt.j2" for kind in KINDS for locale in LOCALES} <= names


def _copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_check_names_the_file_and_line_of_a_syntax_error(tmp_path):
    directory = _copy_templates(tmp_path)
    (directory / "reply" / "pl.txt.j2").write_text(
        '{% extends "_layout.txt.j2" %}\n'
        "{% block subject %}{{ tag }} Re: {{ subject }}{% endblock %}\n"
        "{% block body %}\n"
        "{% if text %}\n"
        "{{ text }}\n"
        "{% endblock %}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"reply/pl\.txt\.j2:6: .*endif"):
        Renderer(directory).check()


def test_check_names_the_file_of_an_unknown_variable(tmp_path):
    directory = _copy_templates(tmp_path)
    path = directory / "auto_closed" / "hr.txt.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ confirm_days }}", "{{ confirm_dayz }}"),
                    encoding="utf-8")
    with pytest.raises(UserError, match=r"auto_closed/hr\.txt\.j2.*confirm_dayz"):
        Renderer(directory).check()


def test_a_missing_translation_falls_back_to_english(tmp_path):
    directory = _copy_templates(tmp_path)
    (directory / "resolved" / "hr.txt.j2").unlink()
    mail = Renderer(directory).render("resolved", "hr", SAMPLE_CONTEXT)
    assert mail.body == Renderer().render("resolved", "en", SAMPLE_CONTEXT).body

