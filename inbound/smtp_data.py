"""Read an SMTP DATA section in a few large reads instead of one per line.

aiosmtpd reads DATA a line at a time: an await, a debug log call and a join per line, about a
sixth of its session's CPU for a 2 KB mail (bench/ingest.py). Here the reader asks for everything
up to the next ".\\r\\n", which ends the data only at the start of a line; a line that merely ends
in a dot costs one more read. The result is aiosmtpd's own, byte for byte and reply for reply
(tests/test_smtp_data.py runs both on the same input, split at random points):

- the content has the dot-stuffing undone (RFC 5321 4.5.2) and keeps every line's CRLF;
- a section over `size_limit` octets (the terminator not counted) is answered 552, one with a line
  over `line_limit` octets 500, whichever comes first in the data, after the whole section has been
  read (RFC 5321 4.2.5), and nothing of it is kept past the limit.
"""

from __future__ import annotations

import asyncio
import enum
import logging

from aiosmtpd.smtp import MISSING, SMTP, syntax

log = logging.getLogger("helpdesk.inbound")
TERMINATOR = b".\r\n"   # a line of one dot
TOO_LONG_REPLY = "500 Line too long (see RFC5321 4.5.3.1.6)"  # aiosmtpd's words, so the same
TOO_MUCH_REPLY = "552 Error: Too much mail data"                # enhanced codes are added to them


class _State(enum.Enum):
    NOMINAL = enum.auto()
    TOO_LONG = enum.auto()
    TOO_MUCH = enum.auto()


class _Tally:
    """aiosmtpd's judgement of a section, fed whole lines (or, past an overlong line, pieces)."""

    def __init__(self, size_limit: int, line_limit: int):
        self.size_limit, self.line_limit = size_limit, line_limit
        self.state, self.octets, self.open_line = _State.NOMINAL, 0, 0

    def overlong(self) -> None:
        # aiosmtpd's reader overran its limit inside a line: judged before the piece is counted.
        if self.state is _State.NOMINAL:
            self.state = _State.TOO_LONG

    def piece(self, piece: bytes) -> None:
        self.octets += len(piece)
        if self.state is _State.NOMINAL and self.octets > self.size_limit:
            self.state = _State.TOO_MUCH
        self.open_line += len(piece)
        if piece.endswith(b"\r\n"):
            if self.state is _State.NOMINAL and self.open_line > self.line_limit:
                self.state = _State.TOO_LONG
            self.open_line = 0

    def lines(self, block: bytes) -> None:
        """Whole lines read in one block; a line aiosmtpd's reader could not have taken in one read
        (its limit is `line_limit`: over it by more than the CRLF) is judged as it would be."""
        for line in block.split(b"\r\n")[:-1]:
            if len(line) > self.line_limit:
                self.overlong()
            self.piece(line + b"\r\n")

    @property
    def reply(self) -> str | None:
        return {_State.TOO_LONG: TOO_LONG_REPLY, _State.TOO_MUCH: TOO_MUCH_REPLY}.get(self.state)


def unstuff(block: bytes) -> bytes:
    """RFC 5321 4.5.2: a line's leading dot was added by the client; lines end only at CRLF."""
    block = block.replace(b"\r\n.", b"\r\n")
    return block[1:] if block.startswith(b".") else block


async def read_data(reader: asyncio.StreamReader, size_limit: int, line_limit: int) -> tuple[bytes, str | None]:
    """(content, None), or (b"", the error reply) once the whole section is read. The reader's
    limit is raised for the reads, so that a block that overruns it is over `size_limit` too, and
    put back to `line_limit` after. A size limit is needed: without one, memory is the limit."""
    if size_limit <= 0:
        raise ValueError("DATA needs a size limit")
    blocks, octets = [], 0
    reader._limit = max(line_limit, size_limit) + len(TERMINATOR) + 2  # type: ignore[attr-defined]
    try:
        while True:
            try:
                block = await reader.readuntil(TERMINATOR)
            except asyncio.LimitOverrunError:  # already over the size limit: nothing more is kept
                return b"", await _judge_rest(reader, b"".join(blocks), size_limit, line_limit)
            if block == TERMINATOR or block.endswith(b"\r\n" + TERMINATOR):
                blocks.append(block[:-len(TERMINATOR)])
                octets += len(blocks[-1])
                break
            blocks.append(block)
            octets += len(block)
            if octets > size_limit:
                return b"", await _judge_rest(reader, b"".join(blocks), size_limit, line_limit)
    finally:
        reader._limit = line_limit  # type: ignore[attr-defined]
    content = b"".join(blocks)
    if octets > min(size_limit, line_limit):  # else no limit can have been passed
        tally = _Tally(size_limit, line_limit)
        tally.lines(content)
        if tally.reply:
            return b"", tally.reply
    return unstuff(content), None


async def _judge_rest(reader: asyncio.StreamReader, read: bytes, size_limit: int, line_limit: int) -> str:
    """The section is refused: judge what was read, then read the rest a line at a time as
    aiosmtpd does (its verdict depends on where an overlong line falls), keeping none of it."""
    tally = _Tally(size_limit, line_limit)
    tally.lines(read)
    reader._limit = line_limit  # type: ignore[attr-defined]
    while True:
        try:
            piece = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as exc:
            tally.overlong()
            piece = await reader.read(exc.consumed)
        if piece == TERMINATOR and tally.open_line == 0:
            return tally.reply or TOO_MUCH_REPLY
        tally.piece(piece)


class BlockData(SMTP):
    """aiosmtpd's DATA, its checks, replies and handler call, with the section read by `read_data`.
    For sessions that keep the content as bytes (decode_data=False), as the gateway does."""

    def body_started(self) -> None:
        """The section's reading begins (after the 354); a subclass may tell its intake."""

    def body_ended(self) -> None:
        """The section is read, or its reading failed; the handler's DATA hook comes next, if any."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if self._decode_data:  # text content: aiosmtpd's own way
            await super().smtp_DATA(arg)
            return
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self.body_started()
        try:
            content, refusal = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except asyncio.CancelledError:  # the connection was reset during DATA
            log.info("connection lost during DATA")
            self._writer.close()
            raise
        finally:
            self.body_ended()
        if refusal is not None:
            await self.push(refusal)
            self._set_post_data_state()
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)
