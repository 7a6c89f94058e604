"""The one Starlette app of `helpdesk serve`: its routes and the state later routes share.

Features that need HTTP (SMS webhooks, the web view) add their routes to the list in
`build_app`; `request.app.state.public_url` is the base URL clients see (behind the proxy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpdesk.app.http.db_thread import DatabaseThread
from helpdesk.app.http.readiness import Readiness
from helpdesk.app.http.twilio_webhooks import sms_webhook_routes
from helpdesk.gateway.ground.settings import Settings


@dataclass(frozen=True)
class HttpState:
    settings: Settings
    public_url: str
    registry: CollectorRegistry
    readiness: Readiness
    db_thread: DatabaseThread
    engine: Engine  # the gateway's: webhooks store what they receive through it
    # Wakes the processor after an SMS webhook committed a message, as the SMTP intake does.
    on_inbound_stored: Callable[[], None] | None = None


async def healthz(request: Request) -> JSONResponse:
    # The process is up and its event loop answers; whether it can take mail is /readyz.
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    ready, report = await request.app.state.http.readiness.check()
    return JSONResponse(report, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    state: HttpState = request.app.state.http
    # The database gauges query at scrape time: off the event loop.
    body = await state.db_thread.run(lambda: generate_latest(state.registry))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def build_app(state: HttpState) -> Starlette:
    app = Starlette(routes=[
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *sms_webhook_routes(state.settings, state.registry, state.engine, state.on_inbound_stored),
    ])
    app.state.http = state
    app.state.public_url = state.public_url
    app.state.settings = state.settings
    return app
