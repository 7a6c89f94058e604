"""freeze_startup_heap: what lives at start is frozen, the start's own cyclic garbage is freed first."""

from __future__ import annotations

import gc
import weakref

from helpdesk.app.startup_heap import freeze_startup_heap


class _Node:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it


def test_live_objects_are_frozen_and_start_garbage_is_freed_first():
    gc.disable()  # no automatic collection may free the cycle before the call does
    try:
        kept, dropped = _Node(), _Node()
        gone = weakref.ref(dropped)
        del dropped
        frozen_before = gc.get_freeze_count()
        freeze_startup_heap()
        assert gone() is None  # collected, not frozen for good
        assert gc.get_freeze_count() > frozen_before
        assert kept.me is kept
        later = _Node()  # what the working process allocates is collected as before
        later_gone = weakref.ref(later)
        del later
        gc.collect()
        assert later_gone() is None
    finally:
        gc.unfreeze()  # the test process's heap is not ours to keep frozen
        gc.enable()
