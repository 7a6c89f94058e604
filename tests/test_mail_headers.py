"""The plain-address fast path reads exactly what flanker reads, and leaves everything else to it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpdesk.inbound.mail_headers import (
    _PLAIN_MAILBOX,
    _parse_with_flanker,
    _plain_mailbox,
    addresses,
    first_address,
)


# Every value the fast path's pattern admits; shrinking is left out because flanker is slow to
# shrink against (minutes), and a failing example is printed whole anyway.
@settings(max_examples=400, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.from_regex(_PLAIN_MAILBOX, fullmatch=True))
def test_the_fast_path_agrees_with_flanker_on_everything_it_takes(value):
    plain = _plain_mailbox(value)
    if plain is not None:
        assert plain == _parse_with_flanker(value)


@pytest.mark.parametrize("value", [
    "anna@example.com", "<anna@example.com>", "Anna Novak <anna@example.com>", "Anna Novak<anna@example.com>",
    '"Novak, Anna" <anna@example.com>', '"A" <a.b+c@sub-1.example.co.uk>', " Ann-Lee <o'neil@x.ie> ",
    "Anna.Novak <ANNA@EXAMPLE.COM>", "#!$%&*+/=?^_`{|}~-@example.com",
])
def test_plain_values_take_the_fast_path_and_read_as_flanker_reads_them(value):
    assert _plain_mailbox(value) is not None
    assert _plain_mailbox(value) == _parse_with_flanker(value)


@pytest.mark.parametrize("value", [
    "a@xn--bcher-kva.de",            # flanker shows the domain in Unicode
    "x" * 65 + "@example.com",      # longer than RFC 5321 allows a local part
    "J. Smith <j@example.com>",      # ". " in an unquoted name
    "a@example.com, b@example.com",  # a list
    "=?utf-8?q?Anna?= <anna@example.com>", "Anna  Novak <anna@example.com>", "a@localhost",
    "a..b@example.com", "Anna\r\n <anna@example.com>", "Ánna <anna@example.com>",
])
def test_anything_else_is_left_to_flanker(value):
    assert _plain_mailbox(value) is None


def test_the_readers_give_the_same_for_both_paths():
    assert first_address("Anna Novak <Anna@Example.COM>") == ("Anna Novak", "Anna@example.com")
    assert first_address("J. Smith <j@example.com>") == ("J. Smith", "j@example.com")
    assert addresses("Anna <Anna@Example.com>", "b@example.com, J. Smith <c@example.com>") == (
        "anna@example.com", "b@example.com", "c@example.com")
