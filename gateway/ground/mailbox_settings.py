"""IMAP mailboxes the gateway reads, from HELPDESK_IMAP_MAILBOXES (a JSON list).

    HELPDESK_IMAP_MAILBOXES='[{"name": "acme", "host": "imap.acme.example", "user": "support@acme.example",
                               "password_env": "ACME_IMAP_PASSWORD", "queue": "operations"}]'

Passwords never sit in the settings themselves: `password_env` names an environment variable,
`password_file` a file (e.g. a systemd credential) holding it. The variable may also be set in
the env file (HELPDESK_ENV_FILE) beside the HELPDESK_ settings: outside systemd nothing else
would put it in the environment. The environment wins, as it does for the settings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import BaseModel, Field, field_validator

from helpdesk.gateway.ground.errors import UserError


class MailboxConfig(BaseModel):
    name: str                                   # kebab-case; used in logs, leases and the database
    host: str
    port: int | None = None                     # default 993 for tls, else 143
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password_env: str | None = None
    password_file: Path | None = None
    folder: str = "INBOX"
    after: Literal["move", "seen"] = "move"      # what happens to a message once it is stored
    processed_folder: str = "Processed"         # for after=move; created when missing
    queue: str | None = None                    # queue for new tickets no routing rule placed
    poll_seconds: float = Field(60.0, gt=0)     # when the server has no IDLE (or idle is false)
    idle: bool = True
    batch: int = Field(100, gt=0, le=1000)      # messages fetched and committed together

    @field_validator("name")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value):
            raise ValueError(f"mailbox name {value!r} must be kebab-case")
        return value

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    def password(self) -> str:
        """Read the secret when connecting (so a rotated password file is picked up)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                value = _from_env_file(self.password_env)
            if value is None:
                raise UserError(f"mailbox {self.name}: {self.password_env} is set neither in the environment "
                                f"nor in the env file {env_file()}")
            return value
        if self.password_file:
            try:
                return self.password_file.read_text().strip()
            except OSError as exc:
                raise UserError(f"mailbox {self.name}: cannot read {self.password_file}: {exc.strerror}") from None
        raise UserError(f"mailbox {self.name}: set password_env or password_file")


def env_file() -> Path:
    """The env file the settings are read from (settings.load_settings)."""
    return Path(os.environ.get("HELPDESK_ENV_FILE", "helpdesk.env"))


def _from_env_file(name: str) -> str | None:
    path = env_file()
    if not path.is_file():
        return None
    try:
        return dotenv_values(path, encoding="utf-8").get(name)
    except (OSError, UnicodeError) as exc:
        raise UserError(f"cannot read the env file {path}: {exc}") from None
