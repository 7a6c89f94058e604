"""DATA read in blocks (inbound/smtp_data.py) against aiosmtpd's own line-by-line DATA.

Both servers run on loopback sockets and get the same bytes, written in the same pieces; every
reply of the session and every message a handler is given must be the same. The inputs are
built from what trips a DATA reader: dot-stuffed lines, lines of one dot that do or do not end the
data, bare CR and LF, lines just under, at and over the line limit, sections just under, at and
over the size limit, and commands pipelined behind the final dot.
"""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import SMTP
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.inbound.smtp_data import BlockData, unstuff

COMMANDS_BEFORE = b"EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<support@desk.example>\r\n"


class Recorder:
    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        return "250 stored"


def _server_class(base, line_limit: int):
    return type(f"{base.__name__}Limited", (base,), {"line_length_limit": line_limit})


class Reference(SMTP):
    pass


class Blocks(BlockData, SMTP):
    pass


async def _session(cls, size_limit: int, pieces: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Every reply line the client read, and the messages the handler got."""
    handler = Recorder()
    server = await asyncio.get_running_loop().create_server(
        lambda: cls(handler, data_size_limit=size_limit, decode_data=False, hostname="desk.example"),
        "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readline()  # the greeting
        writer.write(COMMANDS_BEFORE + b"DATA\r\n")
        replies = []
        while not (line := await reader.readline()).startswith(b"354"):  # EHLO's lines, MAIL, RCPT
            replies.append(line)
        replies.append(line)
        try:
            for piece in [*pieces, b"QUIT\r\n"]:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.001)  # the server reads each piece on its own, mostly
        except ConnectionError:  # a QUIT in the data's pipelined commands ended the session
            pass
        try:
            while line := await asyncio.wait_for(reader.readline(), 5):
                replies.append(line)
        except ConnectionError:
            pass
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
    return replies, handler.messages


def _both(line_limit: int, size_limit: int, pieces: list[bytes]):
    async def run():
        return (await _session(_server_class(Reference, line_limit), size_limit, pieces),
                await _session(_server_class(Blocks, line_limit), size_limit, pieces))
    return asyncio.run(run())


LINE_LIMIT = 60  # room for the commands above (the reader's limit is the line limit in both)
atoms = st.sampled_from([b"", b".", b"..", b"a", b"hello", b"\r", b"\n", b" .", b"x" * 25, b"y" * 58,
                         b"z" * 59, b"w" * 61, b"v" * 80, "ž".encode()])
lines = st.lists(atoms, max_size=4).map(b"".join)
endings = st.sampled_from([b"\r\n.\r\n", b"\r\n.\r\nRSET\r\n", b"\r\n.\r\nNOOP\r\nMAIL FROM:<b@c.example>\r\n",
                           b"\r\nRSET\r\n.\r\n"])  # the last: a command as a line of the message


@st.composite
def sections(draw):
    # A line of one dot inside would end the section early and make the rest commands, some of
    # them bogus enough for aiosmtpd to hang up: the endings below and the examples cover it.
    body = b"\r\n".join(line if line != b"." else b".." for line in draw(st.lists(lines, max_size=8)))
    stream = (b"" if not body and draw(st.booleans()) else body) + draw(endings)
    if stream.startswith(b"\r\n") and draw(st.booleans()):
        stream = stream[2:]  # an empty section: the dot comes first
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=4, unique=True)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)]) if stream[a:b]]
    return draw(st.sampled_from([20, 59, 60, 61, 62, 100, 150, 400])), pieces


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sections())
def test_blocks_answer_and_keep_what_aiosmtpd_does(case):
    size_limit, pieces = case
    reference, blocks = _both(LINE_LIMIT, size_limit, pieces)
    assert blocks == reference


def test_the_cases_that_matter_each_come_out_as_aiosmtpd_says():
    examples = {
        "a line of one dot ends it; a stuffed one does not": [b"..\r\n.. two\r\nend.\r\n.\r\n"],
        "an empty message": [b".\r\n"],
        "the dot split from its line end": [b"one\r\n.", b"\r\n"],
        "a line over the limit, then more than the size": [b"v" * 80 + b"\r\n" + b"x\r\n" * 40 + b".\r\n"],
        "more than the size, then a line over the limit": [b"x\r\n" * 40 + b"v" * 80 + b"\r\n.\r\n"],
        "a bare LF before the dot is not a line end": [b"one\n.\r\ntwo\r\n.\r\n"],
    }
    for name, pieces in examples.items():
        reference, blocks = _both(LINE_LIMIT, 100, pieces)
        assert blocks == reference, name
    (replies, _), _ = _both(LINE_LIMIT, 100, examples["a line over the limit, then more than the size"])
    assert replies[-2].startswith(b"500 ")  # the order decides: both refusals are reached
    (replies, _), _ = _both(LINE_LIMIT, 100, examples["more than the size, then a line over the limit"])
    assert replies[-2].startswith(b"552 ")


def test_a_section_of_exactly_the_size_limit_is_taken_and_one_octet_more_is_not():
    ten = b"x" * 8 + b"\r\n"
    for size_limit in (100, 50):  # over and under the line limit: the two ways the size is judged
        lines = size_limit // len(ten)
        for body, taken in ((ten * lines, True), (ten * (lines - 1) + b"x" * 9 + b"\r\n", False)):
            reference, blocks = _both(LINE_LIMIT, size_limit, [body + b".\r\n"])
            assert blocks == reference
            assert (reference[1] == [body]) is taken, (size_limit, len(body))


def test_unstuffing_takes_one_dot_from_each_line_that_starts_with_one():
    assert unstuff(b"..a\r\n.\r\n...\r\nb.\r\n") == b".a\r\n\r\n..\r\nb.\r\n"
    assert unstuff(b"a\n.b\r\n") == b"a\n.b\r\n"  # a bare LF ends no line
