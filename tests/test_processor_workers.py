"""Several processing workers on one database share the stored mail: none is processed twice, and
each sender's messages are applied in the order they arrived (PostgreSQL: the in-order claim;
SQLite: each batch is the oldest pending mail, taken under the one write lock)."""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import text

import helpdesk.gateway.pipeline.processor as processor_module
from helpdesk.app.service import processing_processes, processor_workers
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.pipeline.processor import Processor
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.inbound_messages import store_raw
from tests.conftest import REPO
from tests.mail import client_mail

SENDERS, EACH, WORKERS = 4, 8, 3


def _store_interleaved(engine) -> dict[int, str]:
    """s0, s1, s2, s3, s0, s1, ... so every batch holds several mails of one sender."""
    items, senders = [], []
    for round_ in range(EACH):
        for n in range(SENDERS):
            sender = f"s{n}@client.example"
            items.append(RawInbound(client_mail(sender=sender, subject=f"{sender} {round_}").as_bytes(), sender,
                                    ("support@helpdesk.test",)))
            senders.append(sender)
    return dict(zip(store_raw(engine, items), senders))


def test_workers_share_the_mail_without_doing_any_twice_and_keep_each_senders_order(engine, db_url, monkeypatch):
    sender_of = _store_interleaved(engine)
    real = processor_module.process_mail

    def slowly(session, mail, ctx):  # an injected delay: without the in-order claim, workers overtake
        time.sleep(0.01)
        return real(session, mail, ctx)

    monkeypatch.setattr(processor_module, "process_mail", slowly)
    settings = Settings(database_url=db_url, support_address="support@helpdesk.test", secret_key="k" * 32)
    rules = load_rules(REPO / "tests" / "rules" / "minimal.yaml")
    ctx = make_pipeline_context(settings, lambda: rules)
    done = []

    def work():
        processor = Processor(engine, ctx, batch=3)
        for _ in range(200):  # until all are done; a worker may find only mail that must wait
            done.append(processor.run_once())
            with engine.connect() as conn:
                if not conn.execute(text("SELECT count(*) FROM inbound_message WHERE status = 'pending'")).scalar():
                    return
            time.sleep(0.005)

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT status, count(*) FROM inbound_message GROUP BY status")).all()
        articles = conn.execute(text("SELECT inbound_id, id FROM article WHERE direction = 'in'")).all()
    assert statuses == [("processed", SENDERS * EACH)]
    assert sum(done) == SENDERS * EACH  # each counted by exactly one worker
    assert len(articles) == SENDERS * EACH == len({inbound for inbound, _ in articles})
    article_of = dict(articles)
    for sender in {*sender_of.values()}:
        mine = sorted(i for i, s in sender_of.items() if s == sender)
        assert [article_of[i] for i in mine] == sorted(article_of[i] for i in mine), f"{sender} out of order"


def test_sqlite_gets_one_worker_and_postgresql_two_unless_set(engine, db_url):
    settings = Settings(database_url=db_url, support_address="support@helpdesk.test", secret_key="k" * 32)
    assert processor_workers(settings, engine) == (1 if db_url.startswith("sqlite") else 2)
    assert processor_workers(settings.model_copy(update={"processor_workers": 3}), engine) == 3


def test_unset_processing_processes_use_a_second_core_and_threads_on_one(engine, db_url, monkeypatch):
    settings = Settings(database_url=db_url, support_address="support@helpdesk.test", secret_key="k" * 32)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the machine is an injected fact here
    assert processing_processes(settings, engine) == (1 if db_url.startswith("sqlite") else 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert processing_processes(settings, engine) == 0
    for chosen in (0, 3):
        assert processing_processes(settings.model_copy(update={"processing_processes": chosen}), engine) == chosen
