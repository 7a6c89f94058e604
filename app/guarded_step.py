"""One step of a background loop that survives database outages and bugs, and says so once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("helpdesk.service")


class GuardedStep:
    """Calls `step` and returns what it handled; a failure is logged once (not once a second while
    it lasts) and counts as nothing handled, so the caller's loop waits and tries again."""

    def __init__(self, name: str, step: Callable[[], int]):
        self.name, self.step, self.failing = name, step, False

    def __call__(self) -> int:
        try:
            handled = self.step()
        except SQLAlchemyError as exc:
            if not self.failing:
                log.error("%s: database error, will retry: %s", self.name, str(exc).splitlines()[0])
            self.failing = True
            return 0
        except Exception:  # a bug must not silently stop processing or delivery
            if not self.failing:
                log.exception("%s: unexpected error, will retry", self.name)
            self.failing = True
            return 0
        if self.failing:
            log.info("%s: working again", self.name)
        self.failing = False
        return handled
