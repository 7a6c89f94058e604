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
            _create_once(path)
        value = path.read_text().strip()
    except FileExistsError:  # another process created it at the same moment
        value = path.read_text().strip()
    except OSError as exc:
        raise UserError(f"cannot read or create the secret key file {path}: {exc.strerror}") from None
    if len(value) < 16:
        raise UserError(f"the secret key in {path} is too short (at least 16 characters)")
    return value.encode()


def _create_once(path: Path) -> None:
    """Write a new key to a private temporary file and link it into place: the key file appears
    whole or not at all, so a process starting at the same moment never reads it half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # raises FileExistsError when another process was first
    finally:
        tmp.unlink(missing_ok=True)
