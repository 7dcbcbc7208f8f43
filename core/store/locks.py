"""The write lock: one writer at a time on this machine (embedded Chroma cannot take two).

Within a process a re-entrant lock, across processes an ``flock`` on ``<data_dir>/ingest.lock``,
which the kernel drops when its process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._writer = threading.RLock()  # the thread holding the write lock may take it again
        self._depth = 0

    @contextmanager
    def __call__(self, *, wait: bool = True) -> Iterator[bool]:
        """Re-entrant within a thread: an upload holds it from renaming its file into place to the
        end of that file's ingest. With ``wait=False`` it yields False at once (holding nothing)
        when another writer has it."""
        if not self._writer.acquire(blocking=wait):
            yield False
            return
        try:
            if self._depth:
                self._depth += 1
                try:
                    yield True
                finally:
                    self._depth -= 1
                return
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with open(self.data_dir / "ingest.lock", "a+") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                self._depth = 1
                try:
                    yield True
                finally:
                    self._depth = 0
                    fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            self._writer.release()
