"""The body of a processing process: stored messages through the pipeline, beside the listener's
process, so that the pipeline has a core (and a GIL) of its own.

Its parent (app/processing_process.py) tells it over a pipe when new mail is stored, when the rules
changed and when to finish; it answers, over another pipe, that it is ready and what each batch
did (the parent's /metrics counts it, and the parent wakes the dispatchers). It ignores SIGTERM and
SIGINT, which a service manager or a terminal sends to the whole group: its parent decides when it
stops, and lets it finish what is stored first. If the parent dies, the pipe ends and so does it.
"""

from __future__ import annotations

import logging
import signal
import time
from multiprocessing.connection import Connection

from helpdesk.app.guarded_step import GuardedStep
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.settings import Settings

WAKE, RELOAD, FINISH = b"w", b"r", b"f"
POLL_SECONDS = 1.0  # as the in-process workers: picks up pipe deliveries, retries and other instances' work
# Under load, a batch is only as large as what the listener committed since the last one (about
# its connections' worth), and each batch pays ~1 ms of its own (the read, the claim, the commit,
# the pages another process changed). After a batch of at least GATHER_FROM messages the child
# waits GATHER_SECONDS for more; a smaller batch (a quiet hour, 100 msgs/s) is never held.
GATHER_FROM, GATHER_SECONDS = 4, 0.015
log = logging.getLogger("helpdesk.service")


class ForwardedCounts:
    """Stands in for Metrics in the child: what the processor counts is sent to the parent."""

    def __init__(self):
        self.counted: list[tuple[str, str, float | None]] = []

    def count_message(self, channel: str, outcome: str, seconds_since_stored: float | None) -> None:
        self.counted.append((channel, outcome, seconds_since_stored))

    def take(self) -> list[tuple[str, str, float | None]]:
        counted, self.counted = self.counted, []
        return counted


class _Child:
    def __init__(self, settings: Settings, name: str, commands: Connection, reports: Connection):
        # Imported here, after the signals are ignored and logging is set up: the pipeline's imports
        # take most of a second, and a SIGTERM meanwhile must not kill the child half-started.
        from helpdesk.app.wiring import make_pipeline_context
        from helpdesk.gateway.pipeline.processor import Processor
        from helpdesk.gateway.routing.rules import load_rules
        from helpdesk.outbound.render import Renderer
        from helpdesk.store.db import make_engine

        self.settings, self.name, self.commands, self.reports = settings, name, commands, reports
        self.renderer = Renderer(settings.templates_dir, settings.default_locale)
        # Compiled now, as the parent compiled its own at start: else the first mail of each kind
        # and language pays for compiling its template (a short burst paid 0.3-0.6 ms a message).
        self.renderer.check()
        self.rules = load_rules(settings.rules, self.renderer.kinds())
        self.engine = make_engine(settings.database_url, settings.db_busy_timeout_ms)
        self.counts = ForwardedCounts()
        ctx = make_pipeline_context(settings, lambda: self.rules, self.renderer)
        self.processor = Processor(self.engine, ctx, metrics=self.counts)
        self.step = GuardedStep(name, self.processor.run_once)
        self.finishing = False

    def reload_rules(self) -> None:
        from helpdesk.gateway.routing.rules import load_rules
        try:
            self.rules = load_rules(self.settings.rules, self.renderer.kinds())
        except (UserError, OSError) as exc:  # the parent accepted them a moment ago: a race with an edit
            log.error("%s: new rules not taken, previous rules stay in force: %s", self.name, exc)

    def read_commands(self, timeout: float) -> None:
        """Everything the parent said so far, waiting up to `timeout` for the first word."""
        try:
            while self.commands.poll(timeout):
                timeout = 0
                command = self.commands.recv_bytes()
                if command == RELOAD:
                    self.reload_rules()
                elif command == FINISH:
                    self.finishing = True
        except (EOFError, OSError):  # the parent is gone: finish what is stored, then stop
            self.finishing = True

    def gather(self, seconds: float) -> None:
        """Let more mail be stored for `seconds`, still obeying the parent at once (a wake-up is
        what it waits for anyway); a finish ends the wait."""
        deadline = time.monotonic() + seconds
        while not self.finishing and (left := deadline - time.monotonic()) > 0:
            self.read_commands(left)

    def report(self, *report) -> None:
        try:
            self.reports.send(report)
        except OSError:  # the parent is gone: nobody to tell; finish what is stored, then stop
            self.finishing = True

    def run(self) -> None:
        self.report("ready")
        while True:
            self.read_commands(0)
            handled = self.step()
            if handled:
                self.report("done", self.counts.take())
                if GATHER_FROM <= handled < self.processor.batch:
                    self.gather(GATHER_SECONDS)
                continue
            if self.finishing:
                break
            self.read_commands(POLL_SECONDS)
        self.engine.dispose()


def run_processing_child(settings: Settings, name: str, commands: Connection, reports: Connection) -> None:
    """Entry point of a processing process (started by multiprocessing's spawn)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from helpdesk.app.logging_setup import setup_logging
    setup_logging(settings.log_level, settings.log_format, settings.log_third_party, process=name)
    try:
        child = _Child(settings, name, commands, reports)
    except Exception as exc:  # the parent says it, in one line, and does not start
        reports.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    from helpdesk.app.startup_heap import freeze_startup_heap
    freeze_startup_heap()
    child.run()
