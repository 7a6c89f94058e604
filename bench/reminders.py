"""Benchmark: one inspection-reminder pass over N objects due within a week, then the same day's
second pass (nothing left to send), as the gateway's hourly job runs them (`inspections_once`).

Makes a scratch database per backend (a temporary SQLite file; a PostgreSQL database
`helpdesk_bench_<random>`, dropped at the end), adds one organization with a client user and a
technician, and N objects each with both as their people and a next inspection 0-6 days ahead:
each pass raises one important alert per object (two mails each) with its own reminder row.

    .venv/bin/python bench/reminders.py [--objects 1000] [--database sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scratch_db import database_or_none
from sqlalchemy import insert, text

from helpdesk.app.scheduled_jobs import Housekeeping
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.migrate import upgrade
from helpdesk.store.object_tables import ClientObject, ObjectPerson

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2027, 1, 24)
NOW = datetime(2027, 1, 24, 6, tzinfo=UTC)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr)


def prefill(engine, count: int) -> None:
    """The objects in one go (bulk insert), each due within the 7-day reminder step."""
    with new_session(engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"])
        client = add_user(session, "Jana", ["jana@acme.example"], organization="Acme")
        technician = add_user(session, "Petr", ["petr@provider.example"], roles=("technician",))
        conn, now = session.connection(), datetime.now(UTC)
        objects = ClientObject.__table__
        ids = conn.execute(insert(objects).returning(objects.c.id), [
            {"organization_id": client.organization_id, "identifier": f"SRV-{i}", "name": f"Server {i}", "kind": "",
             "location": "", "critical": False, "next_inspection_on": TODAY + timedelta(days=i % 7),
             "attributes": "{}", "created_at": now, "updated_at": now} for i in range(count)]).scalars().all()
        conn.execute(insert(ObjectPerson.__table__), [
            {"object_id": i, "user_id": user.id, "side": side}
            for i in ids for user, side in ((client, "client"), (technician, "technician"))])


def run(kind: str, args) -> None:
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = database_or_none(kind, Path(tmp), stack, log=log)
        if url is None:
            return
        engine = make_engine(url)
        upgrade(engine)
        settings = Settings(database_url=url, support_address="support@helpdesk.test", rules=REPO / "rules.yaml",
                            secret_key="bench-secret-key-0123456789", outbox_dir=Path(tmp) / "outbox")
        rules = load_rules(settings.rules)
        prefill(engine, args.objects)
        jobs = Housekeeping(engine, make_pipeline_context(settings, lambda: rules, clock=lambda: NOW),
                            clock=lambda: NOW)
        for label in ("first pass", "second pass, same day"):
            started = time.perf_counter()
            sent = jobs.inspections_once()
            print(f"{kind}: {args.objects} objects, {label}: {sent} reminders in "
                  f"{time.perf_counter() - started:.2f} s")
        with engine.connect() as conn:
            print(f"{kind}: {conn.execute(text('SELECT count(*) FROM outbox')).scalar()} mails queued")
        engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=1_000)
    p.add_argument("--database", default="sqlite,postgresql")
    args = p.parse_args()
    for kind in args.database.split(","):
        run(kind.strip(), args)


if __name__ == "__main__":
    main()
