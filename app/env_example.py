"""Write systemd/helpdesk.env.example from the settings class, so the example cannot drift from it.

Every setting appears with its default and the comment written above it in
gateway/ground/settings.py (a comment above several fields in a row covers all of them).
Regenerate after changing a setting:  python -m helpdesk.app.env_example > systemd/helpdesk.env.example
"""

from __future__ import annotations

import ast
import inspect
import json
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from helpdesk.gateway.ground import settings as settings_module
from helpdesk.gateway.ground.settings import Settings

HEADER = """\
# /etc/helpdesk/helpdesk.env: settings of the helpdesk gateway, read by `helpdesk serve` (the
# unit's EnvironmentFile) and by every other helpdesk command through HELPDESK_ENV_FILE.
# Syntax: KEY=value, one a line, no quotes needed; a line starting with # is a comment.
# Commented-out keys show their default. The README's "Configuration" table says the same.
# (Generated from gateway/ground/settings.py by `python -m helpdesk.app.env_example`.)
"""

# What a production install (see the README's "Installing as a service") sets instead of the
# development defaults; everything else stays commented out at its default.
PRODUCTION_VALUES = {
    "database_url": "postgresql://helpdesk@/helpdesk",  # the local socket: peer authentication, no password
    "smtp_listen": "127.0.0.1:2525",
    "relay": "127.0.0.1:25",
    "support_address": "support@example.com",
    "support_name": "Example Support",
    "rules": "/etc/helpdesk/rules.yaml",
    "secret_key_file": "/etc/helpdesk/helpdesk.secret",  # one key for all instances, outside the state
}


def field_groups(source: str) -> list[tuple[list[str], list[str]]]:
    """(comment lines, field names) for each comment block in class Settings and the fields under it."""
    lines = source.splitlines()
    body = next(node for node in ast.parse(source).body
                if isinstance(node, ast.ClassDef) and node.name == "Settings").body
    groups: list[tuple[list[str], list[str]]] = []
    for node in body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        comment = _comment_above(lines, node.lineno - 1)
        if comment or not groups:
            groups.append((comment, []))
        groups[-1][1].append(node.target.id)
    return groups


def _comment_above(lines: list[str], index: int) -> list[str]:
    comment: list[str] = []
    while index > 0 and lines[index - 1].strip().startswith("#"):
        index -= 1
        comment.insert(0, lines[index].strip().removeprefix("#").strip())
    return comment


def env_value(value) -> str:
    """A default as it is written in an env file: what the settings class reads back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, Path | date | SecretStr | int | float | str):
        return str(value)
    raise TypeError(f"no env-file form for {value!r}")


def render_env_example() -> str:
    out = [HEADER.rstrip("\n")]
    for comment, names in field_groups(inspect.getsource(settings_module)):
        out.append("")
        out.extend(f"# {line}".rstrip() for line in comment)
        for name in names:
            key, default = f"HELPDESK_{name.upper()}", env_value(Settings.model_fields[name].default)
            if name in PRODUCTION_VALUES:
                out.append(f"# default: {default or '(unset)'}")
                out.append(f"{key}={PRODUCTION_VALUES[name]}")
            else:
                out.append(f"#{key}={default}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_env_example(), end="")
