"""A bounded, thread-safe memo for pure functions of text.

Questions and page lines recur: the same pages answer many different questions, and users
repeat questions. Tokenising or embedding them again costs more than the whole rest of an
answer, so their results are remembered, within a fixed number of entries."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Least-recently-used eviction; ``maxsize`` bounds memory whatever the traffic."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __call__(self, key: K, compute: Callable[[K], V]) -> V:
        value = self.get(key)
        if value is None:
            value = compute(key)
            self.put(key, value)
        return value

    def many(self, keys: Sequence[K], compute_missing: Callable[[list[K]], Sequence[V]]) -> list[V]:
        """Values for all keys; the missing ones computed in one call (one embedder batch)."""
        found = [self.get(k) for k in keys]
        missing = list(dict.fromkeys(k for k, v in zip(keys, found) if v is None))
        computed: dict[K, V] = dict(zip(missing, compute_missing(missing))) if missing else {}
        for key, value in computed.items():
            self.put(key, value)
        return [computed[k] if v is None else v for k, v in zip(keys, found)]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
