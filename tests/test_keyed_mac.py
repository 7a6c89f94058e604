"""KeyedMac gives hmac.digest's bytes, for every key it has prepared and for new ones."""

from __future__ import annotations

import hmac
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from helpdesk.gateway.conversation.keyed_mac import _MOST_KEYS, KeyedMac

_MAC = KeyedMac()  # shared across examples: a prepared key must give the same bytes as a fresh one


@given(key=st.binary(min_size=1, max_size=200), message=st.binary(max_size=300))
def test_the_same_bytes_as_one_shot_hmac(key, message):
    expected = hmac.digest(key, message, "sha256")
    assert _MAC.digest(key, message) == expected
    assert _MAC.digest(key, message) == expected  # again, from the prepared key


def test_keys_do_not_mix_and_their_number_stays_bounded():
    mac = KeyedMac()
    keys = [bytes([n]) * 32 for n in range(3 * _MOST_KEYS)]
    for key in keys * 2:
        assert mac.digest(key, b"7.verp") == hmac.digest(key, b"7.verp", "sha256")
    assert len(mac._prepared) <= _MOST_KEYS


def test_a_copy_made_by_pickle_prepares_its_own_keys():
    mac = KeyedMac()
    mac.digest(b"k" * 32, b"x")
    copy = pickle.loads(pickle.dumps(mac))
    assert copy.digest(b"k" * 32, b"x") == hmac.digest(b"k" * 32, b"x", "sha256")


def test_threads_sharing_the_prepared_keys_get_the_right_bytes():
    mac, keys = KeyedMac(), [bytes([n]) * 32 for n in range(4)]

    def sign(n: int) -> bool:
        key, message = keys[n % 4], b"%d.verp" % n
        return mac.digest(key, message) == hmac.digest(key, message, "sha256")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(sign, range(20_000)))
    finally:
        sys.setswitchinterval(interval)
