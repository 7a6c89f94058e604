"""Operators' mistakes in rules.yaml are reported with line, column and a plain explanation;
`rules check` and `rules test` work as documented; the service reloads valid edits only."""

from __future__ import annotations

import json
import time

import pytest

from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import parse_rules
from tests.conftest import REPO
from tests.mail import client_mail, send
from tests.service import run_helpdesk, service_env

BASE = "queues: {general: G, operations: O}\ncategories: [error]\ndefault: {queue: general}\nrules:\n"


def position(text: str, marker: str) -> str:
    """line:column (1-based) where `marker` last occurs: where the error must point."""
    offset = text.rfind(marker)
    assert offset >= 0, marker
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


@pytest.mark.parametrize("rules, marker, needle", [
    ("  - name: a\n    when: {subject: x}\n    then: {queue: nowhere}\n", "nowhere", "unknown queue 'nowhere'"),
    ("  - name: a\n    when: {subjct: x}\n    then: {queue: general}\n", "subjct", "did you mean 'subject'?"),
    ("  - name: a\n    when: {subject: {regex: '(unclosed'}}\n    then: {queue: general}\n", "'(unclosed'",
     "bad regular expression '(unclosed': missing ), unterminated subpattern"),
    ("  - name: a\n    when: {subject: x}\n    then: {priority: urgent}\n", "urgent", "unknown priority 'urgent'"),
    ("  - name: a\n    when: {subject: x}\n    then: {assign: roundrobin}\n", "roundrobin",
     "did you mean 'round-robin'?"),
    ("  - name: a\n    when: {subject: x}\n    then: {category: bug}\n", "bug", "unknown category 'bug'"),
    ("  - name: a\n    then: {queue: general}\n  - name: a\n    then: {queue: general}\n",
     "a\n    then: {queue: general}\n", "a rule named 'a' already exists"),
    ("  - name: a\n    when: {subject: x}\n", "name: a", "has no 'then'"),
    ("  - name: a\n    when: {business_hours: true}\n    then: {queue: general}\n", "true",
     "needs a top-level 'business_hours' section"),
    ("  - name: a\n    when: {time: '8-17'}\n    then: {queue: general}\n", "'8-17'", "not a time like 08:00"),
    ("  - name: a\n    when: {has_attachment: maybe}\n    then: {queue: general}\n", "maybe", "true or false"),
    ("  - name: A Rule\n    then: {queue: general}\n", "A Rule", "must be kebab-case"),
    ("  - name: a\n    then: {acknowledgement: nothere}\n", "nothere", "no template folder"),
])
def test_errors_name_line_column_and_problem(rules, marker, needle):
    with pytest.raises(UserError) as error:
        parse_rules(BASE + rules, "rules.yaml", templates=("acknowledgement",))
    message = str(error.value)
    assert message.startswith(f"rules.yaml:{position(BASE + rules, marker)}: "), message
    assert needle in message


def test_yaml_syntax_error_has_line_and_column():
    with pytest.raises(UserError, match=r"rules.yaml:3:1: not valid YAML"):
        parse_rules("queues: [a,\ndefault: x\n")


def test_rules_check_command(db_url, tmp_path):
    env = service_env(db_url, 0, None)
    ok = run_helpdesk(["rules", "check", str(REPO / "rules.yaml")], env)
    assert ok.returncode == 0 and b"OK" in ok.stdout
    bad = tmp_path / "rules.yaml"
    bad.write_text(BASE + "  - name: a\n    when: {subjct: x}\n    then: {queue: general}\n")
    result = run_helpdesk(["rules", "check", str(bad)], env)
    err = result.stderr.decode()
    assert result.returncode != 0 and err.count("\n") == 1 and ":6:12: unknown field 'subjct'" in err


def test_rules_test_explains_one_message_and_tables_a_folder_without_storing(db_url, tmp_path, db):
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a.eml").write_bytes(client_mail(subject="printer jam").as_bytes())
    (folder / "b.eml").write_bytes(client_mail(subject="PROBLEM: disk full", sender="n@monitoring.example.com")
                                   .as_bytes())
    (folder / "c.eml").write_bytes(client_mail(subject="hello", X_Spam_Flag="YES").as_bytes())
    env = service_env(db_url, 0, None)
    one = run_helpdesk(["rules", "test", str(folder / "b.eml"), "--rules", str(REPO / "rules.yaml"),
                        "--at", "2026-11-23T10:00"], env)
    out = one.stdout.decode()
    assert one.returncode == 0, one.stderr
    assert "no    rule spam" in out and "MATCH rule monitoring-alerts" in out
    assert "yes  subject matches /^(PROBLEM|CRITICAL)\\b/" in out and "queue operations, priority highest" in out

    table = run_helpdesk(["rules", "test", str(folder), "--rules", str(REPO / "rules.yaml"), "--json",
                          "--at", "2026-11-23T10:00"], env)
    rows = {r["message"]: r for r in json.loads(table.stdout)}
    assert rows["a.eml"]["rule"] == "printers" and rows["a.eml"]["queue"] == "operations"
    assert rows["b.eml"]["priority"] == "highest" and rows["c.eml"]["quarantine"]
    assert db.inbound() == [] and db.tickets() == []


def test_service_reloads_a_valid_edit_and_keeps_rules_after_a_broken_one(make_settings, start_gateway, db,
                                                                          tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(BASE + "  - name: to-ops\n    when: {subject: printer}\n    then: {queue: operations}\n")
    gw = start_gateway(make_settings(rules=path))
    send(gw.port, client_mail(subject="printer 1"))
    db.processed(1)

    path.write_text(BASE + "  - name: to-general\n    when: {subject: printer}\n    then: {queue: general}\n")
    _wait_for_reload(gw, "to-general")
    send(gw.port, client_mail(subject="printer 2"))
    db.processed(2)

    path.write_text(BASE + "  - name: broken\n    when: {subject: {regex: '('}}\n    then: {queue: operations}\n")
    time.sleep(2.5)  # the watcher has seen the broken file and refused it
    assert [r.name for r in gw.gateway.rules.rules] == ["to-general"]
    send(gw.port, client_mail(subject="printer 3"))
    db.processed(3)
    by_subject = {t["subject"]: (t["queue"], db.ticket(t["number"])["rule"]) for t in db.tickets()}
    assert by_subject == {"printer 1": ("operations", "to-ops"), "printer 2": ("general", "to-general"),
                          "printer 3": ("general", "to-general")}


def _wait_for_reload(gw, rule_name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [r.name for r in gw.gateway.rules.rules] == [rule_name]:
            return
        time.sleep(0.1)
    raise TimeoutError("rules were not reloaded")




def test_a_folder_of_messages_is_tested_in_the_order_a_person_reads_its_names(tmp_path):
    from helpdesk.gateway.routing.rule_testing import messages_in

    for name in ("13.eml", "3.eml", "mail-10.eml", "mail-2.eml", "Mail-2b.eml", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in messages_in(tmp_path)] == ["3.eml", "13.eml", "mail-2.eml", "Mail-2b.eml",
                                                       "mail-10.eml"]
