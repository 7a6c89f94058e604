"""Same mail, same result: run a fixed corpus through the pipeline and print what it wrote, row by
row, so the code before and after a change to the mail path can be compared.

The corpus is tests/corpus (real-world MIME shapes and charsets), tests/bounces (delivery reports),
and generated mail: clients of a known organization, strangers, a client's follow-up on its
ticket, a technician's proven answer with commands, and an unproven one. The pipeline runs
in-process on a scratch SQLite file with a fixed clock and key. The dump leaves out what differs
by design between runs (ids, times, random Message-ID nonces, signatures); everything else
(tickets, articles, events, participants, outbox rows with their subjects and recipients,
inbound dispositions) is compared.

    .venv/bin/python bench/same_result.py --rules R > new.json
    PYTHONPATH=/tmp/pp_old .venv/bin/python bench/same_result.py --rules R > old.json
    .venv/bin/python bench/same_result.py --compare old.json new.json

(/tmp/pp_old/helpdesk is a symlink to a checkout of the old commit; R a rules file both can read.)
"""

from __future__ import annotations

import argparse
import email
import json
import re
import sys
import tempfile
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday in office hours
SUPPORT, MX = "support@helpdesk.test", "mx.helpdesk.test"
_VOLATILE = re.compile(r"<[^<>@\s]+@[^<>\s]+>|\b[a-z2-7]{16}\b|\+\d+-[a-z0-9]{10}@|\d{4}-\d\d-\d\d[ T][\d:.]+")


def _mail(sender: str, subject: str, body: str, **headers) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, SUPPORT, subject
    msg["Message-ID"] = f"<{abs(hash((sender, subject, body))) % 10**12}@corpus.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def generated() -> list[tuple[str, bytes]]:
    passed = f"{MX}; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"
    mails = [(f"jan{i}@client.example", _mail(f"Jan {i} <jan{i}@client.example>", f"Printer {i} jammed",
                                              f"The printer on floor {i} does not print.\n")) for i in range(5)]
    mails += [(f"x{i}@stranger.example", _mail(f"x{i}@stranger.example", f"Question {i}", "Hello?\n"))
              for i in range(3)]
    mails.append(("jan0@client.example", _mail("jan0@client.example", "Re: [HD#1] Printer 0 jammed",
                                               "Still broken.\n\n> The printer on floor 0\n")))
    mails.append(("anna@provider.example", _mail("anna@provider.example", "Re: [HD#1] Printer 0 jammed",
                                                 "#take\n#priority high\nWe are on our way.\n",
                                                 Authentication_Results=passed)))
    mails.append(("anna@provider.example", _mail("anna@provider.example", "Re: [HD#2] Printer 1 jammed",
                                                 "#resolve\nFixed.\n")))  # no proof: kept as a note
    return mails


def corpus() -> list[tuple[str, bytes]]:
    found = []
    for folder in ("tests/corpus", "tests/bounces"):
        for path in sorted((REPO / folder).glob("*.eml")):
            raw = path.read_bytes()
            sender = str(email.message_from_bytes(raw, policy=policy.compat32).get("From", "") or "")
            found.append((re.sub(r".*<|>.*", "", sender).strip(), raw))
    return found + generated()


def run(url: str, rules_file: Path) -> None:
    from helpdesk.app.wiring import make_pipeline_context
    from helpdesk.gateway.accounts.directory import add_org, add_user
    from helpdesk.gateway.accounts.queues import ensure_queues, find_queue, set_membership
    from helpdesk.gateway.ground.message import RawInbound
    from helpdesk.gateway.ground.settings import Settings
    from helpdesk.gateway.pipeline.processor import Processor
    from helpdesk.gateway.routing.rules import load_rules
    from helpdesk.outbound.render import Renderer
    from helpdesk.store.db import make_engine, new_session
    from helpdesk.store.inbound_messages import store_raw
    from helpdesk.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, support_address=SUPPORT, secret_key="same-result-key-0123456789",
                        trusted_authserv_ids=MX, rules=rules_file)
    renderer = Renderer()
    rules = load_rules(settings.rules, renderer.kinds())
    with new_session(engine) as session, session.begin():
        ensure_queues(session, rules.queues)
        add_org(session, "Client", ["client.example"])
        for name, address, role in (("Anna", "anna@provider.example", "technician"),
                                    ("Dana", "dana@provider.example", "dispatcher")):
            add_user(session, name, [address], roles=(role,))
            for queue in rules.queues:
                set_membership(session, find_queue(session, queue), address, member=True)
    ctx = make_pipeline_context(settings, lambda: rules, renderer, lambda: NOW)
    processor = Processor(engine, ctx, batch=1)  # one at a time: the same order whatever the code
    for sender, raw in corpus():
        store_raw(engine, [RawInbound(raw, sender, (SUPPORT,))])
        processor.drain()
    json.dump(dump(engine), sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    engine.dispose()


def _clean(value):
    return _VOLATILE.sub("*", value) if isinstance(value, str) else value


def _subject(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=policy.default).get("Subject", ""))


def dump(engine) -> dict:
    from sqlalchemy import text
    queries = {
        "tickets": "SELECT t.id, t.subject, t.status, t.priority, t.queue, t.rule, t.category, t.tags, t.alert_level, "
                   "t.assignment, (SELECT address FROM user_email WHERE user_id = t.requester_id ORDER BY address "
                   "LIMIT 1), (SELECT address FROM user_email WHERE user_id = t.assignee_id ORDER BY address LIMIT 1) "
                   "FROM ticket t ORDER BY t.id",
        "articles": "SELECT ticket_id, direction, channel, sender, subject, text, new_text, visibility FROM article "
                    "ORDER BY id",
        "events": "SELECT ticket_id, kind, detail FROM ticket_event ORDER BY id",
        "participants": "SELECT ticket_id, address FROM ticket_participant ORDER BY ticket_id, address",
        "inbound": "SELECT id, status, reason, ticket_id FROM inbound_message ORDER BY id",
    }
    found = {}
    with engine.connect() as conn:
        for name, sql in queries.items():
            found[name] = [[_clean(v) for v in row] for row in conn.execute(text(sql))]
        found["outbox"] = [[ticket, kind, rcpt, status, _clean(_subject(raw))] for ticket, kind, rcpt, status, raw in
                           conn.execute(text("SELECT ticket_id, kind, rcpt_to, status, raw FROM outbox ORDER BY id"))]
    return found


def compare(old_path: str, new_path: str) -> int:
    old, new = json.loads(Path(old_path).read_text()), json.loads(Path(new_path).read_text())
    differences = 0
    for table in sorted(set(old) | set(new)):
        a, b = old.get(table, []), new.get(table, [])
        if a == b:
            print(f"{table}: {len(a)} rows, the same")
            continue
        print(f"{table}: {len(a)} rows before, {len(b)} after; they differ:")
        for row in [r for r in a if r not in b][:10]:
            print(f"  - {row}")
        for row in [r for r in b if r not in a][:10]:
            print(f"  + {row}")
        differences += 1
    return 1 if differences else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=REPO / "rules.yaml",
                        help="the rules file (give both runs the same one; older code may not read newer sections)")
    parser.add_argument("--database-url", help="an empty database (PostgreSQL, say) instead of a scratch SQLite file")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two dumps; exit 1 if they differ")
    args = parser.parse_args()
    if args.compare:
        raise SystemExit(compare(*args.compare))
    if args.database_url:
        run(args.database_url, args.rules)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/same.db", args.rules)


if __name__ == "__main__":
    main()
