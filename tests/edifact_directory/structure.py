"""A message's segment sequence checked against a message table (invoic_d96a): order, group
nesting, mandatory segments and groups, maximum repetitions; unknown or misplaced segments.

The walk reads the segments once, as a receiving translator does: at each segment it looks, in the
current group, for the first table entry at or after the current one that the segment can start; if
none, the group ends and the enclosing group tries; at message level a segment nothing accepts is
reported (unknown to the message, or out of order) and skipped, so later violations are still found.
"""

from __future__ import annotations

from tests.edifact_directory.invoic_d96a import Group, Seg


def structure_problems(tags: list[str], table: tuple) -> list[str]:
    problems: list[str] = []
    known = _all_tags(table)
    _walk(table, tags, 0, "message", problems, known, in_group=False)
    return problems


def _walk(children: tuple, tags: list[str], pos: int, path: str, problems: list[str], known: set[str],
          *, in_group: bool) -> int:
    counts = [0] * len(children)
    current = 0
    if in_group:  # the caller matched the trigger segment at pos
        counts[0], pos = 1, pos + 1
    while pos < len(tags):
        tag = tags[pos]
        found = _first_match(children, tag, max(current, 1) if in_group else current)
        if found is None:
            if in_group:
                break
            what = "is not a segment of the message" if tag not in known else "is out of order here"
            problems.append(f"segment {pos + 1} {tag}: {what} ({path})")
            pos += 1
            continue
        problems += _missing(children, counts, current, found, path)
        current = found
        counts[found] += 1
        child = children[found]
        if counts[found] == child.max + 1:
            problems.append(f"segment {pos + 1} {tag}: {_name(child)} repeated more than {child.max} times ({path})")
        if isinstance(child, Seg):
            pos += 1
        else:
            pos = _walk(child.children, tags, pos, f"{path}/{child.name}", problems, known, in_group=True)
    problems += _missing(children, counts, current, len(children), path)
    return pos


def _first_match(children: tuple, tag: str, start: int) -> int | None:
    for index in range(start, len(children)):
        if children[index].tag == tag:
            return index
    return None


def _missing(children: tuple, counts: list[int], start: int, end: int, path: str) -> list[str]:
    return [
        f"mandatory {_name(children[i])} missing ({path})"
        for i in range(start, end)
        if counts[i] == 0 and children[i].status == "M"
    ]


def _name(child) -> str:
    return f"segment group {child.name} ({child.tag})" if isinstance(child, Group) else f"segment {child.tag}"


def _all_tags(children: tuple) -> set[str]:
    tags: set[str] = set()
    for child in children:
        tags |= _all_tags(child.children) if isinstance(child, Group) else {child.tag}
    return tags
