"""`helpdesk outbox list` pages and filters without a query per row; `outbox retry --status failed`
re-queues failed mail in bulk, and the dispatcher then sends it. The real CLI runs in-process
(its one-line errors included) on a real database of each kind."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from helpdesk.app.wiring import make_dispatcher
from helpdesk.cli import main
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.transport import SmtpRelay
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import Outbox
from helpdesk.store.outbox_listing import outbox_page
from tests.test_outbox import _fill_outbox


@pytest.fixture
def helpdesk(db_url, monkeypatch, capsys):
    monkeypatch.setenv("HELPDESK_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["helpdesk", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        out, err = capsys.readouterr()
        return exit_.value.code or 0, out, err
    return run


def _fail_rows(engine, ids, error="relay 127.0.0.1:25: Connection refused", age=timedelta(hours=121)):
    with new_session(engine) as session, session.begin():
        session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(
            status="failed", attempts=14, last_error=error, created_at=utcnow() - age, queued_at=utcnow() - age))


def _one_line_error(result, needle: str) -> None:
    code, out, err = result
    assert code != 0 and out == "" and needle in err and len(err.strip().splitlines()) == 1, (code, err)


def test_list_pages_filters_and_says_when_output_is_cut(db_url, helpdesk):
    _fill_outbox(db_url, 5)
    engine = make_engine(db_url)
    _fail_rows(engine, [2, 4])
    engine.dispose()

    code, out, err = helpdesk("outbox", "list", "--limit", "2", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [5, 4]
    assert err.strip() == "showing 2 of 5; --offset 2 for more"
    code, out, err = helpdesk("outbox", "list", "--limit", "2", "--offset", "4", "--json")
    assert [r["id"] for r in json.loads(out)] == [1] and err == ""
    code, out, err = helpdesk("outbox", "list", "--status", "failed", "--json")
    failed = json.loads(out)
    assert [r["id"] for r in failed] == [4, 2] and err == ""
    assert failed[0]["status"] == "failed" and "Connection refused" in failed[0]["last_error"]
    code, out, _ = helpdesk("outbox", "list", "--status", "failed")
    assert code == 0 and "failed" in out and "Connection refused" in out

    for args, needle in [(("--limit", "0"), "--limit must be a whole number of at least 1"),
                         (("--limit", "lots"), "--limit must be"), (("--offset", "-1"), "--offset must be"),
                         (("--status", "lost"), "unknown status 'lost'")]:
        _one_line_error(helpdesk("outbox", "list", *args), needle)


def test_a_page_costs_two_queries_whatever_its_size(db_url):
    _fill_outbox(db_url, 60)
    engine = make_engine(db_url)
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql) if sql.startswith("SELECT") else None)
    for size in (5, 50):
        statements.clear()
        with new_session(engine) as session:
            rows, total = outbox_page(session, None, size, 0)
        assert len(rows) == size and total == 60 and len(statements) == 2
    engine.dispose()


def test_retry_status_failed_requeues_in_bulk_and_the_mail_goes_out(db_url, helpdesk, sink, db):
    expected = _fill_outbox(db_url, 4)
    engine = make_engine(db_url)
    _fail_rows(engine, [1, 2])
    _fail_rows(engine, [3], age=timedelta(days=30))  # failed in an older outage: left alone below
    before = db.outbox()

    _one_line_error(helpdesk("outbox", "retry"), "give an outbox ID, or --status failed")
    _one_line_error(helpdesk("outbox", "retry", "--status", "sent"), "only failed messages are re-queued")
    _one_line_error(helpdesk("outbox", "retry", "1", "--status", "failed"), "not both")
    _one_line_error(helpdesk("outbox", "retry", "--status", "failed", "--since", "last week"),
                    "--since must be an ISO date or time")
    assert db.outbox() == before  # no mistake changed anything

    since = (utcnow() - timedelta(days=10)).strftime("%Y-%m-%d")
    assert helpdesk("outbox", "retry", "--status", "failed", "--since", since)[1] == "2 failed outbox messages queued\n"
    by_id = {r["id"]: r for r in db.outbox()}
    assert [by_id[i]["status"] for i in (1, 2, 3, 4)] == ["queued", "queued", "failed", "queued"]
    assert by_id[1]["attempts"] == 0  # and a fresh queue lifetime: the next temporary failure is not the last
    assert helpdesk("outbox", "retry", "--status", "failed")[1] == "1 failed outbox message queued\n"
    assert helpdesk("outbox", "retry", "--status", "failed")[1] == "0 failed outbox messages queued\n"

    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{sink.port}", secret_key="test-secret-key-0123456789")
    make_dispatcher(engine, SmtpRelay("127.0.0.1", sink.port, "test"), settings).drain()
    assert {m.message["Message-ID"] for m in sink.wait_for(4)} == expected
    engine.dispose()
