"""Decide from Authentication-Results headers (RFC 8601) whether a server we trust verified the From domain.

Only headers whose authserv-id we trust count: anyone on the path, the sender included, can add the
header (RFC 8601 section 7.2). The border MTA must remove incoming headers that claim one of our ids
(section 5), or a forged one lower in the message would count too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verification:
    verified: bool | None   # True: a trusted host saw a pass; False: a trusted host saw a failure; None: nothing said
    reason: str             # human-readable, e.g. "dmarc=fail (mx.example.net) for client.example"


@dataclass(frozen=True)
class _Result:
    method: str        # "dmarc", "dkim" or "spf"
    result: str        # "pass", "fail", ... (lower-case)
    domain: str        # the domain the result is about: header.d / header.i, smtp.mailfrom, header.from ("" if none)
    prop: str          # the property that named it, e.g. "header.d", for the reason text
    authserv_id: str


# The property that names the domain a result is about, in order of preference (RFC 8601 section 2.7).
_DOMAIN_PROPERTIES = {"dmarc": ("header.from",), "dkim": ("header.d", "header.i"), "spf": ("smtp.mailfrom",)}
# "reject"/"quarantine" are not RFC 7489 results, but some filters write the policy applied in their place.
_DMARC_FAILURES = {"fail", "reject", "quarantine"}
_SPF_FAILURES = {"fail", "softfail"}

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)', re.DOTALL)
_AUTHSERV = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^\s"]+)(?:\s+(\d+))?\s*')
_METHODSPEC = re.compile(r"\s*([A-Za-z0-9_-]+)\s*(?:/\s*\d+\s*)?=\s*([A-Za-z0-9_-]+)(?:\s+(.*))?\s*", re.DOTALL)
# The look-behind lets a property name start only at the start of a word: without it a long run of letters
# costs quadratic time, and the sender controls much of this text (header.from, smtp.mailfrom).
_PROPERTY = re.compile(r'(?<![\w.-])([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)?)\s*=\s*'  # ptype.property =
                       r'("(?:[^"\\]|\\.)*"(?:@[^\s"]+)?|[^\s"]+)')                        # value or "local"@domain


def evaluate(header_values: tuple[str, ...], trusted_authserv_ids: frozenset[str], from_domain: str) -> Verification:
    """What the trusted Authentication-Results headers say about `from_domain` (topmost header first)."""
    trusted = {authserv_id.strip().lower() for authserv_id in trusted_authserv_ids}
    parsed = [_parse_header(str(value), trusted) for value in header_values]
    results = [result for header in parsed if header is not None for result in header]
    if all(header is None for header in parsed):
        return Verification(None, "no readable Authentication-Results header from a trusted server")
    return _decide(results, _domain(from_domain))


def _decide(results: list[_Result], from_domain: str) -> Verification:
    def first(method: str, outcomes: set[str]) -> _Result | None:
        return next((r for r in results if r.method == method and r.result in outcomes
                     and _is_related(r.domain, from_domain)), None)

    # A DMARC failure is about the From domain by definition, whatever header.from says.
    dmarc_failure = next((r for r in results if r.method == "dmarc" and r.result in _DMARC_FAILURES), None)
    if dmarc_failure:
        return Verification(False, _describe(dmarc_failure, from_domain))
    dmarc_pass = next((r for r in results if r.method == "dmarc" and r.result == "pass" and from_domain
                       and r.domain in ("", from_domain)), None)
    dkim_pass = first("dkim", {"pass"})
    failure = first("dkim", {"fail"}) or first("spf", _SPF_FAILURES)
    if failure and not (dkim_pass or dmarc_pass):
        return Verification(False, _describe(failure, from_domain))
    success = dmarc_pass or dkim_pass or first("spf", {"pass"})
    if success:
        return Verification(True, _describe(success, from_domain))
    return Verification(None, f"no trusted pass or failure for {from_domain or 'an unknown From domain'}")


def _describe(result: _Result, from_domain: str) -> str:
    about = f" {result.prop}={result.domain}" if result.domain and result.domain != from_domain else ""
    return f"{result.method}={result.result}{about} ({result.authserv_id}) for {from_domain or 'unknown domain'}"


def _parse_header(value: str, trusted: set[str]) -> list[_Result] | None:
    """The dmarc/dkim/spf results of one header, or None when it is not from a trusted server or unreadable."""
    segments = _split_segments(value)
    head = _AUTHSERV.fullmatch(segments[0])
    if not head:
        return None
    authserv_id = _unquote(head[1]).lower()
    # RFC 8601 section 2.2: a version we do not know means a syntax we cannot read.
    if authserv_id not in trusted or head[2] not in (None, "1"):
        return None
    results = (_parse_resinfo(segment, authserv_id) for segment in segments[1:])
    return [result for result in results if result is not None]


def _parse_resinfo(segment: str, authserv_id: str) -> _Result | None:
    """'dkim=pass header.d=example.com header.s=s1' -> a result; 'none', other methods and garbage -> None."""
    match = _METHODSPEC.fullmatch(segment)
    if not match or match[1].lower() not in _DOMAIN_PROPERTIES:
        return None
    method = match[1].lower()
    properties: dict[str, str] = {}
    for name, raw in _PROPERTY.findall(match[3] or ""):
        properties.setdefault(re.sub(r"\s", "", name).lower(), _unquote(raw))
    prop = next((p for p in _DOMAIN_PROPERTIES[method] if properties.get(p)), "")
    domain = _domain(properties[prop]) if prop else ""
    return _Result(method, match[2].lower(), domain, prop, authserv_id)


def _split_segments(value: str) -> list[str]:
    """The ';'-separated parts of a header value, with comments (RFC 5322 CFWS, nested) replaced by a space
    and quoted strings kept whole, so a ';' or '(' inside either does not split anything."""
    segments: list[str] = []
    current: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:  # the character after a backslash in a quoted string or comment is literal
            escaped = False
            if not depth:
                current.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                current.append(char)
        elif quoted:
            current.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif depth:
            depth -= char == ")"
            if not depth:
                current.append(" ")
        elif char == ";":
            segments.append("".join(current))
            current = []
        else:
            quoted = char == '"'
            current.append(char)
    segments.append("".join(current))
    return segments


def _unquote(value: str) -> str:
    """'"john doe"@example.com' -> 'john doe@example.com'; quoted-pairs lose their backslash."""
    match = _QUOTED.fullmatch(value)
    return re.sub(r"\\(.)", r"\1", match[1]) + match[2] if match else value


def _domain(value: str) -> str:
    """The domain of 'user@example.com', '@example.com' or 'example.com', lower-cased; "" if not one."""
    domain = value.strip().rsplit("@", 1)[-1].strip("<>").rstrip(".").lower()
    return domain if domain and not re.search(r"[\s\"@;,()]", domain) else ""


def _is_related(domain: str, from_domain: str) -> bool:
    """Equal, or one a subdomain of the other; the shorter must have two labels so 'com' matches nothing."""
    if not domain or not from_domain:
        return False
    shorter, longer = sorted((domain, from_domain), key=len)
    return "." in shorter and (longer == shorter or longer.endswith("." + shorter))
