"""gunicorn hooks (`gunicorn -c python:api.gunicorn_config api.wsgi:app`): the workers
count their metrics in one multiprocess directory, emptied when the server starts, so
`/metrics` from any worker adds up all of them (common/metrics.py)."""

from __future__ import annotations

from typing import Any


def on_starting(server: Any) -> None:
    # In the master, before any worker is forked and before prometheus_client is imported.
    from common.metrics_dir import prepare_multiprocess_dir  # noqa: PLC0415

    prepare_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    from common.metrics import mark_process_dead  # noqa: PLC0415

    mark_process_dead(worker.pid)
