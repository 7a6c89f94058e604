"""`bench/ingest.py --gc-timing`: what the garbage collector cost the gateway's processes while the
load ran, per generation (collections and milliseconds of the collecting thread's CPU), read from
the totals bench/gc_timing/sitecustomize.py keeps in each process."""

from __future__ import annotations

import json
import os
from pathlib import Path

_SITE = Path(__file__).resolve().parent / "gc_timing"


def gateway_env(directory: Path) -> dict:
    """What the gateway's environment needs for its processes to time their collections."""
    directory.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(_SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "BENCH_GC_TIMING_DIR": str(directory)}


def totals(directory: Path | None) -> dict[str, dict[str, list]]:
    """{pid: {generation: [collections, seconds]}} as the processes last wrote them."""
    found = {}
    for path in (directory.glob("*.json") if directory else ()):
        try:
            found[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced this instant: the next reading has it
    return found


def during(before: dict, after: dict) -> dict[str, dict[str, float]]:
    """Per generation, summed over the processes: collections and milliseconds between two readings."""
    spent = {generation: {"collections": 0, "ms": 0.0} for generation in ("0", "1", "2")}
    for pid, generations in after.items():
        for generation, (count, seconds) in generations.items():
            was_count, was_seconds = before.get(pid, {}).get(generation, (0, 0.0))
            spent[generation]["collections"] += count - was_count
            spent[generation]["ms"] = round(spent[generation]["ms"] + 1000 * (seconds - was_seconds), 1)
    return spent
