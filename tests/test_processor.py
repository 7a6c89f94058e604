"""One failing message never blocks or undoes the others; it is retried, then quarantined."""

from __future__ import annotations

import helpdesk.gateway.pipeline.processor as processor_module
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.pipeline.processor import MAX_ATTEMPTS, Processor
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.inbound_messages import store_raw
from tests.conftest import REPO
from tests.mail import Db, client_mail


def test_a_poisoned_message_is_quarantined_after_retries_and_the_rest_go_through(engine, db_url, monkeypatch):
    ids = store_raw(engine, [RawInbound(client_mail(sender=f"p{i}@client.example").as_bytes(),
                                        f"p{i}@client.example", ("support@helpdesk.test",)) for i in range(4)])
    poisoned = ids[1]
    real = processor_module.process_mail

    def fail_on_poisoned(session, mail, ctx):  # an injected fault: a bug hit by one message only
        if mail.inbound_id == poisoned:
            raise RuntimeError("injected fault")
        return real(session, mail, ctx)

    monkeypatch.setattr(processor_module, "process_mail", fail_on_poisoned)
    settings = Settings(database_url=db_url, support_address="support@helpdesk.test", secret_key="k" * 32)
    rules = load_rules(REPO / "tests" / "rules" / "minimal.yaml")
    processor = Processor(engine, make_pipeline_context(settings, lambda: rules))
    processor.drain()

    db = Db(db_url)
    by_id = {row.id: row for row in db.inbound()}
    assert by_id[poisoned].status == "quarantined" and by_id[poisoned].attempts == MAX_ATTEMPTS
    assert "injected fault" in by_id[poisoned].reason
    assert [by_id[i].status for i in ids if i != poisoned] == ["processed"] * 3
    assert len(db.tickets()) == 3 and len(db.outbox()) == 3
    db.engine.dispose()


def test_sqlite_claims_only_the_rows_it_read_that_are_still_pending(tmp_path):
    """Between reading a batch (outside the write lock) and claiming it, a row can be dropped or
    another made pending again (`inbound drop`, `inbound retry`): neither is processed now."""
    from sqlalchemy import text

    from helpdesk.store.db import make_engine, new_session
    from helpdesk.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/helpdesk.db")
    upgrade(engine)
    ids = store_raw(engine, [RawInbound(client_mail(sender=f"c{i}@client.example").as_bytes(),
                                        f"c{i}@client.example", ("support@helpdesk.test",)) for i in range(5)])
    with engine.begin() as conn:  # the middle row was quarantined before the batch was read
        conn.execute(text("UPDATE inbound_message SET status = 'quarantined' WHERE id = :id"), {"id": ids[2]})
    settings = Settings(database_url=str(engine.url), support_address="support@helpdesk.test", secret_key="k" * 32)
    rules = load_rules(REPO / "tests" / "rules" / "minimal.yaml")
    processor = Processor(engine, make_pipeline_context(settings, lambda: rules))
    read = list(processor._parse_pending())
    assert read == [ids[0], ids[1], ids[3], ids[4]]
    with engine.begin() as conn:  # meanwhile: one dropped, the quarantined one retried
        conn.execute(text("UPDATE inbound_message SET status = 'dropped' WHERE id = :id"), {"id": ids[1]})
        conn.execute(text("UPDATE inbound_message SET status = 'pending' WHERE id = :id"), {"id": ids[2]})
    with new_session(engine) as session, session.begin():
        claimed = processor._claim_read(session, read)
    assert [row.id for row in claimed] == [ids[0], ids[3], ids[4]]
    assert all(row.received_at is not None and row.received_at.year >= 2026 for row in claimed)
    engine.dispose()
