"""The listener's fast reading of MAIL/RCPT paths gives exactly what aiosmtpd's full parser gives."""

from __future__ import annotations

import string

from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.inbound.smtp import Listener


class _Paths(Listener):
    def __init__(self, local_part_limit: int = 0):  # only what _getaddr reads
        self.local_part_limit = local_part_limit


def _both(arg: str, limit: int = 0):
    reader = _Paths(limit)
    return reader._getaddr(arg), SMTP._getaddr(reader, arg)


CASES = ["<jan@client.example> SIZE=100", "<>", '<"a b"@x.example>', "<jan@[1.2.3.4]>", "<@relay:jan@x.example>",
         "<Jan.Novák@x.cz> SMTPUTF8", "<a.b+c@x-y.example>", "< jan@x.example>", "<jan..x@x.example>",
         "<jan@x.example>   BODY=8BITMIME  SIZE=5", "<.jan@x.example>", "<jan@-x.example>", "<jan@x.example",
         "jan@x.example", "<jan@x.example> ", "<Jan@X.Example>\tSIZE=1", "<a@b>", "", "<jan@x.example>>", "<<a@b>"]


def test_the_plain_path_reading_agrees_with_the_full_parser():
    for arg in CASES:
        fast, full = _both(arg)
        assert fast == full, arg


def test_a_local_part_over_the_limit_is_refused_as_by_the_full_parser():
    assert _both("<abcdefgh@x.example>", limit=4) == ((None, None), (None, None))


_ATOM = st.text(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=12)
_LABEL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True)


@given(local=st.lists(_ATOM, min_size=1, max_size=3), domain=st.lists(_LABEL, min_size=1, max_size=4),
       params=st.sampled_from(["", " SIZE=1000", "  BODY=8BITMIME SIZE=2", " SMTPUTF8"]))
def test_any_plain_path_reads_the_same_both_ways(local, domain, params):
    fast, full = _both(f"<{'.'.join(local)}@{'.'.join(domain)}>{params}")
    assert fast == full
