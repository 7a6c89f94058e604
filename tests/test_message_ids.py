"""Signed Message-IDs: ours verify, forged or foreign ones do not."""

from __future__ import annotations

from gateway.message_ids import MessageIdSigner, load_secret


def test_signed_ids_verify_and_tampering_fails():
    signer = MessageIdSigner(b"s" * 32, "helpdesk.test")
    message_id = signer.new(42)
    assert signer.verified_ticket(message_id) == 42 and signer.is_ours(message_id)
    assert signer.verified_ticket(message_id.replace("hd42.", "hd43.")) is None
    assert MessageIdSigner(b"t" * 32, "helpdesk.test").verified_ticket(message_id) is None
    assert signer.verified_ticket("abc@client.example") is None and not signer.is_ours("abc@client.example")


def test_secret_file_is_created_once_and_reused(tmp_path):
    first = load_secret(None, None, tmp_path / "helpdesk.secret")
    assert load_secret(None, None, tmp_path / "helpdesk.secret") == first and len(first) == 64
    assert oct((tmp_path / "helpdesk.secret").stat().st_mode)[-3:] == "600"
    assert load_secret("explicit-secret-value", None, tmp_path / "x") == b"explicit-secret-value"
