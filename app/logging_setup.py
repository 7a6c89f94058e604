"""Log format for the service: one line per event on stderr, which systemd's journal keeps.

"text" is for people; "json" is one object per line for Loki or ELK, with the stable keys
ts, level, logger and message, plus the fields a line carries (`extra=`, e.g. the disposition
log's inbound_id, message_id, ticket, outcome, ms) as keys of their own. What callers log is
all that is written: no message bodies and no secrets are ever passed to a logger.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Libraries whose INFO lines are chatter next to our own (their warnings and errors still show):
# aiosmtpd logs every connection, Alembic its context at every start, APScheduler three lines
# per job run, uvicorn every request.
THIRD_PARTY = ("mail.log", "alembic", "apscheduler", "uvicorn", "uvicorn.access", "uvicorn.error")

# What every LogRecord has; any other attribute came from `extra=` and is a field of the line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str | None = None):
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.process:
            line["process"] = self.process
        line.update({k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", log_format: str = "text", third_party: bool = False,
                  process: str | None = None) -> None:
    """`process`: a processing process's name, on each of its lines (key "process" in JSON). They
    share the gateway's stderr, and the journal gives them the gateway's PID."""
    handler = logging.StreamHandler(sys.stderr)
    where = f" [{process}]" if process else ""
    handler.setFormatter(JsonFormatter(process) if log_format == "json" else
                         logging.Formatter(f"%(asctime)s %(levelname)s %(name)s{where}: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.NOTSET if third_party else logging.WARNING)
