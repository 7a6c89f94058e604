"""An object's documents through the CLI: stored once by content, listed, exported byte for byte,
with the attachments' size limit and safe names."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from helpdesk.gateway.accounts.directory import add_org
from helpdesk.store.models import Blob
from helpdesk.store.object_tables import ObjectDocument
from tests.list_cli import in_process_cli


@pytest.fixture
def helpdesk(db_url, monkeypatch, engine):
    run = in_process_cli(db_url, monkeypatch)
    from helpdesk.store.db import new_session
    with new_session(engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"])
    assert run("objects", "add", "Acme", "SRV-01").code == 0
    return run


def data(helpdesk, *args):
    run = helpdesk(*args, "--json")
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_add_list_and_get_round_trip(helpdesk, engine, tmp_path):
    manual = tmp_path / "manual.pdf"
    content = bytes(range(256)) * 40
    manual.write_bytes(content)
    assert "added to SRV-01" in helpdesk("objects", "docs", "add", "SRV-01", str(manual), "--type", "manual").out
    assert helpdesk("objects", "docs", "add", "SRV-01", str(manual)).code == 0  # again: one blob
    listed = data(helpdesk, "objects", "docs", "list", "SRV-01")
    assert [(d["filename"], d["type"], d["size"]) for d in listed] == [
        ("manual.pdf", "manual", len(content)), ("manual.pdf", "document", len(content))]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Blob.__table__)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(ObjectDocument.__table__)).scalar_one() == 2
    out = tmp_path / "copy.pdf"
    assert helpdesk("objects", "docs", "get", "SRV-01", str(listed[0]["id"]), "-o", str(out)).code == 0
    assert out.read_bytes() == content
    by_name = tmp_path / "by-name.pdf"
    assert helpdesk("objects", "docs", "get", "SRV-01", "manual.pdf", "-o", str(by_name)).code == 0
    assert by_name.read_bytes() == content
    helpdesk("objects", "docs", "get", "SRV-01", "manual.pdf", "-o", str(by_name)).one_line_error("--force")


def test_a_hostile_name_is_made_safe(helpdesk, tmp_path):
    hostile = tmp_path / "..\u202egpj.exe"
    hostile.write_bytes(b"MZ")
    assert helpdesk("objects", "docs", "add", "SRV-01", str(hostile)).code == 0
    (doc,) = data(helpdesk, "objects", "docs", "list", "SRV-01")
    assert doc["filename"] == "gpj.exe" and "\u202e" not in doc["filename"]


def test_size_limit_and_mistakes(helpdesk, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_MAX_ATTACHMENT_BYTES", "1000")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 1001)
    helpdesk("objects", "docs", "add", "SRV-01", str(big)).one_line_error("at most 1000 bytes")
    helpdesk("objects", "docs", "add", "SRV-01", str(tmp_path / "missing.txt")).one_line_error("cannot read")
    small = tmp_path / "small.txt"
    small.write_text("ok")
    helpdesk("objects", "docs", "add", "SRV-01", str(small), "--type", "poem").one_line_error("unknown document type")
    helpdesk("objects", "docs", "add", "NOPE", str(small)).one_line_error("unknown object")
    helpdesk("objects", "docs", "get", "SRV-01", "77", "-o", str(tmp_path / "x")).one_line_error("no document")
    assert data(helpdesk, "objects", "docs", "list", "SRV-01") == []
