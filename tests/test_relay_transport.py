"""The relay transport's own MAIL and RCPT commands: the same addresses on the wire as smtplib's,
without its address parser for plain addresses; with a relay that offers PIPELINING, the envelope
in one write and the same outcomes as smtplib's one command at a time (outbound/relay_smtp.py)."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.outbound.relay_smtp import PLAIN_ADDRESS
from helpdesk.outbound.transport import SendError, SmtpRelay
from tests.smtp_sink import SmtpSink

RAW = b"From: support@helpdesk.test\r\nTo: jan@client.example\r\nSubject: t\r\n\r\nbody\r\n"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.from_regex(PLAIN_ADDRESS, fullmatch=True))
def test_a_plain_address_is_quoted_as_smtplib_quotes_it(address):
    assert smtplib.quoteaddr(address) == f"<{address}>"


def test_plain_and_other_addresses_reach_the_relay_as_given():
    with SmtpSink() as sink:
        relay = SmtpRelay("127.0.0.1", sink.port, "helpdesk.test")
        try:
            relay.send("bounce+00000042=abcdef@helpdesk.test", ("jan.novak@client.example",), RAW, "1")
            # Not plain (a quoted local part, a display name): the stdlib's way, as before.
            relay.send("support@helpdesk.test", ('"jan novak"@client.example', "Jan <jan@client.example>"), RAW, "2")
        finally:
            relay.close()
        plain, other = sink.wait_for(2)
    assert (plain.mail_from, plain.rcpt_tos) == ("bounce+00000042=abcdef@helpdesk.test", ["jan.novak@client.example"])
    assert (other.mail_from, other.rcpt_tos) == ("support@helpdesk.test",
                                                 ['"jan novak"@client.example', "jan@client.example"])


class ScriptedRelay:
    """A relay on a real socket that offers PIPELINING and answers a transaction's commands only
    once all of them are in: a client that waited for each reply would stall here (and time out)."""

    def __init__(self, replies: list[bytes], after_data: bytes = b"250 2.0.0 queued\r\n"):
        self.replies, self.after_data, self.received = replies, after_data, b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_until(self, conn, marker: bytes, start: int = 0) -> None:
        while marker not in self.received[start:]:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("client gone")
            self.received += chunk

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(5)
        with conn:
            conn.sendall(b"220 relay.test ESMTP\r\n")
            self._read_until(conn, b"\r\n")
            conn.sendall(b"250-relay.test\r\n250-SIZE 10000000\r\n250 PIPELINING\r\n")
            self._read_until(conn, b"DATA\r\n")  # MAIL, RCPT and DATA before any reply
            conn.sendall(b"".join(self.replies))
            if self.replies[-1].startswith(b"421"):
                return  # and hang up
            if self.replies[-1].startswith(b"354"):
                self._read_until(conn, b"\r\n.\r\n")
                conn.sendall(self.after_data)
            while not self.received.endswith(b"quit\r\n"):  # smtplib's rset, then quit at the close
                seen = len(self.received)
                self._read_until(conn, b"\r\n", seen)
                conn.sendall(b"221 bye\r\n" if self.received.endswith(b"quit\r\n") else b"250 OK\r\n")


def _send_through(relay: ScriptedRelay, rcpts=("jan@client.example",), raw=RAW):
    transport = SmtpRelay("127.0.0.1", relay.port, "helpdesk.test", timeout=5)
    try:
        return transport.send("bounce+1=x@helpdesk.test", rcpts, raw, "1")
    finally:
        transport.close()
        relay.thread.join(5)


def test_a_relay_offering_pipelining_gets_the_envelope_in_one_write_and_the_message_dot_stuffed():
    relay = ScriptedRelay([b"250 2.1.0 OK\r\n", b"250 2.1.5 OK\r\n", b"250 2.1.5 OK\r\n", b"354 go on\r\n"])
    _send_through(relay, ("jan@client.example", "eva@client.example"), RAW + b".hidden line\r\nlast")
    assert b"MAIL FROM:<bounce+1=x@helpdesk.test> size=" in relay.received
    assert b"RCPT TO:<jan@client.example>\r\nRCPT TO:<eva@client.example>\r\nDATA\r\n" in relay.received
    assert relay.received.endswith(b"\r\n..hidden line\r\nlast\r\n.\r\nquit\r\n")


def test_with_pipelining_one_refused_recipient_of_two_does_not_stop_the_mail():
    relay = ScriptedRelay([b"250 OK\r\n", b"550 5.1.1 no such user\r\n", b"250 OK\r\n", b"354 go on\r\n"])
    _send_through(relay, ("gone@client.example", "eva@client.example"))
    assert relay.received.endswith(b"\r\n.\r\nquit\r\n")


@pytest.mark.parametrize(("replies", "code", "permanent", "unavailable", "refused"), [
    # every recipient refused: DATA is refused too, and the session reset
    ([b"250 OK\r\n", b"550 5.1.1 no such user\r\n", b"554 5.5.1 no valid recipients\r\n"],
     550, True, False, ("gone@client.example",)),
    # a relay that says 354 anyway gets an empty message (RFC 2920 3.1), then RSET
    ([b"250 OK\r\n", b"450 4.2.0 try later\r\n", b"354 go on\r\n"], 450, False, False, ()),
    ([b"550 5.7.1 sender refused\r\n", b"503 5.5.1 sender first\r\n", b"503 5.5.1 sender first\r\n"],
     550, True, False, ()),
    # closing: the relay is unavailable, not the mail bad
    ([b"421 4.3.2 shutting down\r\n"], 421, False, True, ()),
])
def test_with_pipelining_a_refused_group_is_told_as_smtplib_tells_it(replies, code, permanent, unavailable, refused):
    relay = ScriptedRelay(replies, after_data=b"554 5.5.1 no valid recipients\r\n")
    with pytest.raises(SendError) as caught:
        _send_through(relay, ("gone@client.example",))
    error = caught.value
    assert (error.code, error.permanent, error.unavailable, error.refused) == (code, permanent, unavailable, refused)
    if replies[-1].startswith(b"354"):
        assert b"DATA\r\n.\r\nrset\r\n" in relay.received
    elif code != 421:
        assert b"DATA\r\nrset\r\n" in relay.received
    assert relay.received.count(b"rset\r\n") == (0 if code == 421 else 1)  # one reset, not smtplib's and ours


def test_a_message_the_relay_refuses_after_its_data_is_a_temporary_failure_and_the_session_is_reset():
    relay = ScriptedRelay([b"250 OK\r\n", b"250 OK\r\n", b"354 go on\r\n"], after_data=b"451 4.3.0 later\r\n")
    with pytest.raises(SendError) as caught:
        _send_through(relay)
    assert (caught.value.code, caught.value.permanent) == (451, False)
    assert relay.received.endswith(b"\r\n.\r\nrset\r\nquit\r\n")  # one reset, then the close's quit


def test_a_relay_without_pipelining_gets_one_command_at_a_time():
    with SmtpSink(pipelining=False) as sink:
        relay = SmtpRelay("127.0.0.1", sink.port, "helpdesk.test")
        try:
            relay.send("bounce+00000042=abcdef@helpdesk.test", ("jan.novak@client.example",), RAW, "1")
        finally:
            relay.close()
        (caught,) = sink.wait_for(1)
    assert (caught.mail_from, caught.rcpt_tos, caught.raw) == (
        "bounce+00000042=abcdef@helpdesk.test", ["jan.novak@client.example"], RAW)
