"""Admins keep clients' objects with the CLI: add, edit, list, show, inspected, CSV import; mistakes
are one line and change nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.store.db import new_session
from tests.list_cli import in_process_cli


@pytest.fixture
def helpdesk(db_url, monkeypatch):
    return in_process_cli(db_url, monkeypatch)


@pytest.fixture
def people(engine):
    with new_session(engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"])
        add_org(session, "Beta", ["beta.example"])
        add_user(session, "Jana", ["jana@acme.example"], organization="Acme")
        add_user(session, "Bob", ["bob@beta.example"], organization="Beta")
        add_user(session, "Petr", ["petr@provider.example"], roles=("technician",))


def ok(helpdesk, *args) -> str:
    run = helpdesk(*args)
    assert run.code == 0, (run.out, run.err)
    return run.out


def data(helpdesk, *args):
    return json.loads(ok(helpdesk, *args, "--json"))


def add_server(helpdesk, *more):
    return ok(helpdesk, "objects", "add", "Acme", "SRV-01", "--name", "Main server", "--type", "server",
              "--location", "Room 2", "--critical", "--interval", "180", "--next", "2027-01-15",
              "--client", "jana@acme.example", "--technician", "petr@provider.example", "--attr", "os=Debian 12",
              *more)


def test_add_show_and_list(helpdesk, people):
    assert "SRV-01 added" in add_server(helpdesk)
    shown = data(helpdesk, "objects", "show", "srv-01")  # identifiers are compared without case
    assert shown["organization"] == "Acme" and shown["identifier"] == "SRV-01" and shown["critical"] is True
    assert shown["clients"] == ["jana@acme.example"] and shown["technicians"] == ["petr@provider.example"]
    assert shown["attributes"] == {"os": "Debian 12"} and shown["next_inspection"] == "2027-01-15"
    assert shown["interval_days"] == 180 and shown["documents"] == [] and shown["history"] == []
    ok(helpdesk, "objects", "add", "Beta", "RTR-7", "--type", "router")
    listed = data(helpdesk, "objects", "list")
    assert [(o["organization"], o["identifier"], o["clients"], o["technicians"]) for o in listed] == [
        ("Acme", "SRV-01", 1, 1), ("Beta", "RTR-7", 0, 0)]
    assert [o["identifier"] for o in data(helpdesk, "objects", "list", "--org", "Beta")] == ["RTR-7"]
    assert "SRV-01" in ok(helpdesk, "objects", "show", "SRV-01")


def test_due_within_lists_only_what_is_due_soon(helpdesk, people):
    today = date.today()
    ok(helpdesk, "objects", "add", "Acme", "SOON", "--next", (today + timedelta(days=5)).isoformat())
    ok(helpdesk, "objects", "add", "Acme", "LATE", "--next", (today - timedelta(days=2)).isoformat())
    ok(helpdesk, "objects", "add", "Acme", "LATER", "--next", (today + timedelta(days=90)).isoformat())
    ok(helpdesk, "objects", "add", "Acme", "NEVER")
    assert [o["identifier"] for o in data(helpdesk, "objects", "list", "--due-within", "30")] == ["LATE", "SOON"]


def test_edit_changes_only_what_is_given_and_people(helpdesk, people):
    add_server(helpdesk)
    with_second = ok(helpdesk, "users", "add", "Eva", "--email", "eva@acme.example", "--org", "Acme")
    assert "added" in with_second
    ok(helpdesk, "objects", "edit", "SRV-01", "--location", "Room 5", "--not-critical", "--client",
       "eva@acme.example", "--remove-client", "jana@acme.example", "--attr", "os=", "--attr", "rack=R3")
    shown = data(helpdesk, "objects", "show", "SRV-01")
    assert shown["location"] == "Room 5" and shown["name"] == "Main server" and shown["critical"] is False
    assert shown["clients"] == ["eva@acme.example"] and shown["attributes"] == {"rack": "R3"}
    ok(helpdesk, "objects", "edit", "SRV-01", "--next", "none")
    assert data(helpdesk, "objects", "show", "SRV-01")["next_inspection"] is None


@pytest.mark.parametrize("args, needle", [
    (("objects", "add", "Acme", "_bad"), "not valid"),
    (("objects", "add", "Acme", "x" * 65), "not valid"),
    (("objects", "add", "Acme", "SRV-02", "--name", "two\nlines"), "LF"),
    (("objects", "add", "Nobody", "SRV-02"), "unknown organization"),
    (("objects", "add", "Acme", "SRV-02", "--technician", "jana@acme.example"), "not the provider's staff"),
    (("objects", "add", "Acme", "SRV-02", "--client", "bob@beta.example"), "not a user of the object's"),
    (("objects", "add", "Acme", "SRV-02", "--client", "ghost@acme.example"), "unknown user"),
    (("objects", "add", "Acme", "SRV-02", "--next", "2027-13-01"), "not a date"),
    (("objects", "add", "Acme", "SRV-02", "--interval", "0"), "interval"),
    (("objects", "add", "Acme", "SRV-02", "--attr", "novalue"), "key=value"),
    (("objects", "add", "Acme", "srv-01"), "already has an object"),
    (("objects", "show", "NOPE"), "unknown object"),
    (("objects", "edit", "SRV-01", "--remove-client", "petr@provider.example"), "not a client"),
    (("objects", "list", "--due-within", "soon"), "--due-within"),
    (("objects", "inspected", "SRV-01", "--date", "2999-01-01"), "in the future"),
])
def test_mistakes_are_one_line_and_change_nothing(helpdesk, people, args, needle):
    add_server(helpdesk)
    before = data(helpdesk, "objects", "list")
    helpdesk(*args).one_line_error(needle)
    assert data(helpdesk, "objects", "list") == before
    assert data(helpdesk, "objects", "show", "SRV-01")["clients"] == ["jana@acme.example"]


def test_an_identifier_in_two_organizations_needs_org(helpdesk, people):
    ok(helpdesk, "objects", "add", "Acme", "SRV-01")
    ok(helpdesk, "objects", "add", "Beta", "srv-01")
    helpdesk("objects", "show", "SRV-01").one_line_error("--org")
    assert data(helpdesk, "objects", "show", "SRV-01", "--org", "Beta")["organization"] == "Beta"


def test_inspected_stores_the_report_and_moves_the_date(helpdesk, people, tmp_path):
    add_server(helpdesk)
    report = tmp_path / "report 2026.pdf"
    report.write_bytes(b"%PDF-1.4 inspection passed")
    out = ok(helpdesk, "objects", "inspected", "SRV-01", "--date", "2026-11-20", "--report", str(report))
    assert "next inspection 2027-05-19" in out  # 180 days on
    shown = data(helpdesk, "objects", "show", "SRV-01")
    assert shown["next_inspection"] == "2027-05-19"
    (document,) = shown["documents"]
    assert document["type"] == "inspection-report" and document["filename"] == "report 2026.pdf"
    assert document["content_type"] == "application/pdf"
    assert shown["inspections"][0]["inspected_on"] == "2026-11-20"
    assert shown["inspections"][0]["report"] == document["id"]
    assert {item["kind"] for item in shown["history"]} == {"inspection", "document"}


CSV_HEADER = "organization,identifier,name,type,location,critical,interval,next,clients,technicians,attributes\n"


def test_import_all_or_nothing_with_line_numbers(helpdesk, people, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER + "Acme,SRV-10,Ten,server,,yes,90,2027-02-01,jana@acme.example,petr@provider.example,"
                   "os=Debian\n"
                   "Acme,SRV-11,Eleven,server,,no,,,bob@beta.example,,\n"
                   "Acme,srv-10,Again,,,,,,,,\n")
    run = helpdesk("objects", "import", str(bad))
    assert run.code != 0 and "Traceback" not in run.err
    assert f"{bad}:3: bob@beta.example is not a user" in run.err
    assert f"{bad}:4: Acme already has an object srv-10" in run.err
    assert "2 of 3 rows have errors; nothing imported" in run.err
    assert data(helpdesk, "objects", "list") == []
    good = tmp_path / "good.csv"
    good.write_text(CSV_HEADER + "Acme,SRV-10,Ten,server,,yes,90,2027-02-01,jana@acme.example,"
                    "petr@provider.example,os=Debian;rack=R1\nBeta,RTR-1,,router,,,,,,,\n")
    assert "2 rows valid; imported" in ok(helpdesk, "objects", "import", str(good))
    shown = data(helpdesk, "objects", "show", "SRV-10")
    assert shown["critical"] is True and shown["attributes"] == {"os": "Debian", "rack": "R1"}
    assert shown["clients"] == ["jana@acme.example"] and shown["technicians"] == ["petr@provider.example"]


def test_import_refuses_an_unknown_column(helpdesk, people, tmp_path):
    bad = tmp_path / "cols.csv"
    bad.write_text("organization,identifier,colour\nAcme,X,red\n")
    helpdesk("objects", "import", str(bad)).one_line_error("unknown column 'colour'")


def test_the_database_refuses_one_identifier_twice_in_any_case(engine, people):
    """Two adds racing past the check still make one object: the unique index without case decides."""
    from sqlalchemy.exc import IntegrityError

    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.object_edits import insert_object
    with new_session(engine) as session, session.begin():
        insert_object(session.connection(), 1, "SRV-01", {}, {}, utcnow())
        insert_object(session.connection(), 2, "srv-01", {}, {}, utcnow())  # another organization may
    with new_session(engine) as session, session.begin(), pytest.raises(IntegrityError):
        insert_object(session.connection(), 1, "srv-01", {}, {}, utcnow())
