"""The intake's group commit waits a moment for bodies other sessions are still reading, and never
longer: over the real listener, raw sockets and the real database (both)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from helpdesk.inbound.intake import InboundWriter
from helpdesk.inbound.smtp import IntakeHandler, start_listener
from helpdesk.store.db import is_sqlite
from helpdesk.store.inbound_messages import HeldSqliteCommitter, RawMessageCommitter

SUPPORT = "support@helpdesk.test"
WAIT = 1.5  # the group's wait in these tests: long enough to tell a wait from none on a busy machine


class GroupsSeen:
    """The real committer, with the size of each group it was given written down."""

    def __init__(self, engine):
        committer = HeldSqliteCommitter if is_sqlite(engine) else RawMessageCommitter
        self.inner, self.groups = committer(engine), []

    def commit(self, items):
        self.groups.append(len(items))
        return self.inner.commit(items)

    def close(self):
        self.inner.close()


class Session:
    """One SMTP client on a raw socket, so that a body can be left unfinished."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        assert self.reply().startswith(b"220")

    def reply(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def command(self, line: str) -> bytes:
        self.sock.sendall(line.encode() + b"\r\n")
        answer = self.reply()
        while answer[3:4] == b"-":
            answer = self.reply()
        return answer

    def begin_body(self, n: int) -> None:
        assert self.command("EHLO client.example").startswith(b"250")
        assert self.command(f"MAIL FROM:<c{n}@client.example>").startswith(b"250")
        assert self.command(f"RCPT TO:<{SUPPORT}>").startswith(b"250")
        assert self.command("DATA").startswith(b"354")
        self.sock.sendall(f"From: c{n}@client.example\r\nSubject: group {n}\r\n\r\nbody {n}\r\n".encode())

    def end_body(self) -> None:
        self.sock.sendall(b".\r\n")

    def close(self) -> None:
        self.sock.close()


async def _listening(engine, group_wait: float):
    committer = GroupsSeen(engine)
    writer = InboundWriter(committer, group_wait=group_wait)
    handler = IntakeHandler(writer, frozenset({SUPPORT}), "helpdesk.test")
    server = await start_listener(handler, "127.0.0.1", 0, 1_000_000)
    return committer, writer, server, asyncio.create_task(writer.run())


def _run(engine, group_wait: float, client) -> list[int]:
    """`client(port)` in a thread against a listener on this loop; the groups committed."""
    async def scenario():
        committer, writer, server, task = await _listening(engine, group_wait)
        try:
            await asyncio.to_thread(client, server.sockets[0].getsockname()[1])
        finally:
            server.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            writer.close()
        return committer.groups
    return asyncio.run(scenario())


def test_bodies_still_being_read_join_the_group_of_the_first_message(engine):
    def client(port):
        first, second, third = Session(port), Session(port), Session(port)
        for n, session in enumerate((first, second, third)):
            session.begin_body(n)
        first.end_body()          # the first message is complete while two bodies are still coming
        time.sleep(0.2)
        second.end_body()
        third.end_body()
        assert [s.reply()[:3] for s in (first, second, third)] == [b"250"] * 3
        for session in (first, second, third):
            session.close()
    assert _run(engine, WAIT, client) == [3]


def test_without_the_wait_the_first_message_is_committed_alone(engine):
    def client(port):
        first, second = Session(port), Session(port)
        first.begin_body(1)
        second.begin_body(2)
        first.end_body()
        assert first.reply().startswith(b"250")
        second.end_body()
        assert second.reply().startswith(b"250")
        first.close()
        second.close()
    assert _run(engine, 0, client) == [1, 1]


def test_a_body_that_does_not_come_delays_a_commit_by_the_wait_at_most(engine):
    def client(port):
        slow, quick = Session(port), Session(port)
        slow.begin_body(1)                     # and never finished
        quick.begin_body(2)
        started = time.monotonic()
        quick.end_body()
        assert quick.reply().startswith(b"250")
        waited = time.monotonic() - started
        assert WAIT * 0.9 <= waited < WAIT + 2.0, waited
        slow.close()
        quick.close()
    assert _run(engine, WAIT, client) == [1]


@pytest.mark.parametrize("how", ["the client hangs up", "the body is too large"])
def test_a_body_given_up_no_longer_holds_commits_back(engine, how):
    def client(port):
        gone = Session(port)
        gone.begin_body(1)
        if how == "the client hangs up":
            gone.close()
        else:
            gone.sock.sendall((b"x" * 998 + b"\r\n") * 1100 + b".\r\n")  # over the 1 MB SIZE
            assert gone.reply().startswith(b"552")
        time.sleep(0.3)  # the listener notices
        alone = Session(port)
        alone.begin_body(2)
        started = time.monotonic()
        alone.end_body()
        assert alone.reply().startswith(b"250")
        assert time.monotonic() - started < WAIT * 0.5  # nobody else is reading a body: no wait
        alone.close()
        if how != "the client hangs up":
            gone.close()
    assert _run(engine, WAIT, client) == [1]


def test_a_shutdown_during_the_wait_commits_the_group_and_answers_it(engine):
    async def scenario():
        committer, writer, server, task = await _listening(engine, 30.0)
        port = server.sockets[0].getsockname()[1]
        slow, quick = await asyncio.to_thread(Session, port), await asyncio.to_thread(Session, port)
        try:
            await asyncio.to_thread(slow.begin_body, 1)
            await asyncio.to_thread(quick.begin_body, 2)
            quick.end_body()
            await asyncio.sleep(0.3)           # the writer waits for the slow body
            assert committer.groups == []
            task.cancel()                      # what the service's shutdown does
            await asyncio.gather(task, return_exceptions=True)
            reply = await asyncio.to_thread(quick.reply)
        finally:
            server.close()
            writer.close()
            slow.close()
            quick.close()
        return reply, committer.groups
    reply, groups = asyncio.run(scenario())
    assert reply.startswith(b"250") and groups == [1]
