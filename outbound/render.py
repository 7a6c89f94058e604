"""Render mail from the Jinja2 templates in the recipient's locale, English as the fallback.

Templates are read and compiled once; `check()` renders every one with sample data at start,
so a broken template stops the service before it is needed, not at send time.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from helpdesk import templates
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.outgoing import RenderedMail

DEFAULT_TEMPLATES = Path(templates.__file__).parent
LOCALES = ("en", "pl", "cs", "ru", "hr")

SAMPLE_CONTEXT = {
    "tag": "[HD#1]", "number": 1, "subject": "Printer does not print", "requester_name": "Jan Novák",
    "support_name": "Support", "support_address": "support@example.com",
    "requester_email": "jan@client.example", "author_name": "Anna Technician", "actor_name": "Dana Dispatcher",
    "text": "The printer works again.", "confirm_days": 7, "queue": "general", "priority": "normal",
    "assigned_to_you": False, "strategy": "broadcast", "event": "breach", "rating": 5,
    "errors": ["#tkae: unknown command"], "writer_name": "Eva Colleague", "writer_email": "eva@client.example",
    "sender_proven": False, "sender_proof": "no signed reply address", "cc_not_added": ["petr@client.example"],
    "staff_email": "anna@provider.example", "proof": "no signed reply address",
    "requester_gender": "male", "requester_vocative": "Nováku", "author_signed": False,
    # SLA alerts (sla_alert, alert_sms): "event" above is "breach" for them; staff_update renders its fallback line
    "targets": ["resolution"], "due": "2026-12-01 14:00 UTC", "overdue": "1 h 20 min", "used": "9 h 20 min",
    "target": "8 h", "share": 75, "level": 1, "alert_level": "important", "alert_id": 7,
    "alert_text": "critical object: the production line is stopped", "assignee_name": "Anna Technician",
    # SMS to clients (sms_*): where a cut answer went in full, and what the rate limit held back
    "email": "jan@client.example", "count": 7, "tickets": [12, 15, 19],
}


class Renderer:
    def __init__(self, directory: Path | None = None, default_locale: str = "en"):
        self.directory = Path(directory or DEFAULT_TEMPLATES)
        self.default_locale = default_locale
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            undefined=jinja2.StrictUndefined, autoescape=False,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            auto_reload=False,  # operators restart or reload to pick up edits
        )

    def _template(self, kind: str, locale: str | None) -> jinja2.Template:
        for candidate in (locale, self.default_locale, "en"):
            if candidate:
                try:
                    return self.env.get_template(f"{kind}/{candidate}.txt.j2")
                except jinja2.TemplateNotFound:
                    continue
        raise UserError(f"no template {kind}/en.txt.j2 in {self.directory}")

    def render(self, kind: str, locale: str | None, context: dict) -> RenderedMail:
        template = self._template(kind, locale)
        ctx = template.new_context(context)  # one for the subject and the whole mail (render() makes another)
        try:
            subject = "".join(template.blocks["subject"](ctx)).strip() if "subject" in template.blocks else ""
            body = self.env.concat(template.root_render_func(ctx))  # what Template.render does
        except Exception:
            self.env.handle_exception()  # as Template.render: the error points into the template
        return RenderedMail(subject=" ".join(subject.split()), body=body)

    def kinds(self) -> tuple[str, ...]:
        """Kinds of mail there are templates for (folder names), e.g. 'acknowledgement'."""
        names = self.env.list_templates(extensions=["j2"])
        return tuple(sorted({n.rpartition("/")[0] for n in names if "/" in n and not n.startswith("_")}))

    def check(self) -> list[str]:
        """Compile and sample-render every template; raise UserError on the first broken one."""
        names = [n for n in self.env.list_templates(extensions=["j2"]) if not n.startswith("_")]
        if not names:
            raise UserError(f"no templates found in {self.directory}")
        for name in names:
            kind, _, file = name.rpartition("/")
            try:
                self.render(kind, file.split(".")[0], SAMPLE_CONTEXT)
            except jinja2.TemplateSyntaxError as exc:
                raise UserError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
            except jinja2.TemplateError as exc:
                raise UserError(f"template {name}: {exc}") from None
        return names
