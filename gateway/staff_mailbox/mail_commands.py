"""Read the commands at the top of a technician's mail: `#take`, `#assign jan@example.com`, `#time 1h30m`...

Only the leading lines count (blank lines between them are allowed); the first line not
starting with # ends the commands and starts the text. Parsing knows nothing of tickets or permissions: it
only says which commands were written and which lines are not valid commands, so a typo
can be explained to the technician before anything changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# name -> whether it takes an argument
COMMANDS = {
    "take": False, "assign": True, "queue": True, "priority": True, "category": True, "pending": False,
    "resolve": False, "close": False, "reopen": False, "time": True, "note": False, "cc": True,
    "ack": False,  # acknowledges the ticket's alerts: their escalation stops repeating
    "problem": True,  # links the ticket, an incident, to the problem ticket of its cause
}
_COMMAND_LINE = re.compile(r"#([A-Za-z][\w-]*):?(?:[ \t]+(.*))?")
_DURATION = re.compile(r"(?:(\d+(?:[.,]\d+)?)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.IGNORECASE)
_CLOCK = re.compile(r"(\d+):([0-5]\d)")
MAX_MINUTES = 24 * 60  # one entry is at most a day; larger numbers are almost always typos


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""


@dataclass(frozen=True)
class ParsedCommands:
    commands: tuple[Command, ...]
    errors: tuple[str, ...]   # one line per unusable command line, for the reply to the technician
    text: str                 # what follows the commands (for #note, the note itself)

    @property
    def names(self) -> set[str]:
        return {c.name for c in self.commands}


_CC = re.compile(r"(add|remove)\s+<?([^\s<>@,;\"]+@[^\s<>@,;\"]+\.[^\s<>@,;\"]+)>?", re.IGNORECASE)


def parse_cc(value: str) -> tuple[str, str] | None:
    """('add', 'jan@client.example') from 'add jan@client.example'; None when unreadable."""
    match = _CC.fullmatch(value.strip())
    return (match[1].lower(), match[2].lower()) if match else None


def parse_duration(value: str) -> int | None:
    """Minutes in '1h30m', '1.5h', '90m', '90', '1:30'; None when unreadable or out of range."""
    value = value.strip()
    if value.isdigit():
        minutes = int(value)
    elif clock := _CLOCK.fullmatch(value):
        minutes = int(clock[1]) * 60 + int(clock[2])
    else:
        match = _DURATION.fullmatch(value)
        if not match or not (match[1] or match[2]):
            return None
        minutes = round(float((match[1] or "0").replace(",", ".")) * 60) + int(match[2] or 0)
    return minutes if 0 < minutes <= MAX_MINUTES else None


def _check(name: str, argument: str) -> str | None:
    """Why this command line cannot be used, or None."""
    if name not in COMMANDS:
        return f"#{name}: unknown command (known: {', '.join('#' + c for c in COMMANDS)})"
    if COMMANDS[name] and not argument:
        return f"#{name}: needs a value, e.g. {_EXAMPLES[name]}"
    if not COMMANDS[name] and argument and name != "note":
        return f"#{name}: takes no value, but got {argument!r}"
    if name == "cc" and parse_cc(argument) is None:
        return f"#cc: expected 'add <address>' or 'remove <address>', got {argument!r}"
    if name == "time" and parse_duration(argument) is None:
        return f"#time: cannot read {argument!r} as time spent (e.g. #time 1h30m, at most 24h)"
    return None


_EXAMPLES = {"cc": "#cc add jan@client.example",
             "assign": "#assign anna@example.com", "queue": "#queue network", "priority": "#priority high",
             "category": "#category hardware", "time": "#time 1h30m",
             "problem": "#problem 123"}


def parse_commands(text: str) -> ParsedCommands:
    lines = text.split("\n")
    commands: list[Command] = []
    errors: list[str] = []
    index = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        match = _COMMAND_LINE.fullmatch(stripped)
        if not match and stripped.startswith("#"):
            # "# note" or "#1" may well be a mistyped #note: refusing beats mailing a note to the client.
            errors.append(f"{stripped[:40]!r}: not a command (a leading line starting with # must be one)")
            continue
        if not match:
            break
        name, argument = match[1].lower(), (match[2] or "").strip()
        problem = _check(name, argument)
        if problem:
            errors.append(problem)
        else:
            commands.append(Command(name, argument))
        if name == "note" and argument:  # "#note text" starts the note on the same line
            lines[index] = argument
            break
    else:
        index = len(lines)
    return ParsedCommands(tuple(commands), tuple(errors), "\n".join(lines[index:]).strip())
