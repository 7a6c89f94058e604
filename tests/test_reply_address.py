"""Signed reply addresses as a pure function: who they verify for, and who not."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from helpdesk.gateway.conversation.reply_address import ReplyAddresses
from helpdesk.gateway.ground.settings import Settings

KEY, OLD = b"current-key-0123456789", b"previous-key-0123456789"


def replies(previous=()) -> ReplyAddresses:
    return ReplyAddresses(KEY, "Support@Helpdesk.test", "r-", lambda: tuple(previous))


def test_an_address_verifies_for_its_user_ticket_and_generation_only():
    r = replies()
    address = r.address_for(7, 0, 42)
    local, _, domain = address.partition("@")
    assert domain == "helpdesk.test" and local.startswith("support+r-42-") and len(local.split("-")[-1]) == 16
    token = r.find(["someone@else.example", address.upper()])  # mail systems may change the case
    assert token.ticket == 42 and r.verify(token, 7, 0)
    assert not r.verify(token, 8, 0)      # another user
    assert not r.verify(token, 7, 1)      # revoked: the generation moved on
    other_ticket = r.find([address.replace("+r-42-", "+r-43-")])
    assert not r.verify(other_ticket, 7, 0)  # a token for one ticket cannot act on another


def test_addresses_given_out_before_still_verify():
    """A fixed vector (HMAC-SHA256 of purpose, user, generation and ticket in lower-case base32):
    reply addresses already given out keep working after an upgrade."""
    r = replies()
    assert r.address_for(7, 0, 42) == "support+r-42-fqcmlbtz3jlou2je@helpdesk.test"
    assert r.verify(r.find(["support+r-42-fqcmlbtz3jlou2je@helpdesk.test"]), 7, 0)


def test_addresses_not_ours_are_not_tokens():
    r = replies()
    assert r.find(["support@helpdesk.test", "support+r-1-short@helpdesk.test",
                   r.address_for(1, 0, 1).replace("helpdesk.test", "evil.example")]) is None


def test_a_previous_key_verifies_while_it_is_offered():
    signed_before = ReplyAddresses(OLD, "support@helpdesk.test", "r-").address_for(3, 0, 9)
    assert replies(previous=[OLD]).verify(replies().find([signed_before]), 3, 0)
    assert not replies().verify(replies().find([signed_before]), 3, 0)


def test_previous_keys_end_with_their_transition_period():
    s = Settings(secret_key="k" * 20, previous_secret_keys="old-one, old-two",
                 previous_secret_keys_until=date(2026, 12, 31))
    assert s.previous_secrets(date(2026, 12, 31)) == (b"old-one", b"old-two")
    assert s.previous_secrets(date(2027, 1, 1)) == ()


@given(st.integers(1, 10**12), st.integers(0, 10**6), st.integers(1, 10**12))
def test_every_issued_address_verifies_and_fits_a_local_part(user_id, generation, ticket):
    r = replies()
    address = r.address_for(user_id, generation, ticket)
    assert len(address.partition("@")[0]) <= 64  # RFC 5321 4.5.3.1.1
    assert r.verify(r.find([address]), user_id, generation)
