"""Admins manage organizations, users, queues and contracts with the CLI; mistakes change nothing."""

from __future__ import annotations

import json

import pytest

from tests.conftest import free_port
from tests.service import run_helpdesk, service_env


@pytest.fixture
def env(db_url):
    return service_env(db_url, free_port(), None)


def ok(env, *args, stdin: bytes | None = None) -> str:
    result = run_helpdesk(list(args), env, stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def data(env, *args):
    return json.loads(ok(env, *args, "--json"))


def refused(env, *args, stdin: bytes | None = None) -> str:
    """The command fails with exactly one line on stderr and no traceback."""
    result = run_helpdesk(list(args), env, stdin=stdin)
    err = result.stderr.decode()
    assert result.returncode != 0, result.stdout.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def worked_example(env) -> None:
    """The README's administration example, command for command."""
    ok(env, "orgs", "add", "Acme Manufacturing", "--domain", "acme.example", "--locale", "cs",
       "--timezone", "Europe/Prague")
    ok(env, "users", "add", "Jana Nováková", "--email", "jana@acme.example", "--phone", "+420 601 123 456",
       "--org", "Acme Manufacturing", "--role", "client-admin")
    ok(env, "users", "add", "Petr Dvořák", "--email", "petr@provider.example", "--role", "technician")
    ok(env, "users", "add", "Marek Horvat", "--email", "marek@provider.example", "--role", "technician",
       "--role", "dispatcher")
    ok(env, "queues", "members", "operations", "--add", "petr@provider.example", "--add", "marek@provider.example")
    ok(env, "contracts", "add", "ACME-2026-01", "--org", "Acme Manufacturing", "--start", "2026-01-01",
       "--period", "monthly", "--sla", "gold", "--guarantor", "petr@provider.example", "--currency", "EUR",
       "--monthly-fee", "1200", "--hourly-rate", "45", "--included-minutes", "600", "--vat-rate", "21")


def test_worked_example_creates_org_people_queue_and_contract(env):
    worked_example(env)
    (org,) = data(env, "orgs", "list")
    assert org["name"] == "Acme Manufacturing" and org["domains"] == ["acme.example"] and org["users"] == 1
    jana = data(env, "users", "show", "jana@acme.example")
    assert jana["phone"] == "+420601123456" and jana["roles"] == ["client-admin"]
    assert jana["organization"] == "Acme Manufacturing" and jana["has_password"] is False
    members = data(env, "queues", "members", "operations")
    assert {m["email"] for m in members} == {"petr@provider.example", "marek@provider.example"}
    assert all(m["available"] for m in members)
    contract = data(env, "contracts", "show", "ACME-2026-01")
    assert contract["guarantor"] == "petr@provider.example" and contract["monthly_fee"] == "1200.00"
    assert contract["organization"] == "Acme Manufacturing" and contract["ends_on"] is None
    assert "ACME-2026-01" in ok(env, "contracts", "list")  # the table a person reads


def test_users_edit_roles_password_and_disable(env):
    worked_example(env)
    ok(env, "users", "edit", "petr@provider.example", "--add-email", "p.dvorak@provider.example", "--locale", "pl")
    assert data(env, "users", "show", "p.dvorak@provider.example")["locale"] == "pl"
    ok(env, "users", "set-password", "petr@provider.example", "--password-stdin", stdin=b"correct horse battery\n")
    shown = ok(env, "users", "show", "petr@provider.example", "--json")
    assert json.loads(shown)["has_password"] is True and "argon2" not in shown
    ok(env, "users", "add-role", "jana@acme.example", "fin-admin")
    ok(env, "users", "remove-role", "jana@acme.example", "client-admin", "--yes")
    assert data(env, "users", "show", "jana@acme.example")["roles"] == ["fin-admin"]

    assert "cancelled" in refused(env, "users", "disable", "jana@acme.example")  # no terminal, no --yes
    assert data(env, "users", "show", "jana@acme.example")["active"] is True
    ok(env, "users", "disable", "jana@acme.example", "--yes")
    assert data(env, "users", "show", "jana@acme.example")["active"] is False
    assert [u["name"] for u in data(env, "users", "list", "--role", "technician")] == ["Petr Dvořák", "Marek Horvat"]


BAD_INPUT = [
    (["users", "add", "X", "--email", "x@acme.example", "--org", "Nope Ltd"], "unknown organization"),
    (["users", "add", "X", "--email", "not-an-address"], "malformed email"),
    (["users", "add", "X", "--email", "x@acme.example", "--phone", "12ab"], "phone number"),
    (["users", "add", "X", "--email", "JANA@acme.example"], "already belongs"),
    (["users", "add", "X", "--email", "x@acme.example", "--role", "superhero"], "unknown role"),
    (["users", "add", "X", "--email", "x@provider.example", "--role", "fin-admin"], "needs an organization"),
    (["users", "add", "X", "--email", "x@acme.example", "--org", "Acme Manufacturing", "--role", "technician"],
     "belong to no organization"),
    (["users", "add-role", "jana@acme.example", "technician"], "cannot be combined"),
    (["orgs", "add", "acme manufacturing"], "already exists"),
    (["orgs", "add", "Other", "--domain", "acme.example"], "already belongs"),
    (["orgs", "add", "Other", "--timezone", "Mars/Olympus"], "unknown timezone"),
    (["queues", "members", "operations", "--add", "jana@acme.example"], "cannot join a queue"),
    (["queues", "members", "nowhere"], "unknown queue"),
    (["contracts", "add", "C-2", "--org", "Acme Manufacturing", "--start", "2026-02-30"], "must be a date"),
    (["contracts", "add", "C-2", "--org", "Acme Manufacturing", "--start", "2026-02-01",
      "--guarantor", "jana@acme.example"], "must be a technician"),
    (["contracts", "add", "ACME-2026-01", "--org", "Acme Manufacturing", "--start", "2026-02-01"], "already exists"),
    (["contracts", "end", "ACME-2026-01", "--on", "2025-12-31", "--yes"], "cannot end before it starts"),
]


def test_bad_input_is_one_line_and_changes_nothing(env):
    worked_example(env)
    before = [data(env, noun, "list") for noun in ("orgs", "users", "contracts")]
    for args, needle in BAD_INPUT:
        assert needle in refused(env, *args), args
    assert [data(env, noun, "list") for noun in ("orgs", "users", "contracts")] == before


def test_contract_edit_and_end(env):
    worked_example(env)
    ok(env, "contracts", "edit", "ACME-2026-01", "--hourly-rate", "50.5", "--buyer-edi-id", "8591234000007")
    ok(env, "contracts", "end", "ACME-2026-01", "--on", "2026-12-31", "--yes")
    contract = data(env, "contracts", "show", "ACME-2026-01")
    assert contract["hourly_rate"] == "50.50" and contract["ends_on"] == "2026-12-31"
    assert contract["buyer_edi_id"] == "8591234000007"


def test_queue_members_availability(env):
    worked_example(env)
    ok(env, "queues", "add", "compatibility")  # declared in rules.yaml: confirmed, nothing new
    ok(env, "queues", "members", "compatibility", "--add", "petr@provider.example")
    ok(env, "queues", "members", "compatibility", "--unavailable", "petr@provider.example")
    assert data(env, "queues", "members", "compatibility")[0]["available"] is False
    rows = {q["name"]: q["members"] for q in data(env, "queues", "list")}
    assert rows["compatibility"] == 1 and rows["operations"] == 2 and rows["general"] == 0
    ok(env, "queues", "members", "compatibility", "--remove", "petr@provider.example", "--yes")
    assert data(env, "queues", "members", "compatibility") == []
    assert "kebab-case" in refused(env, "queues", "add", "Bad Name")


CSV_GOOD = """name,email,phone,organization,roles,locale
Eva Malá,eva@acme.example,+420602111222,Acme Manufacturing,client,cs
Ivo Velký,ivo@acme.example;ivo.velky@acme.example,,Acme Manufacturing,sys-admin;client,
"""
CSV_BAD = """name,email,phone,organization,roles,locale
Eva Malá,eva@acme.example,+420602111222,Acme Manufacturing,client,cs
Bad Phone,bad@acme.example,12x,Acme Manufacturing,client,cs
Twin,eva@acme.example,,Acme Manufacturing,client,
No Org,noorg@acme.example,,Nope Ltd,client,
,nameless@acme.example,,,,
"""


def test_csv_import_all_or_nothing_with_line_numbers(env, tmp_path):
    worked_example(env)
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_BAD)
    for extra in ([], ["--dry-run"]):
        result = run_helpdesk(["users", "import", str(bad), *extra], env)
        err = result.stderr.decode()
        assert result.returncode != 0 and "Traceback" not in err
        for line, needle in [(3, "phone"), (4, "eva@acme.example is also on line 2"), (5, "unknown organization"),
                             (6, "needs a name")]:
            assert f"bad.csv:{line}: " in err and needle in err
        assert "bad.csv:2:" not in err and "4 of 5 rows have errors; nothing imported" in err
    assert len(data(env, "users", "list")) == 3

    good = tmp_path / "good.csv"
    good.write_text(CSV_GOOD)
    assert "nothing imported (dry run)" in ok(env, "users", "import", str(good), "--dry-run")
    assert len(data(env, "users", "list")) == 3
    ok(env, "users", "import", str(good))
    ivo = data(env, "users", "show", "ivo.velky@acme.example")
    assert ivo["roles"] == ["client", "sys-admin"] and ivo["emails"] == ["ivo@acme.example", "ivo.velky@acme.example"]
    assert "unknown column 'mail'" in refused(env, "users", "import", str(_write(tmp_path, "name,mail\nA,a@b.cz\n")))


def _write(tmp_path, text):
    path = tmp_path / "x.csv"
    path.write_text(text)
    return path
