"""Loaded by every Python process of a gateway that `bench/ingest.py --gc-timing` starts (it is
put first on their PYTHONPATH): times each garbage collection on the collecting thread's CPU
clock and keeps running totals per generation in BENCH_GC_TIMING_DIR/<pid>.json, rewritten after
each collection, so the benchmark reads what the collector cost during its load window."""

import gc
import json
import os
import time

_DIR = os.environ.get("BENCH_GC_TIMING_DIR")
if _DIR:
    _started: dict[int, float] = {}
    _totals = {"0": [0, 0.0], "1": [0, 0.0], "2": [0, 0.0]}

    def _timed(phase, info):
        generation = info["generation"]
        if phase == "start":
            _started[generation] = time.thread_time()
            return
        entry = _totals[str(generation)]
        entry[0] += 1
        entry[1] += time.thread_time() - _started.pop(generation, time.thread_time())
        path = os.path.join(_DIR, f"{os.getpid()}.json")
        with open(path + ".tmp", "w") as fh:
            json.dump(_totals, fh)
        os.replace(path + ".tmp", path)  # a reader never sees half a file

    gc.callbacks.append(_timed)
