"""Log format for the service: one line per event on stderr, which systemd's journal keeps."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every connection at INFO; our disposition log already says what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # apscheduler writes three INFO lines per job run ("Running job", "executed successfully");
    # its warnings and errors (a missed or failed run) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
