"""Signed Message-IDs: ours verify, forged or foreign ones do not."""

from __future__ import annotations

from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.ground.secret_key import load_secret


def test_signed_ids_verify_and_tampering_fails():
    signer = MessageIdSigner(b"s" * 32, "helpdesk.test")
    message_id = signer.new(42)
    assert signer.verified_ticket(message_id) == 42 and signer.is_ours(message_id)
    assert signer.verified_ticket(message_id.replace("hd42.", "hd43.")) is None
    assert MessageIdSigner(b"t" * 32, "helpdesk.test").verified_ticket(message_id) is None
    assert signer.verified_ticket("abc@client.example") is None and not signer.is_ours("abc@client.example")


def test_signatures_are_those_of_mail_already_sent():
    """Replies to (and bounces of) mail sent by an earlier version still verify: fixed vectors,
    HMAC-SHA256 of "<number>.<nonce>" in lower-case base32, the first 16 (10 for VERP) characters."""
    signer = MessageIdSigner(b"test-secret-key", "helpdesk.test")
    assert signer.verified_ticket("hd4242.0123456789ab.bvgrrammickbmg3w@helpdesk.test") == 4242
    assert signer.outbox_id("bounces+77-nljt2xakqb@helpdesk.test", "bounces") == 77


def test_secret_file_is_created_once_and_reused(tmp_path):
    first = load_secret(None, None, tmp_path / "helpdesk.secret")
    assert load_secret(None, None, tmp_path / "helpdesk.secret") == first and len(first) == 64
    assert oct((tmp_path / "helpdesk.secret").stat().st_mode)[-3:] == "600"
    assert load_secret("explicit-secret-value", None, tmp_path / "x") == b"explicit-secret-value"


def test_bounce_addresses_name_the_outbox_row_and_cannot_be_guessed():
    signer = MessageIdSigner(b"secret-secret-secret", "helpdesk.test")
    address = signer.bounce_address(1042, "bounces", "helpdesk.test")
    assert address.startswith("bounces+1042-") and address.endswith("@helpdesk.test")
    assert signer.outbox_id(address, "bounces") == 1042
    assert signer.outbox_id(address.upper(), "bounces") == 1042  # servers may change the case
    for forged in (address.replace("1042", "1043"), "bounces+1042@helpdesk.test", "support@helpdesk.test",
                   "bounces+1042-aaaaaaaaaa@helpdesk.test", ""):
        assert signer.outbox_id(forged, "bounces") is None
    other = MessageIdSigner(b"another-secret-value", "helpdesk.test")
    assert other.outbox_id(address, "bounces") is None


def test_processes_starting_together_agree_on_one_whole_secret(tmp_path):
    """Two threads creating the key file at once both read the same full key (it once read empty)."""
    import threading
    barrier, keys = threading.Barrier(8), []

    def start():
        barrier.wait()
        keys.append(load_secret(None, None, tmp_path / "helpdesk.secret"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
