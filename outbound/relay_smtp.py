"""smtplib's client for the relay, with the round trips and the parsing a plain mail does not need.

- MAIL and RCPT: smtplib reads every address with the email package's address parser, about a
  tenth of a millisecond each (7 % of the gateway's main process at 50 msgs/s). A plain address
  gives the same `<address>` without it (tests/test_relay_transport.py compares the two).
- PIPELINING (RFC 2920), when the relay offers it, as Postfix does: MAIL, RCPT and DATA go in one
  write and their replies are read together, then the message. Two round trips a mail instead of
  three plus one per recipient; each was a wait for the relay and a hand-off of the GIL.

The outcomes, exceptions and connection state are those of `smtplib.SMTP.sendmail`; anything
unusual (an address that is not plain, SMTPUTF8, a relay without PIPELINING) goes the stdlib's way.
"""

from __future__ import annotations

import re
import smtplib

# A dot-atom address (ours: the VERP sender, a contact's stored address): quoted as is.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_LEADING_DOT = re.compile(rb"(?m)^\.")  # RFC 5321 4.5.2: a line's leading dot is doubled
_ACCEPTED_RCPT = (250, 251)


def _plain_options(options) -> str | None:
    """The options as MAIL's tail, or None when smtplib must see them (SMTPUTF8 switches its encoding)."""
    if any(option.lower() == "smtputf8" for option in options):
        return None
    return "".join(f" {option}" for option in options)


class RelaySMTP(smtplib.SMTP):
    def mail(self, sender: str, options=()):
        tail = _plain_options(options) if self.does_esmtp else ""  # smtplib sends no options without ESMTP
        if tail is None or not PLAIN_ADDRESS.fullmatch(sender):
            return super().mail(sender, options)
        self.putcmd("mail", f"FROM:<{sender}>{tail}")
        return self.getreply()

    def rcpt(self, recip: str, options=()):
        if options or not PLAIN_ADDRESS.fullmatch(recip):
            return super().rcpt(recip, options)
        self.putcmd("rcpt", f"TO:<{recip}>")
        return self.getreply()

    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes, mail_options=(), rcpt_options=()):
        options = [*(["size=%d" % len(msg)] if self.has_extn("size") else []), *mail_options]
        tail = _plain_options(options)
        if (not self.does_esmtp or not self.has_extn("pipelining") or rcpt_options or tail is None
                or not isinstance(msg, bytes) or not all(PLAIN_ADDRESS.fullmatch(a) for a in (from_addr, *to_addrs))):
            return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)
        return self._sendmail_pipelined(from_addr, to_addrs, msg, tail)

    def _sendmail_pipelined(self, from_addr: str, to_addrs: list[str], msg: bytes, tail: str) -> dict:
        commands = [f"MAIL FROM:<{from_addr}>{tail}\r\n", *(f"RCPT TO:<{a}>\r\n" for a in to_addrs), "DATA\r\n"]
        self.send("".join(commands))
        replies = self._replies(len(commands))
        mail, rcpts, data = replies[0], replies[1:1 + len(to_addrs)], replies[1 + len(to_addrs):]
        if mail[0] != 250:
            if mail[0] == 421:  # the relay is closing: no further replies will come
                self.close()
            else:
                self._abandon(data)
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], from_addr)
        refused = {}
        for address, (code, text) in zip(to_addrs, rcpts):
            if code not in _ACCEPTED_RCPT:
                refused[address] = (code, text)
            if code == 421:
                self.close()
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(to_addrs):
            self._abandon(data)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, text = data[0]
        if code == 354:
            self.send(_LEADING_DOT.sub(b"..", msg) + (b"" if msg.endswith(b"\r\n") else b"\r\n") + b".\r\n")
            code, text = self.getreply()
            if code == 250:
                return refused
        if code == 421:
            self.close()
        else:
            self._rset()
        raise smtplib.SMTPDataError(code, text)

    def _replies(self, count: int) -> list[tuple[int, bytes]]:
        """The group's replies in order; after a 421 the relay has closed, so there are no more."""
        replies = []
        while len(replies) < count and (not replies or replies[-1][0] != 421):
            replies.append(self.getreply())
        return replies

    def _abandon(self, data: list[tuple[int, bytes]]) -> None:
        """End a group whose mail cannot go: a relay that said 354 to DATA anyway gets an empty
        message, which it refuses (RFC 2920 3.1), then the session is reset as smtplib does."""
        if data and data[0][0] == 354:
            self.send(b".\r\n")
            self.getreply()
        self._rset()
