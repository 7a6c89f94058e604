"""The pipe between the gateway and a processing process, on real pipes: a rules reload that
finds the pipe full is sent again, and a child gathering more mail still obeys its parent at once.
(tests/test_processing_processes.py runs the whole thing as an operator does.)"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time

from helpdesk.app.processing_child import FINISH, RELOAD, WAKE, _Child
from helpdesk.app.processing_process import _SPAWN as SPAWN
from helpdesk.app.processing_process import RESEND_SECONDS, ProcessingProcess
from helpdesk.gateway.ground.metrics import Metrics


def _small_pipe():
    """A one-way pipe of one page (819 wake-ups fill it instead of 13,000)."""
    read, write = SPAWN.Pipe(duplex=False)
    fcntl.fcntl(write.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    return read, write


def _parent_with(commands, make_settings) -> ProcessingProcess:
    parent = ProcessingProcess(make_settings(), "processing-test", Metrics(), lambda: None)
    parent._commands, parent._open = commands, True  # as start() leaves them, without a process
    os.set_blocking(commands.fileno(), False)
    return parent


def _read_all(read) -> list[bytes]:
    said = []
    while read.poll(0):
        said.append(read.recv_bytes())
    return said


def test_a_reload_that_finds_the_pipe_full_is_sent_again_once_the_child_reads(make_settings):
    read, write = _small_pipe()
    parent = _parent_with(write, make_settings)

    async def scenario() -> list[bytes]:
        while parent.say(WAKE, droppable=True):
            pass  # a storm of wake-ups while the child is stuck
        parent.reload_rules()
        await asyncio.sleep(RESEND_SECONDS * 2)
        stuck = _read_all(read)  # the child reads again: only wake-ups were in the pipe
        assert RELOAD not in stuck and len(stuck) > 100
        await asyncio.sleep(RESEND_SECONDS * 2)
        return _read_all(read)

    assert asyncio.run(scenario()) == [RELOAD]


def test_a_reload_to_a_dead_child_is_not_retried(make_settings):
    read, write = _small_pipe()
    parent = _parent_with(write, make_settings)
    parent._open = False  # died: its restart reads the rules file anyway

    async def scenario():
        parent.reload_rules()
        await asyncio.sleep(RESEND_SECONDS * 2)

    asyncio.run(scenario())
    assert _read_all(read) == []


def _gathering_child(commands) -> _Child:
    child = _Child.__new__(_Child)  # only its pipe handling: no database, templates or rules
    child.commands, child.finishing = commands, False
    child.reloaded = 0
    child.reload_rules = lambda: setattr(child, "reloaded", child.reloaded + 1)
    return child


def test_gathering_waits_its_time_through_wake_ups_and_obeys_a_reload():
    read, write = SPAWN.Pipe(duplex=False)
    child = _gathering_child(read)
    write.send_bytes(WAKE)
    write.send_bytes(RELOAD)
    write.send_bytes(WAKE)
    started = time.monotonic()
    child.gather(0.2)
    assert time.monotonic() - started >= 0.2
    assert child.reloaded == 1 and not child.finishing
    assert not read.poll(0)


def test_a_finish_ends_the_gathering_at_once():
    read, write = SPAWN.Pipe(duplex=False)
    child = _gathering_child(read)
    write.send_bytes(WAKE)
    write.send_bytes(FINISH)
    started = time.monotonic()
    child.gather(5)
    assert time.monotonic() - started < 1
    assert child.finishing


def test_a_parent_gone_ends_the_gathering_at_once():
    read, write = SPAWN.Pipe(duplex=False)
    child = _gathering_child(read)
    write.close()
    started = time.monotonic()
    child.gather(5)
    assert time.monotonic() - started < 1
    assert child.finishing
