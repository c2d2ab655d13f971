"""Values derived from objects that never change, found again by the object's identity.

Hashing or comparing such an object (a workflow snapshot, a step's control values) costs more
than deriving from it once; its `id` is free. Each entry holds its object, so that the id stays
that object's while the entry lives. Bounded: emptied when full.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Derived = TypeVar("Derived")


class IdentityCache(Generic[Derived]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[tuple[int, Hashable], tuple[object, Derived]] = {}

    def get(self, source: object, derive: Callable[[], Derived], extra: Hashable = None) -> Derived:
        """What `derive` gives for `source` (and `extra`, a further part of the key), derived once."""
        key = (id(source), extra)
        held = self._entries.get(key)
        if held is not None and held[0] is source:
            return held[1]
        if len(self._entries) >= self.size:
            self._entries.clear()
        derived = derive()
        self._entries[key] = (source, derived)
        return derived
