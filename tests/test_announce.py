"""`helpdesk alerts announce`: planned work on an object, mailed (and for urgent, texted) to its people in
their language through the real outbox to the real sink, and listed in the object's history. An alert
about a critical object is at least urgent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.objects.object_import import ObjectChange, add_object
from helpdesk.store.account_tables import User, UserEmail
from helpdesk.store.alert_tables import Alert, AlertDelivery
from helpdesk.store.db import new_session
from helpdesk.store.models import Outbox
from tests.list_cli import in_process_cli
from tests.workflow import Inbox, body

JANA, EVA, PETR = "jana@acme.example", "eva@acme.example", "petr@provider.example"


@pytest.fixture
def gw(make_settings, start_gateway, db):
    gw = start_gateway(make_settings())
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"], locale="pl")
        add_user(session, "Jana Nováková", [JANA], organization="Acme", locale="cs", phone="+420601234567")
        add_user(session, "Eva Horvat", [EVA], organization="Acme", locale="hr")
        add_user(session, "Petr Dvořák", [PETR], roles=("technician",), locale="ru")
        add_object(session, "Acme", "SRV-01", ObjectChange(name="Main server", clients=[JANA, EVA],
                                                           technicians=[PETR]), utcnow())
        add_object(session, "Acme", "LINE-1", ObjectChange(name="Production line", critical=True,
                                                           clients=[JANA]), utcnow())
        add_object(session, "Acme", "LONELY", ObjectChange(), utcnow())
    return gw


@pytest.fixture
def helpdesk(gw, monkeypatch):
    return in_process_cli(gw.settings.database_url, monkeypatch)


def alert_rows(db):
    with new_session(db.engine) as session:
        return session.execute(select(Alert.id, Alert.level, Alert.initiator, Alert.kind, Alert.object_id,
                                      Alert.ticket_id).order_by(Alert.id)).all()


def channels(db, alert_id: int) -> list[tuple[str, str]]:
    with new_session(db.engine) as session:
        return sorted(session.execute(select(AlertDelivery.channel, AlertDelivery.address)
                                      .where(AlertDelivery.alert_id == alert_id)).all())


def test_important_announcement_mails_everyone_in_their_language(helpdesk, db, sink):
    run = helpdesk("alerts", "announce", "--object", "SRV-01", "--level", "important", "--subject",
                   "Server restart on Saturday", "--text", "Saturday 22:00-23:00 the server restarts.",
                   "--by", PETR)
    assert run.code == 0, run.err
    assert "announced to 3 people of SRV-01" in run.out
    mail = Inbox(sink).next(3)
    assert mail[JANA].message["Subject"] == "[OBJ SRV-01] Server restart on Saturday"
    assert "plánovaných pracích" in body(mail[JANA]) and "Saturday 22:00-23:00" in body(mail[JANA])
    assert "planiranim radovima" in body(mail[EVA]) and "запланированных работах" in body(mail[PETR])
    ((alert_id, level, initiator, kind, object_id, ticket_id),) = alert_rows(db)
    assert (level, initiator, kind, ticket_id) == ("important", "external-service", "announcement", None)
    assert ("sms", "+420601234567") not in channels(db, alert_id)
    listed = json.loads(helpdesk("alerts", "list", "--object", "SRV-01", "--json").out)
    assert [(a["id"], a["object"], a["ticket"]) for a in listed] == [(alert_id, object_id, None)]
    assert json.loads(helpdesk("alerts", "list", "--object", "LINE-1", "--json").out) == []
    shown = json.loads(helpdesk("objects", "show", "SRV-01", "--json").out)
    kinds = [(item["kind"], item["alert"]) for item in shown["history"]]
    assert kinds == [("announcement", alert_id)]  # the alert is listed once, as the announcement


def test_urgent_texts_and_a_critical_object_is_at_least_urgent(helpdesk, db, sink):
    assert helpdesk("alerts", "announce", "--object", "line-1", "--level", "standard", "--subject",
                    "Line stops for maintenance").code == 0
    ((alert_id, level, *_),) = alert_rows(db)
    assert level == "urgent"  # critical: louder than asked
    assert ("sms", "+420601234567") in channels(db, alert_id)
    assert ("email", JANA) in channels(db, alert_id)
    Inbox(sink).next(1)
    with new_session(db.engine) as session:
        (text,) = session.execute(select(Outbox.raw).where(Outbox.channel == "sms")).scalars()
    assert text.decode() == "[OBJ LINE-1] Line stops for maintenance - Podrobnosti v e-mailu."


def test_standard_is_stored_without_mail(helpdesk, db, sink):
    assert helpdesk("alerts", "announce", "--object", "SRV-01", "--level", "standard", "--subject", "FYI").code == 0
    ((alert_id, level, *_),) = alert_rows(db)
    assert level == "standard" and {c for c, _ in channels(db, alert_id)} == {"web"}
    Inbox(sink).nothing_more()


@pytest.mark.parametrize("args, needle", [
    (("--object", "NOPE", "--subject", "x"), "unknown object"),
    (("--object", "SRV-01", "--subject", "a\\r\\nBcc: x@evil.example".encode().decode("unicode_escape")), "CR"),
    (("--object", "SRV-01", "--subject", "x", "--level", "loud"), "--level"),
    (("--object", "LONELY", "--subject", "x"), "no responsible"),
    (("--object", "SRV-01", "--subject", " "), "empty"),
])
def test_mistakes_send_nothing(helpdesk, db, sink, args, needle):
    helpdesk("alerts", "announce", *args).one_line_error(needle)
    assert alert_rows(db) == []
    Inbox(sink).nothing_more()


def test_a_user_of_another_organization_cannot_be_a_client(db, gw):
    """Who hears of an object is only its own people: the CLI refuses a stranger as a client."""
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Other", ["other.example"])
        add_user(session, "Mallory", ["mallory@other.example"], organization="Other")
        assert session.execute(select(User.id).join(UserEmail).where(
            UserEmail.address == "mallory@other.example")).scalar() is not None
    from helpdesk.gateway.ground.errors import UserError
    with new_session(db.engine) as session, session.begin(), pytest.raises(UserError, match="not a user of"):
        add_object(session, "Acme", "SRV-09", ObjectChange(clients=["mallory@other.example"]), utcnow())
