"""How background work shares the process with the requests it serves.

The HTTP server answers from Python threads that share one interpreter lock. A write to embedded
Chroma holds that lock for the whole call (about 0.8 s for 1,000 chunks, 60–85 ms for 25, measured),
and so does tokenising; a request arriving meanwhile waits for all of it. Work done for a
background upload therefore goes in small steps with a rest after each, ``rest`` times as long as
the step took, so that the requests' threads get the lock in between: the upload takes longer,
the answers do not. The rest is taken only while requests are being served (``busy``): an idle
server ingests at full speed. `policyqa ingest` has no requests to share its process with and
runs unpaced (``pace=None``).

``rest=8``: in the benchmark (docs/performance.md) a rest as long as the step (``rest=1``) took
half of the interpreter from 16 clients during the writes and doubled their latency; 5 still
left the writes at 1.6 times the p95 without an upload.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Pace:
    records: int = 25  # records per Chroma call (~40 ms each on a small index, see core/store/chroma.py)
    texts: int = 16  # texts per embedder call: a question's embedding waits for at most one of them
    rest: float = 8.0  # after each step, rest this many times as long as the step took...
    busy: Callable[[], bool] = field(default=_always, compare=False)  # ...if requests are in flight

    @contextmanager
    def step(self) -> Iterator[None]:
        """One step of background work, then the rest it earns."""
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.busy():
                time.sleep(max(0.0, time.perf_counter() - started) * self.rest)


BACKGROUND = Pace()


def step(pace: Pace | None) -> AbstractContextManager[None]:
    """``pace.step()``, or nothing for unpaced work."""
    return pace.step() if pace is not None else nullcontext()


class InFlight:
    """How many requests are being served: ``with in_flight:`` around each; ``busy`` for a ``Pace``."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1

    def busy(self) -> bool:
        return self._count > 0
