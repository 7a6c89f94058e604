"""What running next to a real MTA showed, tested without one: `inbound pipe` never makes Postfix
bounce a client's mail for our own mistake (exit 75), an IMAP password may live in the env file,
SIGTERM lets a transaction in DATA finish (new ones get 421), the Received line names UTF8SMTP
(RFC 6531), and the listener offers PIPELINING and ENHANCEDSTATUSCODES and keeps to them."""

from __future__ import annotations

import logging
import smtplib

from helpdesk.gateway.ground.mailbox_settings import MailboxConfig
from tests.conftest import free_port
from tests.mail import client_mail, send, wait_until
from tests.service import run_helpdesk, service_env
from tests.test_smtp_limits import RawClient


def one_line_tempfail(result) -> str:
    assert result.returncode == 75, result.stderr
    assert b"Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    return result.stderr.decode()


def test_pipe_exits_75_on_a_bad_setting_or_an_env_file_it_cannot_read(tmp_path):
    # Any other code is permanent to Postfix (dsn=5.3.0): the client's mail would bounce for our mistake.
    mail = client_mail().as_bytes()
    bad = service_env("sqlite:///unused.db", free_port(), None, HELPDESK_SMTP_LISTEN="nonsense")
    assert "HELPDESK_SMTP_LISTEN" in one_line_tempfail(run_helpdesk(["inbound", "pipe"], bad, stdin=mail))
    env_file = tmp_path / "helpdesk.env"
    env_file.write_bytes(b"HELPDESK_SUPPORT_NAME=\xff\xfe broken\n")  # not UTF-8: cannot be read
    unreadable = {**service_env("sqlite:///unused.db", free_port(), None), "HELPDESK_ENV_FILE": str(env_file)}
    assert str(env_file) in one_line_tempfail(run_helpdesk(["inbound", "pipe"], unreadable, stdin=mail))


def test_an_imap_password_env_may_be_set_in_the_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / "helpdesk.env"
    env_file.write_text("HELPDESK_LOG_LEVEL=INFO\nACME_IMAP_PASSWORD='from the file'\n")
    monkeypatch.setenv("HELPDESK_ENV_FILE", str(env_file))
    monkeypatch.delenv("ACME_IMAP_PASSWORD", raising=False)
    mailbox = MailboxConfig(name="acme", host="imap.test", user="u", password_env="ACME_IMAP_PASSWORD")
    assert mailbox.password() == "from the file"
    monkeypatch.setenv("ACME_IMAP_PASSWORD", "from the environment")  # the environment wins, as for settings
    assert mailbox.password() == "from the environment"


def test_sigterm_lets_a_transaction_in_data_finish_and_refuses_new_ones(make_settings, start_gateway, db, caplog):
    caplog.set_level(logging.INFO, logger="helpdesk.service")
    gw = start_gateway(make_settings())
    in_data, idle = RawClient(gw.port), RawClient(gw.port)
    for line in (b"EHLO client.example", b"MAIL FROM:<jan@client.example>", b"RCPT TO:<support@helpdesk.test>"):
        assert in_data.command(line).startswith(b"250")
    assert in_data.command(b"DATA").startswith(b"354")
    in_data.sock.sendall(b"From: jan@client.example\r\nSubject: Sent during the shutdown\r\n\r\nhalf of it")
    assert idle.command(b"EHLO client.example").startswith(b"250")

    gw.loop.call_soon_threadsafe(gw.gateway.stopping.set)  # what SIGTERM does
    wait_until(lambda: any("stopping: no new connections" in r.getMessage() for r in caplog.records))
    assert idle.command(b"MAIL FROM:<ann@client.example>").startswith(b"421 4.3.2")
    assert idle.reply() == b""  # and closed
    assert in_data.command(b" and the rest\r\n.").startswith(b"250 2.0.0 OK: stored as")
    gw.thread.join(30)
    assert [m.status for m in db.inbound()] == ["processed"]


def test_received_says_utf8smtp_for_an_smtputf8_session(make_settings, start_gateway, db):
    gw = start_gateway(make_settings())
    send(gw.port, client_mail(sender="jan@client.example", message_id="<plain@client.example>"))
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as smtp:
        smtp.sendmail("jiří@klient.example", ["support@helpdesk.test"],
                      b"From: jiri@client.example\r\nSubject: UTF-8\r\n\r\nhi\r\n", mail_options=["SMTPUTF8"])
    raws = [m.raw for m in db.processed(2)]
    assert b"(helpdesk) with ESMTP;" in raws[0].split(b"\r\n\r\n")[0]
    assert b"(helpdesk) with UTF8SMTP;" in raws[1].split(b"\r\n\r\n")[0]


def test_pipelined_commands_are_answered_in_order_each_with_an_enhanced_code(make_settings, start_gateway):
    gw = start_gateway(make_settings())
    client = RawClient(gw.port)
    client.sock.sendall(b"EHLO client.example\r\n")
    ehlo = [client.file.readline().rstrip(b"\r\n")]
    while ehlo[-1][3:4] == b"-":
        ehlo.append(client.file.readline().rstrip(b"\r\n"))
    assert b"250-PIPELINING" in ehlo and b"250-ENHANCEDSTATUSCODES" in ehlo and ehlo[-1] == b"250 HELP"
    # RFC 2920: the client sends the whole group at once and reads the replies after.
    client.sock.sendall(b"MAIL FROM:<jan@client.example>\r\nRCPT TO:<nobody@helpdesk.test>\r\n"
                        b"RCPT TO:<support@helpdesk.test>\r\nDATA\r\n")
    replies = [client.reply() for _ in range(4)]
    assert [r[:9] for r in replies] == [b"250 2.1.0", b"550 5.1.1", b"250 2.1.5", b"354 End d"]
    assert client.command(b"Subject: pipelined\r\n\r\nhi\r\n.").startswith(b"250 2.0.0 OK: stored as")
    # aiosmtpd's own replies get a code too (RFC 2034 section 3), as do ours.
    assert client.command(b"RCPT TO:<support@helpdesk.test>") == b"503 5.5.1 Error: need MAIL command"
    assert client.command(b"NOOP") == b"250 2.0.0 OK"
    assert client.command(b"QUIT") == b"221 2.0.0 Bye"
    client.close()


def test_help_names_every_command_the_listener_takes(make_settings, start_gateway, db):
    # aiosmtpd's HELP lists the commands whose methods carry its syntax text; an override without
    # one had dropped DATA, MAIL, EHLO and HELO from the list, and "HELP DATA" was refused.
    client = RawClient(start_gateway(make_settings()).port)
    assert client.command(b"EHLO client.example").startswith(b"250")
    listed = client.command(b"HELP").split(b": ", 1)[1].split()
    assert {b"DATA", b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP", b"QUIT"} <= set(listed)
    assert client.command(b"HELP DATA") == b"250 2.0.0 Syntax: DATA"
    assert client.command(b"HELP MAIL") == b"250 2.0.0 Syntax: MAIL FROM: <address> [SP <mail-parameters>]"
    client.close()
