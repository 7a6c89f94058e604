"""Data elements of one segment checked against its specification: presence of the mandatory ones,
no more elements or components than defined, and each value's representation (a, n, an; length).
"""

from __future__ import annotations

import re

FORMAT = re.compile(r"^(an|a|n)(\.\.)?(\d+)$")


def format_problem(value: str, fmt: str, decimal_mark: str) -> str | None:
    """Why the value does not have the representation (None if it has).

    ISO 9735: in n the length counts digits only; a minus sign and the decimal mark are not
    counted; a decimal mark has a digit on each side; no exponent, no group separators."""
    kind, up_to, size = FORMAT.match(fmt).groups()
    size = int(size)
    if kind == "n":
        pattern = rf"^-?\d+(?:{re.escape(decimal_mark)}\d+)?$"
        if not re.match(pattern, value):
            return f"{value!r} is not numeric ({fmt}, decimal mark {decimal_mark!r})"
        length = sum(c.isdigit() for c in value)
    else:
        if kind == "a" and any(c.isdigit() for c in value):
            return f"{value!r} holds digits, {fmt} is alphabetic"
        length = len(value)
    if length > size or (not up_to and length != size):
        return f"{value!r} has {length} characters, {fmt} allows {'at most ' if up_to else 'exactly '}{size}"
    return None


def element_problems(tag: str, elements: list, spec: tuple, decimal_mark: str) -> list[str]:
    """Every violation of the segment's elements against spec (see segments_d96a)."""
    problems = []
    if len(elements) > len(spec):
        problems.append(f"{tag}: {len(elements)} data elements, the segment defines {len(spec)}")
    for position, (element_id, status, definition) in enumerate(spec, start=1):
        value = elements[position - 1] if position <= len(elements) else ""
        where = f"{tag} element {position:02d} ({element_id})"
        if isinstance(definition, str):
            problems += _simple_problems(where, value, status, definition, decimal_mark)
        else:
            problems += _composite_problems(where, value, status, definition, decimal_mark)
    return problems


def _simple_problems(where: str, value, status: str, fmt: str, decimal_mark: str) -> list[str]:
    if isinstance(value, list):
        return [f"{where}: has components {value!r}, it is a simple data element"]
    if value == "":
        return [f"{where}: mandatory, missing"] if status == "M" else []
    problem = format_problem(value, fmt, decimal_mark)
    return [f"{where}: {problem}"] if problem else []


def _composite_problems(where: str, value, status: str, components: tuple, decimal_mark: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if all(v == "" for v in values):
        return [f"{where}: mandatory composite, missing"] if status == "M" else []
    problems = []
    if len(values) > len(components):
        problems.append(f"{where}: {len(values)} components, the composite defines {len(components)}")
    for index, (component_id, component_status, fmt) in enumerate(components):
        component = values[index] if index < len(values) else ""
        label = f"{where} component {index + 1} ({component_id})"
        problems += _simple_problems(label, component, component_status, fmt, decimal_mark)
    return problems
