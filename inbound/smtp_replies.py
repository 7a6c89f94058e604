"""What the listener says beyond aiosmtpd: PIPELINING and ENHANCEDSTATUSCODES, and the `with` of our Received line.

aiosmtpd 1.4 reads commands from one stream in order and answers each in turn, so pipelined
commands (RFC 2920) already work; it just does not say so. Its own replies ("503 Error: need MAIL
command", "250 OK", "221 Bye") carry no enhanced code, and RFC 2034 section 3 wants one on every
reply once ENHANCEDSTATUSCODES is offered, except the greeting and the answer to EHLO/HELO: so
each reply without one gets the code its basic code implies (RFC 3463), before it is sent.
"""

from __future__ import annotations

import re

from aiosmtpd.smtp import SMTP, syntax

EXTENSIONS = ("250-PIPELINING", "250-ENHANCEDSTATUSCODES")
_HAS_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}( |$)")
# RFC 3463: syntax and sequence errors are 5.5.x; anything else the class with 0.0.
_ENHANCED_FOR = {"500": "5.5.2", "501": "5.5.4", "502": "5.5.1", "503": "5.5.1", "504": "5.5.4", "421": "4.3.2"}
# The greeting (and STARTTLS's go-ahead), DATA's go-ahead and AUTH challenges are not replies a code belongs on.
_EXEMPT = ("220", "354", "334")


def with_enhanced_code(line: str) -> str:
    """'503 Error: need MAIL command' -> '503 5.5.1 Error: need MAIL command'; one with a code stays."""
    code = line[:3]
    if not code.isdigit() or line[3:4] not in (" ", "-", "") or code in _EXEMPT or _HAS_ENHANCED.match(line):
        return line
    enhanced = _ENHANCED_FOR.get(code, f"{code[0]}.0.0")
    return f"{code}{line[3:4] or ' '}{enhanced}{(' ' + line[4:]) if line[4:] else ''}"


def received_protocol(extended: bool, utf8: bool, tls: bool, authenticated: bool) -> str:
    """The `with` of a Received line: RFC 3848 (ESMTPS, ESMTPA, ESMTPSA) and RFC 6531 section 4.3
    (UTF8SMTP for a session that used SMTPUTF8, with the same S and A suffixes)."""
    if not extended:
        return "SMTP"
    return ("UTF8SMTP" if utf8 else "ESMTP") + ("S" if tls else "") + ("A" if authenticated else "")


class EnhancedReplies(SMTP):
    """An aiosmtpd session that offers PIPELINING and ENHANCEDSTATUSCODES and keeps the second promise."""

    _answering_hello = False

    @syntax("EHLO hostname")  # an override needs aiosmtpd's text again, or HELP leaves it out
    async def smtp_EHLO(self, hostname: str) -> None:
        self._answering_hello = True
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._answering_hello = False

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str) -> None:
        self._answering_hello = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._answering_hello = False

    async def push(self, status: str | bytes) -> None:
        line = status if isinstance(status, str) else status.decode("utf-8", "replace")
        if self._answering_hello:
            if line == "250 HELP":  # the last line of aiosmtpd's EHLO answer: ours go before it
                for extension in EXTENSIONS:
                    await super().push(extension)
            await super().push(status)
            return
        await super().push(with_enhanced_code(line))
