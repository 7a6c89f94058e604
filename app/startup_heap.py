"""Keep the garbage collector off what a started gateway keeps for good.

At start a gateway process imports SQLAlchemy, flanker, Jinja2 and the pipeline and compiles its
templates and rules: objects that live as long as the process. CPython's collector walks all of
them at each full collection, which comes once enough objects have outlived the younger
generations. After a burst of 3,000 mails (bench/ingest.py) the first one took 55-60 ms in the
listener's process and in the processing process (timed by a gc callback): a stall of the loop
that answers SMTP, or of a batch. After `gc.freeze()` (made for this) the same collection took
0.6-1.2 ms. It is latency, not throughput: no full collection fell inside the load window of
those runs (`bench/ingest.py --gc-timing`). What the process allocates later is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process is started and before it works. The collection first frees the
    start's own cyclic garbage, which would otherwise be frozen with the rest and never freed."""
    gc.collect()
    gc.freeze()
