"""Where prometheus-client's multiprocess mode keeps each child's counts. Apart from
common/metrics.py because it must run before prometheus_client is first imported: that
import decides, once per process, whether values go to files or stay in memory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: str | Path | None = None, *, export: bool = True) -> Path:
    """Point multiprocess mode at `path` (else at PROMETHEUS_MULTIPROC_DIR, else at a new
    temporary directory) and empty it of a previous run's files; `export`: and set
    PROMETHEUS_MULTIPROC_DIR in this process's environment. Call in the parent process
    before its children start."""
    chosen = Path(
        path or os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="invex-metrics-")
    )
    chosen.mkdir(parents=True, mode=0o700, exist_ok=True)
    for stale in chosen.glob("*.db"):  # only the files multiprocess mode writes
        stale.unlink(missing_ok=True)
    if export:
        os.environ[MULTIPROC_ENV] = str(chosen)
    return chosen


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))
