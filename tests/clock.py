"""The tests' injectable clock: it starts where the test says and moves only when the test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta


class MovableClock:
    def __init__(self, start: datetime):
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, **delta) -> None:
        """To the start plus `delta` (at(hours=4))."""
        self.now = self.start + timedelta(**delta)

    def later(self, **delta) -> None:
        """Forward from where it is now."""
        self.now += timedelta(**delta)
