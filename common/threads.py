"""Background threads that belong to one process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    """A daemon thread running `target`, started by the first `ensure()` of each process:
    lazily, so none is started in a parent that only forks (gunicorn's arbiter), and again in
    a forked child, where the parent's thread does not exist. The caller serialises
    `ensure()` (it holds its own lock)."""

    def __init__(self, target: Callable[[], object], name: str) -> None:
        self._target = target
        self._name = name
        self._pid: int | None = None

    def ensure(self) -> None:
        if self._pid != os.getpid():  # none yet, or inherited across a fork
            self._pid = os.getpid()
            threading.Thread(target=self._target, name=self._name, daemon=True).start()
