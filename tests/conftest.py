"""Fixtures over real parts: a database file or a PostgreSQL database per test, the gateway's real
listener on a free port, and an SMTP sink standing in for the relay.

Every database test runs once on SQLite and once on PostgreSQL (HELPDESK_TEST_DATABASES, default
"sqlite,postgresql"; the server is HELPDESK_TEST_POSTGRES, default the local one with trust auth).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# Settings read HELPDESK_* from the environment: keep a developer's own values out of the tests.
for _key in [k for k in os.environ if k.startswith("HELPDESK_") and not k.startswith("HELPDESK_TEST_")]:
    del os.environ[_key]
os.environ["HELPDESK_ENV_FILE"] = "/nonexistent/helpdesk.env"

from helpdesk.app.service import Gateway  # noqa: E402
from helpdesk.gateway.ground.errors import UserError  # noqa: E402
from helpdesk.gateway.ground.settings import Settings  # noqa: E402
from helpdesk.store.db import make_engine  # noqa: E402
from helpdesk.store.migrate import upgrade  # noqa: E402
from tests.smtp_sink import SmtpSink  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BACKENDS = [b.strip() for b in os.environ.get("HELPDESK_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
PG_ADMIN_URL = os.environ.get("HELPDESK_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _port_slice() -> range:
    """This xdist worker's own ports, below the kernel's ephemeral range.

    A port the kernel hands out for bind(0) is in the ephemeral range, where every outgoing connection
    (to PostgreSQL, to the sink) also takes its local port: between free_port() and the gateway's bind,
    another worker's client could take it. Ports below that range are never picked by the kernel, and
    each worker has its own slice, so a port free here stays ours."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    low, high = 10000, max(ephemeral_low, 20000)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (high - low) // max(workers, 1)
    return range(low + worker * size, low + (worker + 1) * size)


_PORTS = _port_slice()
_next_port = [_PORTS.start + (os.getpid() % len(_PORTS))]  # reruns start elsewhere in the slice


def free_port() -> int:
    for _ in range(len(_PORTS)):
        port = _next_port[0]
        _next_port[0] = _PORTS.start + (port + 1 - _PORTS.start) % len(_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # a service outside the tests holds it
            return port
    raise RuntimeError(f"no free port in {_PORTS}")


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template():
    """A PostgreSQL database migrated once; each test gets a copy (CREATE DATABASE ... TEMPLATE)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"helpdesk_tpl_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.orig}); "
                    "set HELPDESK_TEST_DATABASES=sqlite to run the SQLite half only", pytrace=False)
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield admin, name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def pg_database(admin, prefix: str, template: str | None = None):
    """A fresh PostgreSQL database (copied from `template` when given), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once; each test gets a copy (migrating costs ~0.2 s a test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "helpdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    assert not path.with_name("helpdesk.db-wal").exists() or not path.with_name("helpdesk.db-wal").stat().st_size
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "helpdesk.db")
        yield f"sqlite:///{tmp_path}/helpdesk.db"
        return
    admin, template = request.getfixturevalue("pg_template")
    with pg_database(admin, "helpdesk_t", template) as url:
        yield url


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(db_url):
    """Read-only views of the test database for assertions."""
    from tests.mail import Db

    db = Db(db_url)
    yield db
    db.engine.dispose()


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def make_settings(db_url, tmp_path, sink):
    def make(**overrides) -> Settings:
        values = dict(
            database_url=db_url, smtp_listen=f"127.0.0.1:{free_port()}", relay=f"127.0.0.1:{sink.port}",
            http_listen=f"127.0.0.1:{free_port()}",
            support_address="support@helpdesk.test", rules=REPO / "tests" / "rules" / "minimal.yaml",
            outbox_dir=tmp_path / "outbox",
            send_retry_base_seconds=0.2, send_retry_max_seconds=1.0, db_busy_timeout_ms=2000,
            secret_key="test-secret-key-0123456789",
            # The pipeline in this process's threads: tests move its clock and read its metrics at
            # once (tests/test_processing_processes.py runs `helpdesk serve` with processes).
            processing_processes=0,
        )
        values.update(overrides)
        return Settings(**values)
    return make


class GatewayThread:
    """The real gateway (listener, processor, dispatcher) on its own event loop in a thread."""

    def __init__(self, settings: Settings, clock=None):
        self.settings = settings
        self.gateway = Gateway(settings, clock) if clock else Gateway(settings)
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return self.settings.smtp_host_port[1]

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(
                self.gateway.run(on_ready=lambda _msg: self.ready.set(), install_signals=False))
        except BaseException as exc:  # surfaced to the test by start()
            self.error = exc
            self.ready.set()
        finally:
            self.loop.close()

    def start(self) -> "GatewayThread":
        self.thread.start()
        if not self.ready.wait(20):
            raise TimeoutError("gateway did not become ready")
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.gateway.stopping.set)
            self.thread.join(30)


@pytest.fixture
def start_gateway():
    started: list[GatewayThread] = []

    def start(settings: Settings, clock=None) -> GatewayThread:
        for attempt in range(3):
            gw = GatewayThread(settings, clock)
            started.append(gw)
            try:
                return gw.start()
            except UserError as exc:
                # free_port() hands out a port that is free now; another worker may bind it before the
                # gateway does. The taken port is replaced: tests read both from gw.settings.
                taken = next((key for key in ("smtp_listen", "http_listen")
                              if f"{getattr(settings, key)}: " in str(exc)), None)
                if attempt == 2 or taken is None:
                    raise
                settings = settings.model_copy(update={taken: f"127.0.0.1:{free_port()}"})

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def gateway(make_settings, start_gateway):
    return start_gateway(make_settings())
