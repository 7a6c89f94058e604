"""The listener's idle timeout, over a real socket: a silent client is told 421 and cut off, a
client that keeps sending commands is not, and bytes that make no command do not count."""

from __future__ import annotations

import select
import socket
import time

import pytest

from helpdesk.gateway.ground.metrics import Metrics
from tests.test_smtp_limits import RawClient, admitted

IDLE = 0.4  # seconds, instead of RFC 5321's five minutes


@pytest.fixture
def idle_gateway(make_settings, start_gateway, monkeypatch):
    monkeypatch.setattr("helpdesk.inbound.smtp.IDLE_TIMEOUT_SECONDS", IDLE)
    return start_gateway(make_settings())


def told_421_then_closed(client: RawClient, bytes_in_flight: bool = False) -> float:
    """Seconds until the 421, after which the connection must be closed.

    A client that was still sending when the gateway closed may see a reset instead of the end
    of the stream: its last bytes reached a socket already closed, and the kernel answers those
    with RST. Either way the connection is over, which is what is checked."""
    started = time.monotonic()
    assert client.reply() == b"421 4.4.2 Idle too long, closing connection"
    waited = time.monotonic() - started
    try:
        assert client.file.readline() == b""
    except ConnectionResetError:
        if not bytes_in_flight:
            raise
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
    started, cut_off_while_sending = time.monotonic(), False
    try:
        while time.monotonic() - started < 5 * IDLE:  # an endless line, a byte at a time
            if select.select([client.sock], [], [], 0.05)[0]:  # the gateway has spoken
                cut_off_while_sending = True
                break
            client.sock.sendall(b"x")
    except OSError:  # cut off between two bytes
        cut_off_while_sending = True
    # Had each byte restarted the timer, the 421 would only come IDLE after the bytes stop.
    assert cut_off_while_sending
    told_421_then_closed(client, bytes_in_flight=True)
    client.close()


def test_the_connection_is_closed_even_when_counting_the_421_fails(idle_gateway, monkeypatch):
    counted = Metrics.count_reply

    def failing_for_421(self, code):
        if code == "421":
            raise RuntimeError("injected fault")
        counted(self, code)
    monkeypatch.setattr(Metrics, "count_reply", failing_for_421)
    client = RawClient(idle_gateway.port)  # its session was made after the patch
    assert client.command(b"EHLO client.example").startswith(b"250")
    told_421_then_closed(client)  # a connection left open would time the read out instead
    client.close()


def test_a_client_that_reads_nothing_loses_its_slot_once_idle(make_settings, start_gateway, monkeypatch):
    """It pipelines commands and never reads a reply: the replies fill the socket, the session
    stalls, and the close after the 421 could never finish. It is forced, and the slot comes back."""
    monkeypatch.setattr("helpdesk.inbound.smtp.IDLE_TIMEOUT_SECONDS", IDLE)
    monkeypatch.setattr("helpdesk.inbound.smtp_idle.CLOSE_GRACE_SECONDS", IDLE)
    gw = start_gateway(make_settings(smtp_max_connections_per_ip=1))
    deaf = socket.socket()
    deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills quickly
    deaf.connect(("127.0.0.1", gw.port))
    deaf.settimeout(5)
    try:
        deaf.sendall(b"EHLO deaf.example\r\n" * 40_000)  # ~8 MB of replies, more than the kernel buffers
    except OSError:
        pass  # cut off already
    started = time.monotonic()
    second = admitted(gw.port, "127.0.0.1", timeout=IDLE * 10 + 5)  # 421 while the deaf one holds the slot
    assert time.monotonic() - started < IDLE * 10 + 5
    assert second.command(b"NOOP") == b"250 2.0.0 OK"
    second.close()
    deaf.close()
