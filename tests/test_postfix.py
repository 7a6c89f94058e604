"""Next to a real Postfix (Debian's, run privately on loopback: tests/postfix.py) as the relay:
a connection it dropped while idle costs no attempt, an idle one is closed before it drops it,
a recipient it refuses at RCPT is handled like a permanent DSN, and our EHLO name is the
configured one (it refuses names that are not fully qualified)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.app.wiring import make_dispatcher
from helpdesk.gateway.accounts.directory import find_user, user_view
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.transport import SmtpRelay
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import DeliveryAttempt
from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.postfix import Postfix
from tests.smtp_sink import SmtpSink
from tests.test_outbox import _fill_outbox

EHLO = "gateway.helpdesk.test"
JAN, GONE = "jan@client.example", "gone@client.example"


@pytest.fixture(scope="module")
def relay_sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def postfix(relay_sink):
    # client.example is a relay domain whose recipient map knows only JAN: GONE gets 550 5.1.1 at RCPT.
    server = Postfix(free_port(), relay_sink.port,
                     smtpd_timeout="1s", relay_domains="client.example",
                     relay_recipient_maps=f"inline:{{ {JAN}=ok, c0@client.example=ok }}").start()
    yield server
    server.stop()


@pytest.fixture
def sink(relay_sink):
    """What Postfix relays arrives here (conftest's make_settings takes `sink`)."""
    relay_sink.messages.clear()
    return relay_sink


def through_postfix(make_settings, postfix, **overrides):
    return make_settings(relay=f"127.0.0.1:{postfix.port}", ehlo_name=EHLO, **overrides)


def attempts(db) -> list[tuple[int, bool, str]]:
    with new_session(db.engine) as session:
        rows = session.execute(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).scalars().all()
    return [(a.outbox_id, a.ok, a.detail) for a in rows]


def test_a_connection_postfix_dropped_while_idle_is_replaced_at_once_and_costs_no_attempt(
        make_settings, start_gateway, postfix, sink, db):
    log_start = len(postfix.log_text())
    gw = start_gateway(through_postfix(make_settings, postfix, relay_idle_seconds=3600))
    send(gw.port, client_mail(sender=JAN, message_id="<first@client.example>"))
    sink.wait_for(1)
    # Postfix's smtpd_timeout (1 s here, 300 s by default, 10 s under load): 421 and it hangs up.
    postfix.wait_for_log(r"timeout after END-OF-MESSAGE from localhost", log_start)
    send(gw.port, client_mail(sender=JAN, message_id="<second@client.example>"))
    assert sink.wait_for(2, timeout=10)[1].message["In-Reply-To"] == "<second@client.example>"
    rows = wait_until(lambda: (rows := db.outbox()) and all(r["status"] == "sent" for r in rows) and rows)
    assert [r["attempts"] for r in rows] == [1, 1]
    assert [ok for _, ok, _ in attempts(db)] == [True, True]  # the dropped connection is no failed attempt


def test_an_idle_connection_is_closed_with_quit_before_postfix_times_it_out(db_url, db, postfix, sink):
    _fill_outbox(db_url, 1)
    settings = Settings(database_url=db_url, relay=f"127.0.0.1:{postfix.port}", secret_key="test-secret-key-0123456789")
    clock = [1000.0]
    relay = SmtpRelay("127.0.0.1", postfix.port, EHLO, idle_seconds=30, monotonic=lambda: clock[0])
    engine = make_engine(db_url)
    dispatcher = make_dispatcher(engine, relay, settings)
    log_start = len(postfix.log_text())
    try:
        assert dispatcher.run_once() == 1
        clock[0] += 29
        assert dispatcher.run_once() == 0 and relay._smtp is not None  # not idle long enough yet
        clock[0] += 2
        assert dispatcher.run_once() == 0
        # Postfix saw our QUIT (quit=1), not its own timeout, well within its 1 s.
        disconnect = postfix.wait_for_log(r"disconnect from localhost\S* .*", log_start, timeout=0.9)
        assert "quit=1" in disconnect.group(0)
        assert "timeout after" not in postfix.log_text()[log_start:]
    finally:
        relay.close()
        engine.dispose()


def test_a_recipient_postfix_refuses_at_rcpt_is_handled_like_a_permanent_bounce(
        make_settings, start_gateway, postfix, sink, db):
    gw = start_gateway(through_postfix(make_settings, postfix))
    send(gw.port, client_mail(sender=GONE))
    (row,) = wait_until(lambda: (rows := db.outbox()) and rows[0]["status"] == "failed" and rows)
    assert row["attempts"] == 1 and row["last_error"].startswith("550 5.1.1")
    number = db.tickets()[0]["number"]
    detail = wait_until(lambda: (d := db.ticket(number)) and "address-blocked" in [e["kind"] for e in d["events"]]
                        and d)
    assert [e["kind"] for e in detail["events"]][-2:] == ["bounced", "address-blocked"]
    assert "5.1.1" in detail["events"][-2]["detail"] and "at RCPT" in detail["events"][-2]["detail"]
    note = detail["articles"][-1]
    assert note["visibility"] == "internal" and GONE in note["text"] and "User unknown" in note["text"]
    with new_session(db.engine) as session:
        blocked = user_view(session, find_user(session, GONE))["blocked"]
    assert blocked[0]["address"] == GONE and "5.1.1" in blocked[0]["reason"]


def test_the_configured_ehlo_name_is_what_postfix_sees(make_settings, start_gateway, postfix, sink):
    # socket.getfqdn() is often "localhost", which reject_non_fqdn_helo_hostname refuses (504 5.5.2).
    gw = start_gateway(through_postfix(make_settings, postfix))
    send(gw.port, client_mail(sender=JAN))
    received = sink.wait_for(1)[0].message.get_all("Received")
    assert received[0].startswith(f"from {EHLO} (localhost [127.0.0.1])")
