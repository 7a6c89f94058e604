"""The daily retention job: raw copies of messages of tickets closed HELPDESK_RAW_RETENTION_DAYS
ago are purged (store/retention.py); scheduled by app/scheduled_jobs.py when the setting is > 0."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from helpdesk.gateway.ground.settings import Settings
from helpdesk.store.retention import PurgeResult, purge_raw, retention_cutoff

log = logging.getLogger("helpdesk.housekeeping")
INTERVAL_HOURS = 24


def purge_expired_raw(engine, settings: Settings, clock: Callable[[], datetime]) -> PurgeResult:
    now = clock()
    done = purge_raw(engine, retention_cutoff(now, settings.raw_retention_days), now)
    if done.messages:
        log.info("retention: purged the raw copies of %d message(s), %d bytes, of tickets closed more than "
                 "%d days ago", done.messages, done.bytes, settings.raw_retention_days)
    return done


async def retention_job(engine, settings: Settings, clock: Callable[[], datetime]) -> None:
    try:
        await asyncio.to_thread(purge_expired_raw, engine, settings, clock)
    except asyncio.CancelledError:  # stopped with the service; each batch commits whole or not at all
        log.debug("retention purge interrupted by shutdown")
    except Exception:  # logged, and tried again at the next interval
        log.exception("retention purge failed; will try again")
