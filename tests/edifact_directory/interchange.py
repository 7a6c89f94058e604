"""An interchange checked whole: octets against the UNB character set, UNA, the envelope
(UNB..UNZ around UNH..UNT messages), every message against the INVOIC D.96A table, every segment's
elements against the directory, and the control counts and references.

The character sets are ISO 9735's (v3 clause 4 and annex; v4 part 1 clause 8): levels A and B as
their repertoires, C..F as ISO 8859-1, -2, -5, -7, W as UTF-8; Y (ISO 10646-1) is read as UTF-8.
"""

from __future__ import annotations

import re
import string
import warnings

from pydifact.parser import Parser

from tests.edifact_directory.elements import element_problems
from tests.edifact_directory.invoic_d96a import INVOIC_D96A
from tests.edifact_directory.segments_d96a import D96A_SEGMENTS, SERVICE_V3, SERVICE_V4
from tests.edifact_directory.structure import structure_problems

CODECS = {"UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5",
          "UNOF": "iso8859-7", "UNOW": "utf-8", "UNOY": "utf-8"}
VERSION_4_ONLY = {"UNOW", "UNOY"}
LEVEL_A = set(string.ascii_uppercase + string.digits + " .,-()/='+:?!\"%&*;<>")
LEVEL_B = LEVEL_A | set(string.ascii_lowercase)
REPERTOIRES = {"UNOA": LEVEL_A, "UNOB": LEVEL_B}


def check_interchange(data: bytes) -> list[str]:
    """Every violation found in the interchange; an empty list when it conforms."""
    match = re.search(rb"UNB\+(UNO[A-Z]):(\d)", data)
    if not match:
        return ["no UNB with a syntax identifier UNOx:n"]
    charset, version = match.group(1).decode(), int(match.group(2))
    if charset not in CODECS:
        return [f"UNB syntax identifier {charset} is not one we can read"]
    problems = []
    if charset in VERSION_4_ONLY and version < 4:
        problems.append(f"{charset} exists only in syntax version 4, UNB says {version}")
    try:
        text = data.decode(CODECS[charset])
    except UnicodeDecodeError as exc:
        problems.append(f"octets are not {charset}: {exc}")
        text = data.decode(CODECS[charset], errors="replace")
    problems += _repertoire_problems(charset, text)
    if not text.startswith("UNA") or len(text) < 9:
        return problems + ["no UNA service string advice at the start"]
    una = text[3:9]
    problems += _una_problems(una)
    if version >= 4 and una[4] != " ":
        problems += _unescaped_repetition_problems(text[9:], una)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            segments = list(Parser().parse(text))
    except Exception as exc:  # pydifact raises several kinds; any of them means it does not parse
        return problems + [f"does not parse: {exc}"]
    return problems + _envelope_problems(segments[1:], version, decimal_mark=una[2])


def _repertoire_problems(charset: str, text: str) -> list[str]:
    allowed = REPERTOIRES.get(charset)
    if allowed is None:
        return []
    outside = sorted({c for c in text if c not in allowed})
    return [f"characters outside {charset}: {''.join(outside)!r}"] if outside else []


def _una_problems(una: str) -> list[str]:
    problems = []
    if len(set(una)) != 6:
        problems.append(f"UNA {una!r}: service characters must differ")
    if una[2] not in ".,":
        problems.append(f"UNA decimal mark {una[2]!r} is neither '.' nor ','")
    return problems


def _unescaped_repetition_problems(body: str, una: str) -> list[str]:
    """In v4 an unreleased repetition separator repeats an element; none of ours repeats."""
    release, repetition, released, found = una[3], una[4], False, 0
    for char in body:
        if released:
            released = False
        elif char == release:
            released = True
        elif char == repetition:
            found += 1
    if not found:
        return []
    return [f"{found} unreleased repetition separator(s) {repetition!r} in elements that do not repeat"]


def _envelope_problems(segments: list, version: int, decimal_mark: str) -> list[str]:
    tags = [s.tag for s in segments]
    if not tags or tags[0] != "UNB":
        return ["the interchange does not start with UNB after UNA"]
    if tags[-1] != "UNZ":
        return ["the interchange does not end with UNZ"]
    service = SERVICE_V4 if version >= 4 else SERVICE_V3
    problems = _segment_problems(segments[0], service, decimal_mark)
    problems += _segment_problems(segments[-1], service, decimal_mark)
    messages = _split_messages(segments[1:-1], problems)
    for message in messages:
        problems += _message_problems(message, service, decimal_mark)
    problems += _interchange_control_problems(segments[0], segments[-1], len(messages))
    return problems


def _split_messages(segments: list, problems: list[str]) -> list[list]:
    messages, current = [], None
    for segment in segments:
        if segment.tag == "UNH":
            if current is not None:
                problems.append("UNH before the previous message's UNT")
            current = [segment]
        elif current is None:
            problems.append(f"segment {segment.tag} outside any message (between UNB and UNZ)")
        else:
            current.append(segment)
            if segment.tag == "UNT":
                messages.append(current)
                current = None
    if current is not None:
        problems.append("a message without UNT")
    return messages


def _message_problems(message: list, service: dict, decimal_mark: str) -> list[str]:
    problems = structure_problems([s.tag for s in message], INVOIC_D96A)
    for segment in message:
        problems += _segment_problems(segment, service, decimal_mark)
    unh, unt = message[0], message[-1]
    if str(unt[0]) != str(len(message)):
        problems.append(f"UNT counts {unt[0]} segments, the message has {len(message)} (UNH..UNT)")
    if unt[1] != unh[0]:
        problems.append(f"UNT reference {unt[1]!r} is not UNH's {unh[0]!r}")
    identifier = unh[1] if isinstance(unh[1], list) else [unh[1]]
    if identifier[:4] != ["INVOIC", "D", "96A", "UN"]:
        problems.append(f"UNH message identifier {identifier!r} is not INVOIC:D:96A:UN")
    return problems


def _segment_problems(segment, service: dict, decimal_mark: str) -> list[str]:
    spec = service.get(segment.tag) or D96A_SEGMENTS.get(segment.tag)
    if spec is None:
        return [f"{segment.tag}: no segment specification transcribed for it"]
    return element_problems(segment.tag, list(segment.elements), spec, decimal_mark)


def _interchange_control_problems(unb, unz, message_count: int) -> list[str]:
    problems = []
    if str(unz[0]) != str(message_count):
        problems.append(f"UNZ counts {unz[0]} messages, the interchange has {message_count}")
    if unz[1] != unb[4]:
        problems.append(f"UNZ reference {unz[1]!r} is not UNB's {unb[4]!r}")
    return problems
