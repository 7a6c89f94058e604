"""Objects by mail, over the real listener and relay sink: a client adds documents with `[OBJ SRV-01]`
in the subject, asks for the list with `#docs SRV-01`, a technician records an inspection with
`#inspected SRV-01` and the report; a stranger, a client of another organization or an unproven
sender adds nothing (their mail is an ordinary ticket saying why)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.store.db import new_session
from helpdesk.store.object_tables import ClientObject, ObjectDocument, ObjectInspection
from tests.mail import client_mail, send
from tests.test_faults import OBJECT_RULES, PASS, Clock, add_objects, ticket_row
from tests.workflow import ANNA, JAN, Inbox, body

CLIENT_PASS = "mx.helpdesk.test; dkim=pass header.d=client.example; dmarc=pass header.from=client.example"
OTHER_PASS = "mx.helpdesk.test; dkim=pass header.d=other.example; dmarc=pass header.from=other.example"
ADA = "ada@other.example"
OLEK = "olek@client.example"  # a former user of the client


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def desk(make_settings, start_gateway, db, clock, sink):
    gw = start_gateway(make_settings(rules=OBJECT_RULES, trusted_authserv_ids="mx.helpdesk.test"), clock=clock)
    ids = add_objects(db.engine, ("SRV-01", False))
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Other Ltd", ["other.example"], locale="en")
        add_user(session, "Ada Other", [ADA], organization="Other Ltd")
        session.get(ClientObject, ids["SRV-01"]).inspection_interval_days = 180
    return gw, ids["SRV-01"], Inbox(sink)


def _with_files(msg, *files: tuple[str, bytes]):
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg


def _documents(engine) -> list[ObjectDocument]:
    with new_session(engine) as session:
        return list(session.execute(select(ObjectDocument).order_by(ObjectDocument.id)).scalars())


def test_a_client_adds_documents_and_asks_for_the_list(desk, db):
    gw, object_id, inbox = desk
    send(gw.port, _with_files(client_mail(subject="[OBJ SRV-01] Manuals", body="The manuals.\n",
                                          sender=f"Jan Kowalski <{JAN}>", Authentication_Results=CLIENT_PASS),
                              ("manual.pdf", b"%PDF manual"), ("wiring.pdf", b"%PDF wiring")))
    confirmation = inbox.next()[JAN]  # nobody else: a record, not work for a technician
    assert "Otrzymaliśmy dokumenty" in confirmation.message["Subject"]
    assert "manual.pdf" in body(confirmation) and "wiring.pdf" in body(confirmation) and "SRV-01" in body(confirmation)
    docs = _documents(db.engine)
    assert [(d.object_id, d.filename, d.kind) for d in docs] == [(object_id, "manual.pdf", "document"),
                                                                  (object_id, "wiring.pdf", "document")]
    record = ticket_row(db.engine, docs[0].ticket_id)
    assert record.status == "closed" and record.object_id == object_id and len(db.tickets()) == 1

    send(gw.port, client_mail(subject="Documents", body="#docs SRV-01\n", sender=f"Jan Kowalski <{JAN}>",
                              Authentication_Results=CLIENT_PASS))
    listing = inbox.next()[JAN]
    assert "Dokumenty obiektu SRV-01" in listing.message["Subject"]
    assert "manual.pdf (dokument, 11 B, dodano 2026-12-02)" in body(listing) and "wiring.pdf" in body(listing)
    inbox.nothing_more(db)


@pytest.mark.parametrize("sender, results, why", [
    ("eve@stranger.example", None, "not proven"),
    (JAN, None, "not proven"),  # Jan's address, but nothing proves the mail is his
    (ADA, OTHER_PASS, "not an object of the sender's organization"),
])
def test_nobody_else_adds_a_document_to_the_object(desk, db, sender, results, why):
    gw, object_id, inbox = desk
    headers = {"Authentication_Results": results} if results else {}
    send(gw.port, _with_files(client_mail(subject="[OBJ SRV-01] Please store", body="Attached.\n",
                                          sender=sender, **headers), ("evil.pdf", b"%PDF evil")))
    db.processed(1)
    assert _documents(db.engine) == []
    (ticket,) = db.tickets()  # kept as an ordinary ticket for a person to look at
    refused = [e for e in db.ticket(ticket["number"])["events"] if e["kind"] == "object-refused"]
    assert len(refused) == 1 and why in refused[0]["detail"]
    assert db.ticket(ticket["number"])["articles"][0]["attachments"] == 1  # the mail is kept whole


def test_a_technician_records_an_inspection_with_its_report(desk, db):
    gw, object_id, inbox = desk
    send(gw.port, _with_files(client_mail(subject="Inspection", body="#inspected SRV-01 2026-11-30\n\nAll fine.\n",
                                          sender=f"Anna Nowak <{ANNA}>", Authentication_Results=PASS),
                              ("report.pdf", b"%PDF report")))
    confirmation = inbox.next()[ANNA]
    assert "2026-11-30" in body(confirmation) and "2027-05-29" in body(confirmation)
    (doc,) = _documents(db.engine)
    assert doc.kind == "inspection-report" and doc.filename == "report.pdf"
    with new_session(db.engine) as session:
        (inspection,) = session.execute(select(ObjectInspection)).scalars()
        assert session.get(ClientObject, object_id).next_inspection_on == date(2027, 5, 29)
    assert inspection.inspected_on == date(2026, 11, 30) and inspection.document_id == doc.id


def test_a_client_cannot_record_an_inspection(desk, db):
    gw, object_id, inbox = desk
    send(gw.port, _with_files(client_mail(subject="Inspection", body="#inspected SRV-01\n", sender=JAN,
                                          Authentication_Results=CLIENT_PASS), ("report.pdf", b"%PDF fake")))
    db.processed(1)
    with new_session(db.engine) as session:
        assert session.execute(select(ObjectInspection)).first() is None
    (ticket,) = db.tickets()
    assert any("only the provider's technicians" in e["detail"] for e in db.ticket(ticket["number"])["events"])


def test_an_inspection_date_in_the_future_is_refused(desk, db):
    """As the CLI refuses it: a typing mistake (2062 for 2026) would move the next date decades on."""
    gw, object_id, inbox = desk
    send(gw.port, _with_files(client_mail(subject="Inspection", body="#inspected SRV-01 2062-11-30\n",
                                          sender=f"Anna Nowak <{ANNA}>", Authentication_Results=PASS),
                              ("report.pdf", b"%PDF report")))
    db.processed(1)
    assert _documents(db.engine) == []
    with new_session(db.engine) as session:
        assert session.execute(select(ObjectInspection)).first() is None
    (ticket,) = db.tickets()
    assert any("2062-11-30 is in the future" in e["detail"] for e in db.ticket(ticket["number"])["events"])


def test_a_deactivated_client_adds_nothing_even_when_proven(desk, db):
    """Someone who left the client keeps their mailbox's DKIM for a while: proof of the address is
    not a say over the organization's objects any more."""
    gw, object_id, inbox = desk
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Olek Former", [OLEK], organization="Klient Sp. z o.o.").active = False
    send(gw.port, _with_files(client_mail(subject="[OBJ SRV-01] Manuals", body="The manuals.\n", sender=OLEK,
                                          Authentication_Results=CLIENT_PASS), ("manual.pdf", b"%PDF manual")))
    db.processed(1)
    assert _documents(db.engine) == []
    (ticket,) = db.tickets()
    assert any("deactivated" in e["detail"] for e in db.ticket(ticket["number"])["events"]
               if e["kind"] == "object-refused")
