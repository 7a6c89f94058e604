"""The secret that signs Message-IDs and envelope senders: from the environment, a file, or made once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from helpdesk.gateway.ground.errors import UserError


def load_secret(secret: str | None, secret_file: Path | None, default_file: Path) -> bytes:
    """HELPDESK_SECRET_KEY, else HELPDESK_SECRET_KEY_FILE, else a file made once beside the data
    (every instance sharing a database must use the same secret: set it explicitly there)."""
    if secret:
        return secret.encode()
    path = secret_file or default_file
    try:
        if not path.exists() and secret_file is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        value = path.read_text().strip()
    except FileExistsError:  # another process created it at the same moment
        value = path.read_text().strip()
    except OSError as exc:
        raise UserError(f"cannot read or create the secret key file {path}: {exc.strerror}") from None
    if len(value) < 16:
        raise UserError(f"the secret key in {path} is too short (at least 16 characters)")
    return value.encode()
