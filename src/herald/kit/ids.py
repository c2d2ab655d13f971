"""Resource ids shaped like Novu's (MongoDB ObjectIds): 24 hex chars, ordered by time."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time

_PROCESS_RANDOM = os.urandom(5)
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_counter_lock = threading.Lock()
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def new_id() -> str:
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """`count` new ids at once: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter."""
    with _counter_lock:
        counts = [next(_counter) & 0xFFFFFF for _ in range(count)]
    prefix = int(time.time()).to_bytes(4, "big") + _PROCESS_RANDOM
    return [(prefix + count.to_bytes(3, "big")).hex() for count in counts]


def is_object_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))
