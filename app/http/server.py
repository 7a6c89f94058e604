"""Run the HTTP app with uvicorn on the gateway's own event loop, and stop it with the rest.

The socket is bound here, not by uvicorn, so a port in use is the gateway's one-line error
(uvicorn would log and sys.exit); uvicorn installs no signal handlers, because the gateway owns
SIGTERM and stops HTTP itself, letting requests in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

import uvicorn
from sqlalchemy.engine import Engine

from helpdesk.app.http.app import HttpState, build_app
from helpdesk.app.http.db_collector import DatabaseCollector
from helpdesk.app.http.db_thread import DatabaseThread
from helpdesk.app.http.readiness import Readiness, make_probe_engine
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.ground.settings import Settings, parse_host_port

log = logging.getLogger("helpdesk.http")
STOP_GRACE_SECONDS = 10.0  # requests in flight at shutdown get this long to finish


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # the gateway's handlers stay in place (app/service.py)


def bind_http(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        # create_server appends the address to strerror; the plain text of errno says it once
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UserError(f"cannot listen on HTTP {host}:{port}: {why}") from None


def public_url(settings: Settings, host: str, port: int) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class HttpService:
    """`listening()` names each other listener and whether it is bound, for /readyz."""

    def __init__(self, settings: Settings, metrics: Metrics, listening: Callable[[], dict[str, bool]],
                 engine: Engine, on_inbound_stored: Callable[[], None] | None = None):
        """`engine`: the gateway's, for the webhooks; `on_inbound_stored`: called (on the event loop)
        after a webhook committed an inbound message."""
        self.settings, self.metrics, self.listening, self.engine = settings, metrics, listening, engine
        self.on_inbound_stored = on_inbound_stored
        self.server: _Server | None = None
        self.task: asyncio.Task | None = None
        self.address: tuple[str, int] | None = None

    def is_serving(self) -> bool:
        return bool(self.server and self.server.started and not self.server.should_exit)

    async def start(self) -> None:
        """Bind and serve; without HELPDESK_HTTP_LISTEN (set empty) there is no HTTP side."""
        s = self.settings
        if not s.http_listen:
            return
        sock = bind_http(*parse_host_port(s.http_listen, "HELPDESK_HTTP_LISTEN"))
        self.address = sock.getsockname()[:2]
        self.db_thread = DatabaseThread()
        self.probe = make_probe_engine(s.database_url)
        self.metrics.registry.register(DatabaseCollector(self.probe))
        readiness = Readiness(s, self.probe, self.db_thread, lambda: {**self.listening(), "http": self.is_serving()})
        app = build_app(HttpState(s, public_url(s, *self.address), self.metrics.registry, readiness, self.db_thread,
                                  self.engine, self.on_inbound_stored))
        trusted = [ip.strip() for ip in s.trusted_proxies.split(",") if ip.strip()]
        config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=s.log_third_party,
                                proxy_headers=bool(trusted), forwarded_allow_ips=trusted,
                                timeout_graceful_shutdown=STOP_GRACE_SECONDS)
        self.server = _Server(config)
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.01)  # uvicorn's startup is a few loop turns
        if self.task.done():
            self.task.result()  # raises what stopped it
        log.info("HTTP on %s:%d (public URL %s)", *self.address, app.state.public_url)

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.should_exit = True  # stops accepting; requests in flight finish
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.task), STOP_GRACE_SECONDS + 1)
        self.db_thread.close()
        self.probe.dispose()
