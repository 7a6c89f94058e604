"""`helpdesk time add|list|edit`: time entries on tickets, editable until an invoice billed them;
an edit of an invoiced entry is refused naming the invoice. The real command, both databases."""

from __future__ import annotations

from helpdesk.gateway.billing.period_run import run_period
from helpdesk.gateway.billing.periods import parse_period
from tests.test_accounts_cli import data, ok, refused
from tests.test_accounts_cli import env as env  # noqa: F401  (the fixture)
from tests.test_invoices_run import ANNA, JAN, NOW, at, context, contract, seed, ticket


def test_add_list_and_edit_time_until_it_is_invoiced(env, engine, make_settings):
    seed(engine)
    contract(engine, "ACME-1", monthly_fee="100", hourly_rate="60")
    number = ticket(engine, at(2))
    assert "90 min on ticket" in ok(env, "time", "add", str(number), "--user", ANNA, "--duration", "1h30m",
                                    "--date", "2026-10-05", "--note", "Replaced the fuser")
    ok(env, "time", "add", str(number), "--user", ANNA, "--minutes", "20", "--date", "2026-11-02")
    entries = data(env, "time", "list", "--ticket", str(number))
    assert [(e["date"], e["minutes"], e["note"], e["invoice"]) for e in entries] == [
        ("2026-10-05", 90, "Replaced the fuser", None), ("2026-11-02", 20, "", None)]
    october, november = entries[0]["id"], entries[1]["id"]
    ok(env, "time", "edit", str(october), "--minutes", "120", "--note", "Replaced the fuser and the drum")
    assert data(env, "time", "list", "--from", "2026-10-01", "--to", "2026-10-31")[0]["minutes"] == 120

    assert run_period(engine, context(make_settings), parse_period("2026-10"), NOW).created == ["2026-000001"]
    err = refused(env, "time", "edit", str(october), "--minutes", "30")
    assert "on invoice 2026-000001" in err
    assert data(env, "time", "list", "--uninvoiced") == [entries[1] | {"invoice": None}]
    assert data(env, "time", "list", "--ticket", str(number))[0]["invoice"] == "2026-000001"
    ok(env, "time", "edit", str(november), "--date", "2026-11-03")  # not invoiced: still editable
    assert "ID" in ok(env, "time", "list").upper()  # the table a person reads


def test_mistakes_are_one_line_and_change_nothing(env, engine):
    seed(engine)
    number = str(ticket(engine, at(2)))
    for args, message in [
        (["time", "add", number, "--user", ANNA], "--minutes N or --duration"),
        (["time", "add", number, "--user", ANNA, "--duration", "soon"], "duration must be like"),
        (["time", "add", number, "--user", ANNA, "--minutes", "0"], "minutes must be from 1"),
        (["time", "add", number, "--user", ANNA, "--minutes", "5", "--duration", "5m"], "not both"),
        (["time", "add", "999", "--user", ANNA, "--minutes", "5"], "unknown ticket 999"),
        (["time", "add", number, "--user", JAN, "--minutes", "5"], "is not staff"),
        (["time", "add", number, "--user", ANNA, "--minutes", "5", "--date", "2026-02-30"], "must be a date"),
        (["time", "add", number, "--user", ANNA, "--minutes", "5", "--note", "a\x1bb"], "note"),
        (["time", "edit", "77", "--minutes", "5"], "unknown time entry 77"),
        (["time", "list", "--from", "yesterday"], "must be a date"),
    ]:
        assert message in refused(env, *args), args
    assert data(env, "time", "list") == []
