"""Authentication-Results (RFC 8601): only trusted servers count, and what they say about the From domain."""

from __future__ import annotations

import pytest

from helpdesk.gateway.hygiene.auth_results import Verification, evaluate

TRUSTED = frozenset({"mx.helpdesk.test", "Filter.Helpdesk.Test"})


def check(*headers: str, from_domain: str = "client.example") -> Verification:
    return evaluate(tuple(headers), TRUSTED, from_domain)


def test_trusted_pass():
    result = check("mx.helpdesk.test; dkim=pass header.d=client.example header.s=s1 header.b=Ab/c+1x;"
                   " spf=pass smtp.mailfrom=jan@client.example;"
                   " dmarc=pass (p=none dis=none) header.from=client.example")
    assert result == Verification(True, "dmarc=pass (mx.helpdesk.test) for client.example")


def test_trusted_dmarc_fail_wins_over_everything():
    result = check("mx.helpdesk.test; dkim=pass header.d=client.example; dmarc=fail (p=reject dis=reject)"
                   " header.from=client.example")
    assert result == Verification(False, "dmarc=fail (mx.helpdesk.test) for client.example")


def test_dmarc_reject_written_as_result_counts_as_failure():
    assert check("mx.helpdesk.test; dmarc=reject header.from=client.example").verified is False


def test_untrusted_forged_pass_is_ignored():
    result = check("attacker.example; dmarc=pass header.from=client.example; dkim=pass header.d=client.example")
    assert result.verified is None and "trusted" in result.reason


def test_dkim_fail_for_another_domain_is_ignored():
    result = check("mx.helpdesk.test; dkim=fail header.d=list.other.example; spf=fail smtp.mailfrom=other.example")
    assert result.verified is None


def test_dkim_fail_for_the_from_domain_is_a_failure():
    result = check("mx.helpdesk.test; dkim=fail (body hash did not verify) header.d=client.example")
    assert result == Verification(False, "dkim=fail (mx.helpdesk.test) for client.example")


def test_one_valid_signature_outweighs_a_broken_one():
    result = check("mx.helpdesk.test; dkim=fail header.d=client.example; dkim=pass header.i=@mail.client.example")
    assert result == Verification(True, "dkim=pass header.i=mail.client.example (mx.helpdesk.test) for client.example")


@pytest.mark.parametrize("spf", ["fail", "softfail"])
def test_spf_failure_without_dkim_pass_is_a_failure(spf):
    assert check(f"mx.helpdesk.test; spf={spf} smtp.mailfrom=client.example").verified is False
    assert check(f"mx.helpdesk.test; spf={spf} smtp.mailfrom=client.example;"
                 " dkim=pass header.d=client.example").verified is True


def test_spf_pass_for_a_subdomain_verifies():
    result = check("mx.helpdesk.test; spf=pass smtp.mailfrom=bounces@mail.client.example")
    assert result.verified is True and "smtp.mailfrom=mail.client.example" in result.reason


def test_lookalike_and_top_level_domains_do_not_count():
    assert check("mx.helpdesk.test; dkim=pass header.d=evilclient.example").verified is None
    assert check("mx.helpdesk.test; dkim=pass header.d=example").verified is None


def test_dmarc_pass_for_a_different_header_from_does_not_verify():
    assert check("mx.helpdesk.test; dmarc=pass header.from=attacker.example").verified is None


def test_comments_and_quoted_strings():
    header = ('MX.HELPDESK.TEST 1 (our border; v2 (nested) filter);'
              ' dkim (signature check) = pass (good (really; good) signature)'
              ' header.i = "@Client.Example" header.s="sel;(1)";'
              ' spf=fail smtp.mailfrom="john \\"doe\\""@client.example')
    result = check(header)
    assert result == Verification(True, "dkim=pass (mx.helpdesk.test) for client.example")


def test_quoted_authserv_id_and_version():
    assert check('"mx.helpdesk.test" 1; dkim=pass header.d=client.example').verified is True
    # RFC 8601 section 2.2: an unknown version is a syntax we cannot read
    assert check("mx.helpdesk.test 2; dkim=pass header.d=client.example").verified is None


def test_none_result_says_nothing():
    result = check("mx.helpdesk.test; none")
    assert result.verified is None and "client.example" in result.reason


def test_multiple_headers_only_the_trusted_one_counts():
    result = check("mx.helpdesk.test; spf=none smtp.mailfrom=client.example",
                   "relay.client.example; dkim=pass header.d=client.example; dmarc=pass header.from=client.example",
                   "filter.helpdesk.test; dmarc=fail header.from=client.example")
    assert result == Verification(False, "dmarc=fail (filter.helpdesk.test) for client.example")


def test_results_from_several_trusted_headers_combine():
    result = check("filter.helpdesk.test; dkim=pass header.d=client.example",
                   "mx.helpdesk.test; spf=softfail smtp.mailfrom=client.example")
    assert result.verified is True


@pytest.mark.parametrize("headers", [
    (), ("",), (";;;",), ("garbage without structure",), ("\x00\xff((((((",),
    ('mx.helpdesk.test "unclosed; dkim=pass',),
    ("mx.helpdesk.test; dkim=pass=fail header.d=client.example",), ("mx.helpdesk.test; =pass; dkim=",),
    ("mx.helpdesk.test; dkim=pass header.d=",), ("mx.helpdesk.test; arc=pass; iprev=pass policy.iprev=192.0.2.1",),
])
def test_garbage_is_ignored(headers):
    assert evaluate(headers, TRUSTED, "client.example").verified is None


def test_garbage_header_does_not_hide_a_good_one():
    assert check("mx.helpdesk.test; ((( ;", "mx.helpdesk.test; dkim=pass header.d=client.example").verified is True


def test_unknown_from_domain_can_still_fail_but_never_pass():
    assert check("mx.helpdesk.test; dkim=pass header.d=client.example; dmarc=pass", from_domain="").verified is None
    assert check("mx.helpdesk.test; dmarc=fail", from_domain="").verified is False
