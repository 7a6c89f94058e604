"""Keep the garbage collector off what a started gateway keeps for good.

At start a gateway process imports SQLAlchemy, flanker, Jinja2 and the pipeline and compiles its
templates and rules: objects that live as long as the process. CPython's collector walks all of
them at each full collection. In a burst of 3,000 mails (bench/ingest.py, collections timed by a
gc callback) the listener's process and the processing process each made one, of 56-58 ms: 0.04 ms
of CPU per message, and a stall of the loop or the batch. After `gc.freeze()` (made for this) the
same collections took 0.6-1.2 ms. What the process allocates later is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process is started and before it works. The collection first frees the
    start's own cyclic garbage, which would otherwise be frozen with the rest and never freed."""
    gc.collect()
    gc.freeze()
