"""SMTP pieces of the intake benchmark: pre-built client mail, a hand-written load generator and a sink.

The load generator speaks SMTP over raw asyncio streams (EHLO once per connection, then
MAIL/RCPT/DATA per message) and times each message from the end of DATA to the reply.
The sink stands in for the relay in its own process and records, per acknowledgement, its
arrival time (time.monotonic(), which is system-wide on Linux) and its In-Reply-To.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate

FILLER = ("The label printer in the warehouse stops after a few pages and shows error E-42; "
          "restarting it helps for an hour. ")


def build_messages(n: int, run_id: str, to: str) -> tuple[list[bytes], list[bytes], list[str]]:
    """n distinct ~2 KB new-ticket mails; returns (envelope senders, DATA payloads, Message-IDs)."""
    body = "".join(f"{FILLER}({line})\r\n" for line in range(15))  # no line starts with "."
    senders, payloads, ids = [], [], []
    date = formatdate(localtime=False)
    for i in range(n):
        sender, msgid = f"client{i}.{run_id}@bench.example", f"bench-{run_id}-{i}@bench.example"
        headers = (f"From: Client {i} <{sender}>\r\nTo: {to}\r\nSubject: Printer trouble, case {i}\r\n"
                   f"Date: {date}\r\nMessage-ID: <{msgid}>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n")
        senders.append(sender.encode())
        payloads.append((headers + body).encode() + b".\r\n")
        ids.append(msgid)
    return senders, payloads, ids


@dataclass
class LoadResult:
    started: list[float]     # MAIL FROM sent
    data_end: list[float]    # final "\r\n.\r\n" written
    replied: list[float]     # reply to DATA read (0.0: none)
    codes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _reply(reader: asyncio.StreamReader) -> int:
    """Read one (possibly multi-line) SMTP reply; return its code."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed by the gateway")
        if line[3:4] != b"-":
            return int(line[:3])


async def _command(reader, writer, line: bytes) -> int:
    writer.write(line)
    return await _reply(reader)


async def _envelope(reader, writer, sender: bytes, rcpt: bytes, pipelining: bool) -> int:
    """MAIL, RCPT and DATA; 354 or the first other code. Pipelined (RFC 2920), as Postfix and other
    MTAs send when the server offers it: one write, the three replies read together."""
    commands = ((b"MAIL FROM:<%s>\r\n" % sender, 250), (b"RCPT TO:<%s>\r\n" % rcpt, 250), (b"DATA\r\n", 354))
    if pipelining:
        writer.write(b"".join(line for line, _ in commands))
        codes = [await _reply(reader) for _ in commands]
        return next((code for code, (_, want) in zip(codes, commands) if code != want), 354)
    for line, want in commands:
        if (code := await _command(reader, writer, line)) != want:
            return code
    return 354


async def _transaction(reader, writer, i: int, sender: bytes, rcpt: bytes, payload: bytes, res: LoadResult,
                       pipelining: bool = False):
    res.started[i] = time.monotonic()
    code = await _envelope(reader, writer, sender, rcpt, pipelining)
    if code != 354:
        res.codes[i] = code
        await _command(reader, writer, b"RSET\r\n")
        return
    writer.write(payload)
    res.data_end[i] = time.monotonic()
    res.codes[i] = await _reply(reader)
    res.replied[i] = time.monotonic()


async def _connect(host: str, port: int):
    reader, writer = await asyncio.open_connection(host, port)
    if await _reply(reader) != 220 or await _command(reader, writer, b"EHLO loadgen.bench.example\r\n") != 250:
        raise ConnectionError("gateway refused the session")
    return reader, writer


async def run_load(host: str, port: int | list[int], rcpt: str, senders: list[bytes], payloads: list[bytes],
                   concurrency: int, rate: float, pipelining: bool = False) -> LoadResult:
    """Send every payload over `concurrency` connections, paced to `rate` msgs/s when rate > 0.
    Several ports (gateway instances): the connections are spread over them in turn."""
    n = len(payloads)
    res = LoadResult([0.0] * n, [0.0] * n, [0.0] * n, [0] * n)
    ports = port if isinstance(port, list) else [port]
    conns = await asyncio.gather(*(_connect(host, ports[c % len(ports)]) for c in range(concurrency)))
    todo = iter(range(n))
    t0 = time.monotonic()

    async def worker(reader, writer):
        for i in todo:  # shared iterator: whichever connection is free takes the next message
            if rate > 0 and (delay := t0 + i / rate - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            try:
                await _transaction(reader, writer, i, senders[i], rcpt.encode(), payloads[i], res, pipelining)
            except (ConnectionError, ValueError) as exc:
                res.errors.append(f"message {i}: {exc}")
                return
        await _command(reader, writer, b"QUIT\r\n")
        writer.close()

    await asyncio.gather(*(worker(r, w) for r, w in conns))
    return res


# --- the sink (runs in its own process) -------------------------------------------------------

IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*<([^>\s]+)>", re.IGNORECASE | re.MULTILINE)


class AckRecorder:
    """aiosmtpd handler: keeps (In-Reply-To, arrival time) per message and nothing else."""

    def __init__(self, counter, pipelining: bool = True):
        self.arrivals: list[tuple[str | None, float]] = []
        self.counter, self.pipelining = counter, pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # PIPELINING, as a Postfix relay offers it (aiosmtpd reads pipelined commands in order).
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        found = IN_REPLY_TO.search(head)
        self.arrivals.append((found.group(1).decode() if found else None, now))
        self.counter.value += 1
        return "250 2.0.0 OK"


async def _sink_main(port: int, conn, counter, pipelining: bool) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    recorder = AckRecorder(counter, pipelining)
    server = await loop.create_server(lambda: SMTP(recorder, hostname="sink.bench", ident="bench sink"),
                                      "127.0.0.1", port)
    conn.send("ready")
    await loop.run_in_executor(None, conn.recv)  # any message means: stop and report
    server.close()
    conn.send(recorder.arrivals)


def run_sink(port: int, conn, counter, pipelining: bool = True) -> None:
    """Process target: serve until the parent asks, then send back the arrivals list."""
    asyncio.run(_sink_main(port, conn, counter, pipelining))
