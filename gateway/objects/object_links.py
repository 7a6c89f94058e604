"""Which client's object a new ticket is about: a rule's `object:`, the object tag (`[OBJ SRV-01]`) in
the subject or body, or an identifier alone in the subject when it is one of the sender's
organization's objects.

The tag is deliberate, so it counts anywhere; a bare word is a guess, so it counts only in the
subject (a body is full of model numbers, quoted mail and signatures). Everything here is read
from the text first: only a message that names something that could be an object costs a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.message import InboundMail
from helpdesk.store.object_links import ObjectLink, objects_named

# An identifier alone in a subject: a serial or inventory number has a digit and a letter (SRV-01,
# R2D2, CZ-4711); plain words and numbers ("printer", "2") never look like one.
_BARE = re.compile(r"(?<![\w./-])(?=[A-Za-z0-9._/-]*\d)(?=[A-Za-z0-9._/-]*[A-Za-z])"
                   r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}(?![\w/-])")
MAX_BARE = 5  # a subject listing more candidates is a list, not a name


@cache
def tag_pattern(pattern: str) -> re.Pattern:
    """The settings' object tag, compiled once per pattern (the settings are fixed while running)."""
    return re.compile(pattern, re.IGNORECASE)


def tagged_identifiers(pattern: str, text: str) -> list[str]:
    return [m.group(1) for m in tag_pattern(pattern).finditer(text)] if text else []


@dataclass(frozen=True)
class NamedObjects:
    """What a message names that may be an object, read without the database."""

    by_rule: str | None = None
    tagged: tuple[str, ...] = ()
    bare: tuple[str, ...] = ()
    rule_kind: str = "routing rule"  # what named by_rule: a routing rule, a monitoring entry

    def __bool__(self) -> bool:
        return bool(self.by_rule or self.tagged or self.bare)


def read_names(mail: InboundMail, tag: str, rule_object: str | None) -> NamedObjects:
    tagged = tagged_identifiers(tag, mail.subject) + tagged_identifiers(tag, mail.new_text or mail.text)
    bare = [] if tagged else _BARE.findall(tag_pattern(tag).sub(" ", mail.subject))
    return NamedObjects(rule_object, tuple(dict.fromkeys(tagged)),
                        tuple(dict.fromkeys(bare)) if len(bare) <= MAX_BARE else ())


def _one(found: list[ObjectLink]) -> ObjectLink | None:
    return found[0] if len(found) == 1 else None


def _anywhere(conn: Connection, names: NamedObjects, organization_id: int | None) -> list[ObjectLink]:
    if names.rule_kind.startswith("monitoring") and organization_id is not None:
        return []
    return objects_named(conn, [names.by_rule], None)


def find_link(conn: Connection, names: NamedObjects, organization_id: int | None) -> tuple[ObjectLink, str] | None:
    """The object and why; None when nothing named is one object of the sender's organization.
    A routing rule's object may be found in any organization (the admin wrote it), when only one
    has it. A monitoring entry's object is mostly read from the mail's own text under a From
    nobody proved, so for a sender of an organization it is only that organization's object:
    otherwise one client's (forged) report would make another client's critical object's ticket,
    its 24/7 clock and the urgent SMS to that client's people."""
    if names.by_rule and (link := _one(objects_named(conn, [names.by_rule], organization_id)
                                       or _anywhere(conn, names, organization_id))):
        return link, f"the {names.rule_kind} names {link.identifier}"
    if organization_id is None:  # a stranger's tag must not make anyone's object's ticket (nor its 24/7 SLA)
        return None
    for identifier in names.tagged:  # the first tag that is one of the organization's objects
        if link := _one(objects_named(conn, [identifier], organization_id)):
            return link, f"the message is tagged {link.identifier}"
    if names.bare and (link := _one(objects_named(conn, names.bare, organization_id))):
        return link, f"the subject names {link.identifier}"
    return None
