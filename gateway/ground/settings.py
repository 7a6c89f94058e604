"""The gateway's settings: one typed object read from HELPDESK_* environment variables.

Every key is documented here with its default (and in the README); a wrong value fails at
start with a message naming the variable, never later while mail is being handled.
An env file (systemd `EnvironmentFile` syntax) is read from HELPDESK_ENV_FILE, default
`helpdesk.env` in the working directory when it exists.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.mailbox_settings import MailboxConfig
from helpdesk.gateway.ground.secret_key import load_secret

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_host_port(value: str, name: str) -> tuple[str, int]:
    """Split "host:port" (IPv6 as "[::1]:25"); raise ValueError naming the setting."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{name} must be host:port, got {value!r}")
    return host.strip("[]"), int(port)


class Settings(BaseSettings):
    # The env file is chosen when the settings are loaded (load_settings), not at import.
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    # Where tickets live: SQLite (WAL) file by default, PostgreSQL in production.
    database_url: str = "sqlite:///helpdesk.db"
    # SMTP listener for mail handed to the helpdesk by the MX or a relay.
    smtp_listen: str = "127.0.0.1:2525"
    # Outbound smarthost host:port; unset = write outbound mail as .eml files to outbox_dir.
    relay: str | None = None
    # The support address clients write to; also From/Reply-To of everything sent.
    support_address: str = "support@localhost"
    # Display name on the From line of everything the gateway sends.
    support_name: str = "Support"
    # Further addresses accepted at RCPT (comma-separated); plus-addressing is always accepted.
    extra_addresses: str = ""
    # The routing rules file (reloaded when it changes).
    rules: Path = Path("rules.yaml")
    # Largest message accepted (announced in SMTP SIZE; 552 above it).
    max_message_bytes: int = 26_214_400
    # SMTP connections open at once, overall and from one client IP (beyond: 421 4.7.0), and
    # recipients per transaction (beyond: 452 4.5.3).
    smtp_max_connections: int = 400
    smtp_max_connections_per_ip: int = 100
    smtp_max_recipients: int = 100
    # Decoded attachment sizes kept on a ticket: one larger, or one past the total, is named in
    # the text instead (the raw message, with it, is still stored).
    max_attachment_bytes: int = 20 * 1024 * 1024
    max_attachments_total: int = 50 * 1024 * 1024
    # Folder for outbound .eml files when no relay is configured.
    outbox_dir: Path = Path("outbox")
    # Domain of the Message-IDs the gateway creates; defaults to the support address's.
    mail_domain: str | None = None
    # Signs the gateway's Message-IDs (HMAC); every instance on one database needs the same.
    # Unset: read from secret_key_file, else from helpdesk.secret (created on first use).
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    # Keys used before a rotation (comma-separated): signatures made with them still verify
    # until previous_secret_keys_until (a date, UTC; unset = until you remove them).
    previous_secret_keys: SecretStr | None = None
    previous_secret_keys_until: date | None = None
    # Signed reply addresses: every mail to a person carries Reply-To
    # <support local>+<prefix><token>@<support domain>, a token only that recipient knows.
    reply_address_prefix: str = "r-"
    # Tag put in subjects: "[HD#123]". Changing it breaks threading of older mail.
    ticket_tag: str = "HD"
    # Mail templates (Jinja2); unset = the shipped ones. The language of mail when the
    # recipient's is unknown.
    templates_dir: Path | None = None
    default_locale: str = "en"
    # Outbound delivery: the first retry delay in seconds (doubled after every failure,
    # capped at send_retry_max_seconds).
    send_retry_base_seconds: float = 60.0
    send_retry_max_seconds: float = 3600.0
    # A dispatcher that dies mid-send leaves its rows to others after this lease.
    send_claim_lease_seconds: float = 300.0
    # Give up on an outbound mail this long after it was queued (an MTA's maximal queue lifetime).
    send_queue_lifetime_hours: float = 120.0
    # Every running instance writes a heartbeat this often; one silent for instance_stale_seconds
    # is taken for dead and its claimed outbox rows are taken over.
    instance_heartbeat_seconds: float = 2.0
    instance_stale_seconds: float = 10.0
    # How long an SQLite writer waits for the lock before the SMTP client gets a 451.
    db_busy_timeout_ms: int = 5000
    # Inbound messages committed together at most (answers still go one by one, after commit).
    intake_batch: int = 64
    # DEBUG, INFO, WARNING, ERROR or CRITICAL.
    log_level: str = "INFO"
    # "text" (human) or "json" (one object per line with stable keys, for Loki/ELK).
    log_format: Literal["text", "json"] = "text"
    # INFO lines of third-party libraries (APScheduler runs, uvicorn access log): off by default.
    log_third_party: bool = False
    # HTTP listener (health, readiness, metrics; later webhooks and the web view).
    http_listen: str = "127.0.0.1:8080"
    # The public base URL the HTTP side is reached at (behind a reverse proxy), e.g.
    # https://help.example.com; unset = derived from http_listen.
    public_url: str | None = None
    # SMS. Which provider sends: none (SMS rows wait in the outbox), twilio, or email (an operator's
    # email-to-SMS gateway: mail to <digits>@sms_email_domain).
    sms_provider: Literal["none", "twilio", "email"] = "none"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None  # also checks the webhooks' signatures
    twilio_from_number: str | None = None  # E.164, or a Messaging Service SID (MG...)
    twilio_api_url: str = "https://api.twilio.com"
    sms_email_domain: str | None = None
    # Longer answers are cut to this many segments (the full answer goes by mail when there is an address).
    sms_max_segments: int = 3
    # Write Polish, Czech, Croatian and Russian letters in GSM-7 (3x the characters per segment).
    sms_transliterate: bool = False
    sms_rate_limit_per_hour: int = 10  # per recipient number; what is held back is summarised later
    # A ticket number in an SMS: HD#12 anywhere, or #12 at the start (one group per alternative).
    sms_ticket_pattern: str = r"(?i)\bHD#(\d+)|^\s*#(\d+)"
    # Proxies whose X-Forwarded-For/-Proto are believed (comma-separated IPs); none by default.
    trusted_proxies: str = ""
    # /readyz fails when the oldest pending inbound message, or the oldest due outbox row, is older.
    ready_max_pending_seconds: float = 300.0
    ready_max_due_seconds: float = 900.0
    # An idle connection to the relay is closed after this (before the relay drops it).
    relay_idle_seconds: float = 30.0
    # Connections to the relay a dispatcher sends over at once (each recipient's mail on one).
    relay_connections: int = 4
    # Name the SMTP client gives in EHLO to the relay; unset = the host's FQDN.
    ehlo_name: str | None = None
    # Raw copies of messages of tickets closed this many days ago are purged (the ticket's text
    # and attachments stay); 0 = keep them forever.
    raw_retention_days: int = 0
    # Automatic replies (acknowledgements, notices) one address may get per hour; past it they
    # are suppressed and the reason recorded, so an autoresponder cannot start a mail loop.
    auto_reply_limit_per_hour: int = 10
    # Mail continuing a resolved or closed ticket: "reopen" it (the providers' procedure),
    # "reopen-within" reopen_within_days of closing and otherwise open a new linked ticket,
    # or always a "new-ticket" linked to the old one.
    closed_ticket_policy: Literal["reopen", "reopen-within", "new-ticket"] = "reopen"
    reopen_within_days: int = 14
    # Days a resolved ticket waits for the client's confirmation before it is closed automatically,
    # and how often (minutes) the gateway looks for such tickets.
    confirm_close_days: int = 7
    auto_close_check_minutes: float = 15.0
    # How often (seconds) the scheduler looks for SLA clocks that reached a warning, a breach or a
    # repeated escalation (the moments are stored, so a look costs an index scan).
    sla_check_seconds: float = 60.0
    # Threads that take stored messages through the pipeline; 0: one on SQLite (one writer at a
    # time), two on PostgreSQL (one's round trips overlap another's work; a sender's mail stays in order).
    processor_workers: int = 0
    # Processes, beside the listener's, that take stored messages through the pipeline, so it does
    # not share the listener's GIL; 0: threads in the one process. Unset: with more than one core,
    # two on PostgreSQL (whose claims let them share the work) and one on SQLite (one writer);
    # threads on a single core. More than one needs PostgreSQL.
    processing_processes: int | None = None
    # Clients' objects: days before an inspection is due that reminders go (comma-separated,
    # each step once), and the subject tag that names an object ("[OBJ SRV-01]"; group 1 is the id).
    inspection_reminder_days: str = "30,7"
    object_tag_pattern: str = r"\[OBJ\s+([A-Za-z0-9][A-Za-z0-9._/-]{0,63})\]"
    # Billing: the provider's own details on every invoice (EDIFACT NAD+SU), and the hour (UTC) of
    # the first day of a period when the scheduled period run makes the previous period's invoices.
    provider_legal_name: str = ""
    provider_street: str = ""
    provider_city: str = ""
    provider_postcode: str = ""
    provider_country: str = ""   # ISO 3166-1 alpha-2
    provider_vat_number: str = ""
    provider_edi_id: str = ""
    provider_edi_qualifier: str = "ZZZ"  # 14 = GLN (EAN), ZZZ = mutually defined, ...
    invoice_run_hour: int = 2
    # Optional address for internal notes: staff mail sent here never reaches the client.
    notes_address: str | None = None
    # Hosts whose Authentication-Results headers (RFC 8601) count, by authserv-id (comma-separated),
    # normally your own MX. Headers from any other host are ignored: a sender can write them.
    trusted_authserv_ids: str = ""
    # Outbound mail is sent with a VERP envelope sender, bounces+<id>-<signature>@<support domain>,
    # so a delivery report names the exact mail; that address must reach the gateway (it is
    # accepted at RCPT). Off: the envelope sender is the support address and reports are
    # matched by the returned Message-ID only.
    verp: bool = True
    bounce_local_part: str = "bounces"
    # Days an address that bounced permanently gets no automatic mail (mail from it lifts this).
    hard_bounce_block_days: int = 30
    # IMAP mailboxes to read (JSON list; see inbound/imap_config.py and the README).
    imap_mailboxes: list[MailboxConfig] = []

    @field_validator("smtp_listen", "relay", "http_listen")
    @classmethod
    def _check_host_port(cls, value: str | None, info) -> str | None:
        if value:
            parse_host_port(value, "HELPDESK_" + info.field_name.upper())
        return value or None

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"HELPDESK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return level

    @field_validator("imap_mailboxes")
    @classmethod
    def _unique_mailboxes(cls, value: list[MailboxConfig]) -> list[MailboxConfig]:
        names = [m.name for m in value]
        if len(names) != len(set(names)):
            raise ValueError("IMAP mailbox names must be unique")
        return value

    @field_validator("support_address", "notes_address")
    @classmethod
    def _check_address(cls, value: str | None, info) -> str | None:
        if value is None:
            return None
        if value.count("@") != 1 or " " in value:
            raise ValueError(f"HELPDESK_{info.field_name.upper()} must be an email address, got {value!r}")
        return value.lower()

    @field_validator("reply_address_prefix")
    @classmethod
    def _check_reply_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]{1,8}-?", value):
            raise ValueError("HELPDESK_REPLY_ADDRESS_PREFIX must be 1-8 lower-case letters or digits, "
                             f"optionally ending in '-', got {value!r}")
        return value

    @field_validator("confirm_close_days", "auto_close_check_minutes", "sla_check_seconds", "smtp_max_connections",
                     "sms_max_segments", "sms_rate_limit_per_hour",
                     "smtp_max_connections_per_ip", "smtp_max_recipients", "send_queue_lifetime_hours",
                     "instance_heartbeat_seconds", "instance_stale_seconds", "ready_max_pending_seconds",
                     "ready_max_due_seconds", "relay_idle_seconds", "relay_connections", "max_message_bytes")
    @classmethod
    def _positive(cls, value, info):
        if value <= 0:
            raise ValueError(f"HELPDESK_{info.field_name.upper()} must be positive")
        return value

    @field_validator("sms_ticket_pattern")
    @classmethod
    def _check_ticket_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"HELPDESK_SMS_TICKET_PATTERN is not a regular expression: {exc}") from None
        return value

    @field_validator("object_tag_pattern")
    @classmethod
    def _check_object_tag(cls, value: str) -> str:
        try:
            groups = re.compile(value).groups
        except re.error as exc:
            raise ValueError(f"HELPDESK_OBJECT_TAG_PATTERN is not a regular expression: {exc}") from None
        if groups < 1:
            raise ValueError("HELPDESK_OBJECT_TAG_PATTERN needs a group for the object's identifier")
        return value

    @field_validator("inspection_reminder_days")
    @classmethod
    def _check_reminder_days(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"HELPDESK_INSPECTION_REMINDER_DAYS must be positive whole days, "
                             f"comma-separated, got {value!r}")
        return ",".join(parts)

    @field_validator("processor_workers", "processing_processes")
    @classmethod
    def _check_workers(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not 0 <= value <= 16:
            meaning = "automatic" if info.field_name == "processor_workers" else "threads in one process"
            raise ValueError(f"HELPDESK_{info.field_name.upper()} must be 0 ({meaning}) to 16, got {value}")
        return value

    @field_validator("invoice_run_hour")
    @classmethod
    def _check_run_hour(cls, value: int) -> int:
        if not 0 <= value <= 23:
            raise ValueError(f"HELPDESK_INVOICE_RUN_HOUR must be 0-23, got {value}")
        return value

    @property
    def reminder_days(self) -> tuple[int, ...]:
        """Reminder steps, earliest first (30 before 7)."""
        return tuple(sorted({int(p) for p in self.inspection_reminder_days.split(",") if p}, reverse=True))

    @model_validator(mode="after")
    def _check_sms_provider(self):
        needed = {"twilio": ("twilio_account_sid", "twilio_auth_token", "twilio_from_number"),
                  "email": ("sms_email_domain",)}.get(self.sms_provider, ())
        missing = [f"HELPDESK_{name.upper()}" for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"HELPDESK_SMS_PROVIDER={self.sms_provider} needs {', '.join(missing)}")
        return self

    @property
    def accepted_addresses(self) -> frozenset[str]:
        extra = {a.strip().lower() for a in self.extra_addresses.split(",") if a.strip()}
        if self.notes_address:
            extra.add(self.notes_address.lower())
        if self.verp:
            extra.add(self.bounce_address)
        return frozenset({self.support_address} | extra)

    @property
    def bounce_address(self) -> str:
        return f"{self.bounce_local_part.lower()}@{self.support_address.rsplit('@', 1)[1]}"

    @property
    def trusted_authservs(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in self.trusted_authserv_ids.split(",") if a.strip())

    @property
    def message_id_domain(self) -> str:
        return self.mail_domain or self.support_address.rsplit("@", 1)[1]

    def twilio_auth_token_value(self) -> str | None:
        return self.twilio_auth_token.get_secret_value() if self.twilio_auth_token else None

    def signing_secret(self) -> bytes:
        key = self.secret_key.get_secret_value() if self.secret_key else None
        return load_secret(key, self.secret_key_file, Path("helpdesk.secret"))

    def previous_secrets(self, today: date) -> tuple[bytes, ...]:
        """Keys from before a rotation, while their transition period lasts (they verify, never sign)."""
        if self.previous_secret_keys_until is not None and today > self.previous_secret_keys_until:
            return ()
        previous = self.previous_secret_keys.get_secret_value() if self.previous_secret_keys else ""
        return tuple(k.strip().encode() for k in previous.split(",") if k.strip())

    @property
    def smtp_host_port(self) -> tuple[str, int]:
        return parse_host_port(self.smtp_listen, "HELPDESK_SMTP_LISTEN")

    @property
    def relay_host_port(self) -> tuple[str, int] | None:
        return parse_host_port(self.relay, "HELPDESK_RELAY") if self.relay else None


def _where(loc: tuple) -> str:
    """('imap_mailboxes', 0, 'host') -> 'HELPDESK_IMAP_MAILBOXES: mailbox 1, key host'."""
    if not loc:
        return "settings"
    where = "HELPDESK_" + str(loc[0]).upper()
    inner = [f"mailbox {part + 1}" if isinstance(part, int) else f"key {part}" for part in loc[1:]]
    return ", ".join([where, *inner])


def settings_error_line(exc: ValidationError) -> str:
    """The first problem as one line: which variable (and key inside it), what is wrong, what was given."""
    error = exc.errors()[0]
    where = _where(tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")  # pydantic's wrapping of our own ValueErrors
    if error["type"] == "missing":
        return f"bad setting {where}: required, not given"
    if message.startswith(where.split(",")[0]):  # our validators name the variable already
        return message
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) and repr(given) not in message else ""
    return f"bad setting {where}: {message[:1].lower()}{message[1:]}{shown}"


def load_settings(**overrides) -> Settings:
    """Read the settings, turning a validation error into one line naming the variable."""
    try:
        return Settings(_env_file=os.environ.get("HELPDESK_ENV_FILE", "helpdesk.env"), **overrides)
    except ValidationError as exc:
        raise UserError(settings_error_line(exc)) from None
    except SettingsError as exc:  # a JSON setting (HELPDESK_IMAP_MAILBOXES) that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        cause = exc.__cause__
        detail = f"not valid JSON ({cause.msg} at column {cause.colno})" if isinstance(
            cause, json.JSONDecodeError) else str(exc)
        raise UserError(f"bad setting {_where((field.group(1),) if field else ())}: {detail}") from None
