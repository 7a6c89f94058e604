"""Pipe delivery: an MTA (Postfix `pipe`, procmail) hands one message on stdin; exit 0 only once it is committed.

Exit codes are sysexits.h, as MTAs read them: 0 stored, 75 (EX_TEMPFAIL) keep it and retry,
65 (EX_DATAERR) a permanent failure the MTA bounces, 67 (EX_NOUSER) no such recipient here.
Every failure before the message is stored that is not the message's own fault (its size, an
empty stdin) or a refused recipient is 75: Postfix bounces the client's mail on anything else.
Recipients are accepted by the same rule as SMTP's RCPT (`base_address` in the accepted set):
mail the listener would refuse with 550 is refused here too, not stored for nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.ports import RawMessageStore

EX_OK, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 65, 67, 75


@dataclass(frozen=True)
class PipeResult:
    exit_code: int
    message: str   # "stored as 12", or the one line the MTA logs


def deliver_from_pipe(stdin: BinaryIO, sender: str | None, recipients: list[str], max_bytes: int,
                      open_store: Callable[[], RawMessageStore], accepted: frozenset[str]) -> PipeResult:
    """Read one message and commit it through the store `open_store()` returns (opened only for a good message).
    Of the recipients only the accepted ones are kept, as SMTP would; none accepted is EX_NOUSER."""
    kept = [r for r in recipients if base_address(r) in accepted]
    if recipients and not kept:
        return PipeResult(EX_NOUSER, f"550 5.1.1 no such recipient here: {', '.join(recipients)}")
    try:
        raw = stdin.read(max_bytes + 1)
    except OSError as exc:  # the MTA still has the message: let it try again
        return PipeResult(EX_TEMPFAIL, f"temporary failure, cannot read the message on stdin: {exc}")
    if len(raw) > max_bytes:
        return PipeResult(EX_DATAERR, f"message larger than {max_bytes} bytes")
    if not raw.strip():
        return PipeResult(EX_DATAERR, "empty message on stdin")
    try:
        store = open_store()
        new_id = store.commit([RawInbound(raw, sender, tuple(kept), source="pipe")])[0]
    except TempFail as exc:
        return PipeResult(EX_TEMPFAIL, f"temporary failure, message not stored ({exc})")
    except Exception as exc:  # anything unexpected: never let the MTA drop the message
        return PipeResult(EX_TEMPFAIL, f"temporary failure, message not stored: {type(exc).__name__}: {exc}")
    return PipeResult(EX_OK, f"stored as {new_id}")
