"""IMAP intake: read a mailbox (IDLE when the server offers it, else polling) into the same store.

A message is moved to the processed folder (or flagged \\Seen) only after its raw bytes are
committed together with the mailbox's last stored UID. A crash in between leaves the message
in the folder; the next pass sees its UID is already stored and only moves it: never a loss,
never a second copy. One thread per mailbox; a lease in the database lets one gateway
instance at a time read each mailbox.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import LeaseLost, UserError
from helpdesk.gateway.ground.mailbox_settings import MailboxConfig
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.ports import MailboxProgressStore

log = logging.getLogger("helpdesk.imap")
LEASE_TTL = timedelta(seconds=60)
IDLE_RESTART_SECONDS = 300     # re-issue IDLE well before servers' 30-minute limit (RFC 2177)
MAX_BACKOFF_SECONDS = 60.0
_NETWORK_ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError, EOFError)


def instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class MailboxReader:
    def __init__(self, config: MailboxConfig, mailboxes: MailboxProgressStore, on_stored: Callable[[], None],
                 holder: str | None = None):
        self.config, self.mailboxes, self.on_stored = config, mailboxes, on_stored
        self.holder = holder or instance_id()
        self.stop = threading.Event()
        self._state: str | None = None
        self._lease_renewed = 0.0
        self.thread = threading.Thread(target=self.run, name=f"imap-{config.name}", daemon=True)

    def _say(self, state: str, level: int = logging.INFO) -> None:
        """Log a state change once, not once per retry."""
        if state != self._state:
            self._state = state
            log.log(level, "mailbox %s: %s", self.config.name, state)

    # -- the connection loop -------------------------------------------------------------
    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            try:
                if not self.mailboxes.acquire_lease(self.config.name, self.holder, utcnow(), LEASE_TTL):
                    self._say("read by another gateway instance; waiting for its lease to end")
                    self.stop.wait(LEASE_TTL.total_seconds() / 3)
                    continue
                self._lease_renewed = time.monotonic()
                client = self._connect()
            except (*_NETWORK_ERRORS, SQLAlchemyError, UserError) as exc:
                self._say(f"cannot connect ({exc}); retrying with backoff", logging.WARNING)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            try:
                self._serve(client)
                backoff = 1.0
            except (*_NETWORK_ERRORS, SQLAlchemyError, LeaseLost) as exc:
                self._say(f"connection lost ({type(exc).__name__}: {exc}); reconnecting", logging.WARNING)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except Exception:  # a bug or an odd server answer: log it, back off, never die silently
                log.exception("mailbox %s: unexpected error; reconnecting", self.config.name)
                self._state = "failed"
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                _quietly(client.logout)
        try:
            self.mailboxes.release_lease(self.config.name, self.holder)
        except SQLAlchemyError:
            pass  # it expires by itself
        self._say("stopped")

    def _connect(self) -> IMAPClient:
        c = self.config
        client = IMAPClient(c.host, port=c.effective_port, ssl=c.security == "tls", timeout=30)
        try:
            if c.security == "starttls":
                client.starttls(ssl.create_default_context())
            client.login(c.user, c.password())
        except BaseException:
            _quietly(client.logout)
            raise
        return client

    def _serve(self, client: IMAPClient) -> None:
        c = self.config
        selected = client.select_folder(c.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        known, _ = self.mailboxes.progress(c.name)
        if known != uidvalidity:
            if known is not None:
                log.warning("mailbox %s: UIDVALIDITY changed %s -> %s; scanning it again", c.name, known, uidvalidity)
            self.mailboxes.start_uidvalidity(c.name, self.holder, uidvalidity)
        if c.after == "move" and not client.folder_exists(c.processed_folder):
            client.create_folder(c.processed_folder)
        can_idle = c.idle and client.has_capability("IDLE")
        self._say(f"connected to {c.host}:{c.effective_port}, {'IDLE' if can_idle else 'polling'}")
        while not self.stop.is_set():
            self._renew_lease()
            stored = self._drain(client, uidvalidity)
            self._tidy(client)
            if not stored:
                self._wait_for_mail(client, can_idle)

    def _renew_lease(self) -> None:
        if time.monotonic() - self._lease_renewed > LEASE_TTL.total_seconds() / 3:
            if not self.mailboxes.acquire_lease(self.config.name, self.holder, utcnow(), LEASE_TTL):
                raise LeaseLost(self.config.name)
            self._lease_renewed = time.monotonic()

    # -- moving mail ----------------------------------------------------------------------
    def _drain(self, client: IMAPClient, uidvalidity: int) -> int:
        """Store every message above the last stored UID, a batch at a time; returns how many."""
        _, last = self.mailboxes.progress(self.config.name)
        # "UID n:*" also returns the highest UID when nothing is above n: filter.
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        stored = 0
        for start in range(0, len(uids), self.config.batch):
            self._wait_for_processing()
            if self.stop.is_set():
                break
            chunk = uids[start:start + self.config.batch]
            fetched = client.fetch(chunk, ["BODY.PEEK[]"])  # PEEK: reading does not mark \Seen
            items = [(uid, RawInbound(fetched[uid][b"BODY[]"], None, (), source=f"imap:{self.config.name}"))
                     for uid in chunk if b"BODY[]" in fetched.get(uid, {})]
            if items:
                self.mailboxes.store_batch(self.config.name, self.holder, uidvalidity, items)
                self.on_stored()
                self._after_store(client, [uid for uid, _ in items])
                stored += len(items)
            self._renew_lease()
        return stored

    def _wait_for_processing(self) -> None:
        """Backpressure: store a backlog no faster than it is processed, so mail arriving by
        other routes meanwhile is not queued behind thousands of old messages."""
        source = f"imap:{self.config.name}"
        while not self.stop.is_set() and self.mailboxes.pending_from(source) >= 2 * self.config.batch:
            self.stop.wait(0.2)
            self._renew_lease()

    def _after_store(self, client: IMAPClient, uids: list[int]) -> None:
        if not uids:
            return
        if self.config.after == "seen":
            client.add_flags(uids, [b"\\Seen"])
        elif client.has_capability("MOVE"):
            client.move(uids, self.config.processed_folder)
        else:  # RFC 3501 without MOVE: copy, mark deleted, expunge just these (UIDPLUS) or all
            client.copy(uids, self.config.processed_folder)
            client.delete_messages(uids)
            client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()

    def _tidy(self, client: IMAPClient) -> None:
        """Finish what a crash between commit and move left behind: stored, but still in the folder."""
        _, last = self.mailboxes.progress(self.config.name)
        if last == 0:
            return
        criteria = ["UID", f"1:{last}"] + (["UNSEEN"] if self.config.after == "seen" else [])
        leftovers = [u for u in client.search(criteria) if u <= last]
        if leftovers:
            log.info("mailbox %s: %d stored message(s) still in %s; finishing them", self.config.name,
                     len(leftovers), self.config.folder)
            self._after_store(client, leftovers)

    def _wait_for_mail(self, client: IMAPClient, can_idle: bool) -> None:
        if not can_idle:
            deadline = time.monotonic() + self.config.poll_seconds
            while not self.stop.is_set() and time.monotonic() < deadline:  # keep the lease meanwhile
                self.stop.wait(min(5.0, max(0.0, deadline - time.monotonic())))
                self._renew_lease()
            return
        # An EXISTS the server sent with the reply to an earlier command (the tidy-up's SEARCH, a
        # MOVE) is not repeated in IDLE: look once more, or such mail would wait for the restart.
        _, last = self.mailboxes.progress(self.config.name)
        if any(u > last for u in client.search(["UID", f"{last + 1}:*"])):
            return
        client.idle()
        try:
            deadline = time.monotonic() + IDLE_RESTART_SECONDS
            while not self.stop.is_set() and time.monotonic() < deadline:
                responses = client.idle_check(timeout=1)  # also "* OK Still here" keepalives
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ConnectionError(f"server closed the connection: {responses}")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
                self._renew_lease()
        finally:
            _quietly(client.idle_done)


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:  # closing a dead connection: nothing left to do
        pass
