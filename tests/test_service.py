"""The service as a process: ready line, clean SIGTERM, and no loss across a crash or a pipe delivery."""

from __future__ import annotations

import signal

from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import Service, run_helpdesk, service_env


def test_sigterm_finishes_work_and_exits_zero(db_url, sink, db):
    service = Service(service_env(db_url, free_port(), sink.port))
    send(_port(service), client_mail())
    sink.wait_for(1)
    code, log = service.stop(signal.SIGTERM)
    assert code == 0, log
    assert "stopping" in log and log.rstrip().endswith("stopped")


def _port(service: Service) -> int:
    line = next(line for line in service.lines if "ready: SMTP on" in line)
    return int(line.split("ready: SMTP on ")[1].split(",")[0].rsplit(":", 1)[1])


def test_mail_stored_while_the_service_was_down_is_processed_at_start(db_url, sink, db):
    env = service_env(db_url, free_port(), sink.port)
    for i in range(3):
        result = run_helpdesk(["inbound", "pipe", "--sender", f"c{i}@client.example"], env,
                              stdin=client_mail(sender=f"c{i}@client.example").as_bytes())
        assert result.returncode == 0, result.stderr
    assert [r.status for r in db.inbound()] == ["pending"] * 3 and sink.messages == []
    service = Service(env)
    assert len(sink.wait_for(3)) == 3
    assert len(db.tickets()) == 3
    assert service.stop()[0] == 0


def test_a_killed_service_loses_nothing_it_acknowledged(db_url, sink, db):
    env = service_env(db_url, free_port(), sink.port)
    service = Service(env)
    port = _port(service)
    mails = [client_mail(sender=f"k{i}@client.example") for i in range(20)]
    for mail in mails:
        assert send(port, mail) == {}
    service.stop(signal.SIGKILL)  # no chance to finish processing or sending

    restarted = Service(env)
    wait_until(lambda: len(db.tickets()) == 20 and all(r["status"] == "sent" for r in db.outbox())
               and len(db.outbox()) == 20, timeout=20)
    answered = {m.message["In-Reply-To"] for m in sink.wait_for(20)}
    assert answered == {m["Message-ID"] for m in mails}
    assert restarted.stop()[0] == 0


def test_pipe_exits_75_when_the_database_is_unavailable(tmp_path):
    env = service_env("postgresql://postgres@127.0.0.1:1/helpdesk", free_port(), None)
    result = run_helpdesk(["inbound", "pipe"], env, stdin=client_mail().as_bytes())
    assert result.returncode == 75
    assert b"Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_pipe_refuses_an_oversized_message_permanently(db_url):
    env = service_env(db_url, free_port(), None, HELPDESK_MAX_MESSAGE_BYTES="500")
    result = run_helpdesk(["inbound", "pipe"], env, stdin=client_mail(body="x\n" * 400).as_bytes())
    assert result.returncode == 65 and b"larger than 500" in result.stderr


def test_sighup_reloads_rules_and_keeps_the_old_ones_when_the_new_are_broken(db_url, tmp_path):
    import time

    from tests.service import REPO

    rules = tmp_path / "rules.yaml"
    rules.write_text((REPO / "rules.yaml").read_text())
    service = Service(service_env(db_url, free_port(), None, HELPDESK_RULES=str(rules)))
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    rules.write_text("queues: [oops\n")
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    code, log = service.stop()
    assert code == 0
    assert "rules reloaded" in log
    assert "new rules rejected, previous rules stay in force" in log and "rules.yaml:2:1" in log


def test_pipe_takes_every_recipient_postfix_passes(db_url, db):
    env = service_env(db_url, free_port(), None, HELPDESK_NOTES_ADDRESS="notes@helpdesk.test")
    result = run_helpdesk(["inbound", "pipe", "-f", "jan@client.example", "-r", "support@helpdesk.test",
                           "notes@helpdesk.test"], env, stdin=client_mail().as_bytes())
    assert result.returncode == 0, result.stderr
    assert db.inbound()[0].envelope_to == "support@helpdesk.test,notes@helpdesk.test"
