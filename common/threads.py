"""Background threads that belong to one process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    """A daemon thread running `target`, started by the first `ensure()` of each process:
    lazily, so none is started in a parent that only forks (gunicorn's arbiter), and again in
    a forked child, where the parent's thread does not exist. The caller serialises
    `ensure()` (it holds its own lock).

    `stop()`, at exit, sets `stopping` and waits for the thread: a target that watches
    `stopping` then ends before the interpreter finalises. A daemon thread frozen by
    finalisation while it holds a lock (a Redis pool's) would hang the exit of any object
    that needs that lock as it is collected (redis-py's `Redis.__del__` closes its pool)."""

    def __init__(self, target: Callable[[], object], name: str) -> None:
        self._target = target
        self._name = name
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def ensure(self) -> None:
        if self._pid != os.getpid():  # none yet, or inherited across a fork
            self._pid = os.getpid()
            self.stopping = threading.Event()
            self._thread = threading.Thread(target=self._target, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float) -> None:
        """Ask this process's thread, if it runs, to end, and wait up to `timeout` seconds."""
        if self._pid != os.getpid() or self._thread is None:
            return
        self.stopping.set()
        self._thread.join(timeout)
