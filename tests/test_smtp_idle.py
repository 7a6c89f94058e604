"""The listener's idle timeout, over a real socket: a silent client is told 421 and cut off, a
client that keeps sending commands is not, and bytes that make no command do not count."""

from __future__ import annotations

import time

import pytest

from tests.test_smtp_limits import RawClient

IDLE = 0.4  # seconds, instead of RFC 5321's five minutes


@pytest.fixture
def idle_gateway(make_settings, start_gateway, monkeypatch):
    monkeypatch.setattr("helpdesk.inbound.smtp.IDLE_TIMEOUT_SECONDS", IDLE)
    return start_gateway(make_settings())


def told_421_then_closed(client: RawClient) -> float:
    """Seconds until the 421, after which the connection must be closed."""
    started = time.monotonic()
    assert client.reply() == b"421 4.4.2 Idle too long, closing connection"
    waited = time.monotonic() - started
    assert client.file.readline() == b""
    return waited


def test_a_silent_client_is_told_421_and_cut_off(idle_gateway):
    client = RawClient(idle_gateway.port)
    assert client.greeting.startswith(b"220")
    assert IDLE * 0.8 <= told_421_then_closed(client) < IDLE + 2
    client.close()


def test_commands_keep_the_connection_however_long_it_lasts(idle_gateway):
    client = RawClient(idle_gateway.port)
    assert client.command(b"EHLO client.example").startswith(b"250")
    started = time.monotonic()
    while time.monotonic() - started < 3 * IDLE:  # each wait shorter than the timeout, all longer
        time.sleep(IDLE / 3)
        assert client.command(b"NOOP") == b"250 2.0.0 OK"
    assert IDLE * 0.8 <= told_421_then_closed(client) < IDLE + 2  # silent at last: the full wait
    client.close()


def test_bytes_that_make_no_command_do_not_count(idle_gateway):
    client = RawClient(idle_gateway.port)
    assert client.command(b"EHLO client.example").startswith(b"250")
    started = time.monotonic()
    try:
        for _ in range(int(3 * IDLE / 0.1)):  # an endless line, a byte at a time
            client.sock.sendall(b"x")
            time.sleep(0.1)
    except OSError:  # cut off while sending: the 421 is still there to read
        pass
    told_421_then_closed(client)
    assert time.monotonic() - started < IDLE + 2
    client.close()
