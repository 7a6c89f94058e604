"""`helpdesk serve`: the SMTP listener, the processor and the dispatcher in one asyncio process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from helpdesk.app.guarded_step import GuardedStep
from helpdesk.app.http.server import HttpService
from helpdesk.app.instance_heartbeat import InstanceHeartbeat
from helpdesk.app.processing_process import ProcessingProcess
from helpdesk.app.scheduled_jobs import Housekeeping
from helpdesk.app.systemd_notify import SystemdNotifier
from helpdesk.app.wiring import (
    make_dispatcher,
    make_pipeline_context,
    make_readers,
    make_relay_transport,
    make_sms_dispatcher,
    make_writer,
)
from helpdesk.gateway.accounts.queues import ensure_queues
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError, database_error_line
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.pipeline.processor import Processor
from helpdesk.gateway.routing.rules import Rules, load_rules
from helpdesk.inbound.smtp import IntakeHandler, start_listener
from helpdesk.outbound.render import Renderer
from helpdesk.store.db import is_sqlite, make_engine, new_session
from helpdesk.store.migrate import upgrade

log = logging.getLogger("helpdesk.service")
POLL_SECONDS = 1.0      # picks up pipe deliveries, retries and other instances' work
SHUTDOWN_GRACE = 10.0   # seconds in-flight SMTP transactions get to finish at SIGTERM
RULES_POLL_SECONDS = 1.0  # how often rules.yaml is checked for changes


def sync_queues(engine, rules: Rules) -> None:
    """Queues declared in rules.yaml exist in the database, so admins can add members to them."""
    with new_session(engine) as session, session.begin():
        ensure_queues(session, rules.queues)


def open_database(settings: Settings):
    engine = make_engine(settings.database_url, settings.db_busy_timeout_ms)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        cause = database_error_line(exc)
        raise UserError(f"cannot open database: {cause}") from None
    return engine


class Worker:
    """Runs `step` in a thread whenever woken (or every POLL_SECONDS) and survives database outages.

    `finish()` lets it work off what is due, then return: nothing stored is abandoned at SIGTERM.
    """

    def __init__(self, name: str, step: Callable[[], int], after_work: Callable[[], None] | None = None,
                 batch: int | None = None):
        """`batch`: the most one step takes; a step that took fewer found nothing more due, so the
        next one waits to be woken (the dispatcher's claim is a write transaction, and on SQLite
        an empty one still takes the write lock that intake needs)."""
        self.name, self.step, self.after_work, self.batch = name, step, after_work, batch
        self.wake, self.finishing = asyncio.Event(), False
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(_work_loop(self))

    async def finish(self, timeout: float) -> None:
        self.finishing = True
        self.wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            log.warning("%s: still busy at shutdown; the rest waits for the next start", self.name)
            self.task.cancel()


def processor_workers(settings: Settings, engine) -> int:
    """SQLite has one writer at a time, so one worker; PostgreSQL overlaps one worker's round trips
    with another's work (each claims rows the other has not locked, a sender's mail in order)."""
    if settings.processor_workers:
        return settings.processor_workers
    return 1 if is_sqlite(engine) else 2


def processing_processes(settings: Settings, engine) -> int:
    """Unset: with a second core the pipeline gets processes of its own (measured on two cores:
    PostgreSQL 221-240 -> 416-460 msgs/s with two); one core gains nothing from them."""
    if settings.processing_processes is not None:
        return settings.processing_processes
    if (os.cpu_count() or 1) < 2:
        return 0
    return 1 if is_sqlite(engine) else 2


async def _work_loop(worker: Worker) -> None:
    step, wake, after_work = GuardedStep(worker.name, worker.step), worker.wake, worker.after_work
    while True:
        wake.clear()
        handled = await asyncio.to_thread(step)
        if handled:
            if after_work:
                after_work()
            if worker.finishing or not worker.batch or handled >= worker.batch:
                continue
        elif worker.finishing:
            return
        try:
            await asyncio.wait_for(wake.wait(), POLL_SECONDS)
        except TimeoutError:
            pass


class Gateway:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow, checked=None):
        """`checked`: (renderer, rules) the caller has already loaded and checked (`serve`)."""
        self.settings, self.clock = settings, clock  # the one clock: pipeline and scheduled jobs (tests move it)
        self.stopping = asyncio.Event()
        self.renderer, self.rules = checked or (None, None)
        self.engine = None
        self.processing: list[ProcessingProcess] = []  # HELPDESK_PROCESSING_PROCESSES's, started by run
        self.metrics = Metrics()  # this gateway's own registry: served at /metrics, read by tests

    def reload_rules(self) -> None:
        try:
            rules = load_rules(self.settings.rules, self.renderer.kinds())
            sync_queues(self.engine, rules)
        except UserError as exc:
            log.error("new rules rejected, previous rules stay in force: %s", exc)
            return
        except SQLAlchemyError as exc:
            log.error("new rules not applied, database error: %s", str(exc).splitlines()[0])
            return
        except Exception:
            log.exception("new rules rejected, previous rules stay in force")
            return
        self.rules = rules
        for process in self.processing:
            process.reload_rules()
        log.info("rules reloaded from %s", self.settings.rules)

    async def run(self, on_ready: Callable[[str], None] | None = None, install_signals: bool = True,
                  before_ready: Callable[[], None] | None = None) -> None:
        """`before_ready`: called once everything is set up, before the listener and the threads start."""
        s = self.settings
        engine = self.engine = open_database(s)
        if self.renderer is None:
            self.renderer = Renderer(s.templates_dir, s.default_locale)
            self.renderer.check()
            self.rules = load_rules(s.rules, self.renderer.kinds())
        renderer = self.renderer
        sync_queues(engine, self.rules)
        ctx = make_pipeline_context(s, lambda: self.rules, renderer, self.clock)
        transport = make_relay_transport(s)
        heartbeat = InstanceHeartbeat(engine, s)  # registered before the first claim, which names it
        instance_id = heartbeat.register()
        # More connections to the relay overlap its round trips (a file outbox needs only one).
        more = [make_relay_transport(s) for _ in range(s.relay_connections - 1)] if s.relay_host_port else []
        dispatcher = make_dispatcher(engine, transport, s, signer=ctx.signer, instance_id=instance_id,
                                     metrics=self.metrics, more_transports=more)
        senders = [Worker("dispatcher", dispatcher.run_once, batch=dispatcher.batch)]
        # With no SMS provider, SMS rows wait in the outbox (`helpdesk outbox list` shows them).
        sms = make_sms_dispatcher(engine, s, renderer, instance_id=instance_id) if s.sms_provider != "none" else None
        if sms is not None:
            senders.append(Worker("sms dispatcher", sms.run_once))

        def wake_senders() -> None:  # whatever queued mail may have queued SMS too
            for sender in senders:
                sender.wake.set()
        processors = await self._start_processing(engine, ctx, wake_senders)

        def wake_processors() -> None:  # they share the work: PostgreSQL claims skip what another locked
            for processor in processors:
                processor.wake.set()
        writer = make_writer(engine, s, on_commit=wake_processors)
        handler = IntakeHandler(writer, s.accepted_addresses, s.message_id_domain, s.smtp_max_recipients,
                                metrics=self.metrics)
        host, port = s.smtp_host_port
        if before_ready:  # set up, taking no work yet: no connection, no thread of ours started
            before_ready()
        try:
            server = await start_listener(handler, host, port, s.max_message_bytes, s.smtp_max_connections,
                                          s.smtp_max_connections_per_ip)
        except OSError as exc:
            raise UserError(f"cannot listen on {s.smtp_listen}: {exc.strerror}") from None
        http = HttpService(s, self.metrics, lambda: {"smtp": server.is_serving()}, engine,
                           on_inbound_stored=wake_processors)
        await http.start()  # a port in use: one line, like SMTP's
        writer_task = asyncio.create_task(writer.run())
        loop = asyncio.get_running_loop()
        readers = make_readers(engine, s, lambda: loop.call_soon_threadsafe(wake_processors))
        for reader in readers:
            reader.thread.start()
        watcher = asyncio.create_task(self._watch_rules())
        for processor in processors if not self.processing else ():  # processes started already
            processor.start()
        for sender in senders:
            sender.start()
        heartbeat.start()
        housekeeping = Housekeeping(engine, ctx, clock=self.clock, after_work=wake_senders, metrics=self.metrics)
        housekeeping.start()
        if install_signals:  # only possible in the main thread; tests run the gateway in another
            self._install_signals(loop)
        bound = server.sockets[0].getsockname()
        where = f"relay {s.relay}" if s.relay else f"folder {s.outbox_dir.resolve()}"
        message = f"ready: SMTP on {bound[0]}:{bound[1]}, outbound mail to {where}"
        if sms is not None:
            message += f", SMS via {sms.provider.name}"
        log.info(message)
        systemd = SystemdNotifier()
        systemd.ready(message)
        if on_ready:
            on_ready(message)
        await self.stopping.wait()
        systemd.stopping()
        watcher.cancel()
        housekeeping.stop()
        for reader in readers:  # stop fetching first; what they stored is processed below
            reader.stop.set()
        for reader in readers:
            await asyncio.to_thread(reader.thread.join, SHUTDOWN_GRACE)
        await self._shutdown(server, handler, writer_task, processors, senders)
        await heartbeat.stop()
        await http.stop()  # last: /readyz says "not ready" while the rest drains
        dispatcher.close()  # and its connections to the relay
        await asyncio.to_thread(writer.close)  # waits for a commit a timed-out shutdown left running
        if sms is not None:
            sms.provider.close()
        engine.dispose()
        systemd.close()
        log.info("stopped")

    async def _start_processing(self, engine, ctx, wake_senders) -> list:
        """Threads in this process, or processes of their own (HELPDESK_PROCESSING_PROCESSES), which
        are started now and waited for: a process that cannot start stops the gateway here."""
        s = self.settings
        count = processing_processes(s, engine)
        if count and self.clock is not utcnow:  # a process of its own reads the real clock
            raise ValueError("a gateway given a clock runs its pipeline in threads: set processing_processes=0")
        if not count:
            return [Worker(f"processor {n + 1}", Processor(engine, ctx, metrics=self.metrics).run_once,
                           after_work=wake_senders) for n in range(processor_workers(s, engine))]
        if count > 1 and is_sqlite(engine):
            raise UserError("HELPDESK_PROCESSING_PROCESSES above 1 needs PostgreSQL (SQLite has one writer)")
        self.processing = [ProcessingProcess(s, f"processing process {n + 1}", self.metrics, wake_senders)
                           for n in range(count)]
        for process in self.processing:
            process.start()
        try:
            await asyncio.gather(*(process.wait_ready() for process in self.processing))
        except UserError:
            await asyncio.gather(*(process.finish(SHUTDOWN_GRACE) for process in self.processing))
            raise
        return self.processing

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_rules)

    async def _watch_rules(self) -> None:
        """Reload rules.yaml when it changes on disk (operators need not send SIGHUP)."""
        try:
            await self._watch_rules_forever()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("rules watcher stopped; SIGHUP still reloads")

    async def _watch_rules_forever(self) -> None:
        def stamp():
            try:
                st = self.settings.rules.stat()
                return st.st_mtime_ns, st.st_size
            except OSError:
                return None
        seen = stamp()
        while True:
            await asyncio.sleep(RULES_POLL_SECONDS)
            current = stamp()
            if current != seen and current is not None:
                seen = current
                self.reload_rules()

    async def _shutdown(self, server, handler, writer_task, processors: list[Worker], senders: list[Worker]) -> None:
        log.info("stopping: no new connections, finishing in-flight work")
        server.close()
        handler.draining = True  # what is in DATA finishes; new transactions get 421
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_GRACE
        while handler.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        writer_task.cancel()  # commits whatever is still queued, then stops
        await asyncio.gather(writer_task, return_exceptions=True)
        await asyncio.gather(*(processor.finish(SHUTDOWN_GRACE) for processor in processors))
        for sender in senders:
            await sender.finish(SHUTDOWN_GRACE)
