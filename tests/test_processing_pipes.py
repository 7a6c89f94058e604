"""The pipe between the gateway and a processing process, on real pipes: a rules reload that
finds the pipe full is sent again.
(tests/test_processing_processes.py runs the whole thing as an operator does.)"""

from __future__ import annotations

import asyncio
import fcntl
import os

from helpdesk.app.processing_child import RELOAD, WAKE
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
