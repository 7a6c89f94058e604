"""The processing log of one message: what each stage decided about it and why.

Kept with the stored message (`helpdesk inbound show ID`), so "what happened to my mail?"
has an answer without reading the service log.
"""

from __future__ import annotations


class ProcessingLog:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, stage: str, text: str) -> None:
        self.lines.append(f"{stage}: {text}")


def describe_parsed(mail) -> str:
    parts = [f"from {mail.sender}", f"Message-ID <{mail.message_id}>", f"{len(mail.text)} characters of text"]
    if mail.new_text != mail.text:
        parts.append(f"{len(mail.new_text)} new (quoted history removed)")
    if mail.attachments:
        parts.append(f"{len(mail.attachments)} attachment(s)")
    if mail.bounce is not None:
        parts.append(f"delivery report: {mail.bounce.action} {mail.bounce.status} for {mail.bounce.recipient}")
    parts.extend(mail.parse_notes)
    return ", ".join(parts)
