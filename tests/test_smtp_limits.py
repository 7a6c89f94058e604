"""What one SMTP client may cost the listener: command lines, connections at once, recipients.

All over real sockets to the real gateway; connections from other client IPs come from other
loopback source addresses (Linux answers for all of 127.0.0.0/8).
"""

from __future__ import annotations

import smtplib
import socket
import time
import tracemalloc

from helpdesk.inbound.smtp_limits import S421_TOO_MANY_CONNECTIONS
from tests.mail import client_mail, wait_until

TOO_MANY = S421_TOO_MANY_CONNECTIONS.rstrip()


class RawClient:
    """One SMTP connection spoken to byte by byte, from a chosen loopback source address."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self) -> bytes:
        """One (possibly multi-line) reply, its last line without CRLF; b"" when the gateway closed."""
        while (line := self.file.readline()) and line[3:4] == b"-":
            pass
        return line.rstrip(b"\r\n")

    def command(self, line: bytes) -> bytes:
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def admitted(port: int, source: str, timeout: float = 10.0) -> RawClient:
    """A connection that got the greeting; slots come back asynchronously, so retry until then."""
    deadline = time.monotonic() + timeout
    while True:
        client = RawClient(port, source)
        if client.greeting.startswith(b"220"):
            return client
        client.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no slot for {source}: {client.greeting!r}")
        time.sleep(0.02)


def deliver(client: RawClient, body_line: bytes) -> bytes:
    assert client.command(b"MAIL FROM:<jan@client.example>").startswith(b"250")
    assert client.command(b"RCPT TO:<support@helpdesk.test>").startswith(b"250")
    assert client.command(b"DATA").startswith(b"354")
    head = b"From: jan@client.example\r\nTo: support@helpdesk.test\r\nSubject: Long line\r\n\r\n"
    return client.command(head + body_line + b"\r\n.")


def test_long_command_line_is_refused_without_being_held_and_the_session_goes_on(make_settings, start_gateway,
                                                                                 db):
    gw = start_gateway(make_settings())
    client = RawClient(gw.port)
    assert client.command(b"EHLO client.example").startswith(b"250")
    hostile = b"MAIL FROM:<" + b"a" * (4 << 20)  # 4 MiB without a line end
    tracemalloc.start()
    try:
        client.sock.sendall(hostile)
        answer = client.command(b">")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer == b"500 5.5.2 Command line too long"
    assert peak < 256 << 10, f"the listener held {peak} bytes for one long line"
    # Just over RFC 5321's 512 octets (plus the MAIL parameters we announce) is too long as well,
    # however many times EHLO was said (aiosmtpd added to MAIL's limit at every EHLO).
    for _ in range(5):
        client.command(b"EHLO client.example")
    assert client.command(b"MAIL FROM:<" + b"b" * 600 + b"@client.example>") == b"500 5.5.2 Command line too long"
    # The longest legal path (256 octets) with every parameter we announce still fits.
    longest = b"j" * 64 + b"@" + b"c" * 183 + b".example"
    params = b" SIZE=00000000000000001234 BODY=8BITMIME SMTPUTF8"  # SIZE has 20 digits
    assert client.command(b"MAIL FROM:<" + longest + b">" + params).startswith(b"250")
    assert client.command(b"RSET").startswith(b"250")
    # DATA lines are no command lines: one as long as the message may be is still taken whole.
    long_body_line = b"y" * 200_000
    assert deliver(client, long_body_line).startswith(b"250 2.0.0")
    client.close()
    [stored] = db.processed(1)
    assert long_body_line in stored.raw


def test_connections_over_the_caps_get_421_and_are_closed(make_settings, start_gateway):
    gw = start_gateway(make_settings(smtp_max_connections=4, smtp_max_connections_per_ip=2))
    first, second = RawClient(gw.port), RawClient(gw.port)
    assert first.greeting.startswith(b"220") and second.greeting.startswith(b"220")
    third_from_same_ip = RawClient(gw.port)
    assert third_from_same_ip.greeting == TOO_MANY
    assert third_from_same_ip.reply() == b""  # closed at once
    others = [RawClient(gw.port, "127.0.0.2"), RawClient(gw.port, "127.0.0.3")]
    assert all(c.greeting.startswith(b"220") for c in others)
    fifth_overall = RawClient(gw.port, "127.0.0.4")
    assert fifth_overall.greeting == TOO_MANY and fifth_overall.reply() == b""
    # The admitted sessions are untouched by the refusals.
    assert first.command(b"NOOP").startswith(b"250")
    for c in [first, second, third_from_same_ip, fifth_overall, *others]:
        c.close()


def test_a_slot_comes_back_after_quit_and_after_the_client_vanishes(make_settings, start_gateway):
    gw = start_gateway(make_settings(smtp_max_connections=2, smtp_max_connections_per_ip=1))
    polite, rude = RawClient(gw.port), RawClient(gw.port, "127.0.0.2")
    assert RawClient(gw.port).greeting == TOO_MANY and RawClient(gw.port, "127.0.0.3").greeting == TOO_MANY
    assert polite.command(b"QUIT").startswith(b"221")
    polite.close()
    again = admitted(gw.port, "127.0.0.1")  # both its per-IP and its overall slot came back
    # One that vanishes in the middle of DATA, without QUIT, gives its slot back as well.
    assert rude.command(b"EHLO client.example").startswith(b"250")
    assert rude.command(b"MAIL FROM:<jan@client.example>").startswith(b"250")
    assert rude.command(b"RCPT TO:<support@helpdesk.test>").startswith(b"250")
    assert rude.command(b"DATA").startswith(b"354")
    rude.sock.sendall(b"Subject: half a message\r\n")
    rude.close()
    admitted(gw.port, "127.0.0.3").close()
    again.close()
    admitted(gw.port, "127.0.0.1").close()


def test_recipients_over_the_cap_get_452_and_the_accepted_ones_get_the_message(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(smtp_max_recipients=3))
    accepted = ["support@helpdesk.test", "support+printers@helpdesk.test", "support+net@helpdesk.test"]
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail("jan@client.example")[0] == 250
        assert [smtp.rcpt(a)[0] for a in accepted] == [250, 250, 250]
        assert smtp.rcpt("support+more@helpdesk.test") == (452, b"4.5.3 Too many recipients")
        assert smtp.rcpt("nobody@helpdesk.test")[0] == 550  # an unknown one is still told so
        assert smtp.data(client_mail().as_bytes())[0] == 250
    stored = wait_until(db.inbound)
    assert [row.envelope_to for row in stored] == [",".join(accepted)]
    assert len(db.processed(1)) == 1 and len(db.tickets()) == 1
