"""The relay transport's own MAIL and RCPT commands: the same addresses on the wire as smtplib's,
without its address parser for plain addresses (outbound/transport.py)."""

from __future__ import annotations

import smtplib

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.outbound.transport import _PLAIN_ADDRESS, SmtpRelay
from tests.smtp_sink import SmtpSink

RAW = b"From: support@helpdesk.test\r\nTo: jan@client.example\r\nSubject: t\r\n\r\nbody\r\n"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.from_regex(_PLAIN_ADDRESS, fullmatch=True))
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
