"""The garbage collector, set for a long-running server process.

A Python server allocates a few container objects per request, nearly all freed at once by
reference counting; the collector still runs a young-generation pass every 700 net
allocations and, now and then, a full pass over every object the process holds (~250,000
after startup: modules, classes, validators). In `bench/`, that was 7-20% of the CPU of a
trigger. So, once the code is loaded: what exists is moved out of the collector's sight
(`gc.freeze`, it lives as long as the process), and young passes run every 20,000
allocations instead. Cycles are still collected, only less often.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 20_000


def tune_garbage_collection_for_serving() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
