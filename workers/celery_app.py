"""The worker side of Celery: `celery -A workers.celery_app worker -Q extract` (or
`-Q webhooks`, `-Q exports`, `-Q bank`, `-Q mail`, `-Q publish`, or `beat`). A worker loads
the task modules of the queues it takes (beat none); the OCR model loads lazily, once per
process, the first time a scan arrives, with INVEX_OCR_ENGINE and INVEX_OCR_THREADS applied
when each worker process starts."""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Iterable
from typing import Any

from celery.signals import (
    celeryd_after_setup,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)

from common import db, logs
from common.config import get_settings
from common.metrics_dir import MULTIPROC_ENV, prepare_multiprocess_dir
from common.taskqueue import (
    BANK_QUEUE,
    DISPATCH_EXTRACT_TASK,
    DISPATCH_MAIL_TASK,
    DISPATCH_TASK,
    EXPORTS_QUEUE,
    EXTRACT_QUEUE,
    MAIL_QUEUE,
    POLL_MAILBOX_TASK,
    PUBLISH_QUEUE,
    SWEEP_TASK,
    WEBHOOKS_QUEUE,
    make_celery,
)

settings = get_settings()
settings.require_servers()
logs.configure_logging(settings.log_level, settings.log_format)
db.configure(settings.database_url)
# Before the task modules import prometheus_client, and in the parent, before the pool's
# children fork: they all count in one directory this process serves (common/metrics.py).
if settings.metrics_port or os.environ.get(MULTIPROC_ENV):
    prepare_multiprocess_dir()

log = logging.getLogger(__name__)

# Beat sends these every few seconds; when they find nothing to do they are noise.
# A mailbox's poll runs every INVEX_MAIL_POLL_INTERVAL too, and returns 0 when it found no mail.
_PERIODIC_TASKS = frozenset(
    {DISPATCH_EXTRACT_TASK, DISPATCH_TASK, DISPATCH_MAIL_TASK, POLL_MAILBOX_TASK, SWEEP_TASK}
)
# The repr of what they return when idle: 0, or the sweeper's counts, all 0.
_NOTHING_DONE = re.compile(r"0|\{('\w+': 0(, )?)*\}")


class QuietIdlePeriodicTasks(logging.Filter):
    """Drops, at INFO, beat's "Sending due task" line, the worker's "received" line of the
    periodic tasks, and their "succeeded" line when they did nothing, so an
    idle service is silent; INVEX_LOG_LEVEL=DEBUG keeps every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        if record.name == "celery.beat":
            args = record.args if isinstance(record.args, tuple) else ()
            return not (len(args) == 2 and args[1] in _PERIODIC_TASKS)
        data = getattr(record, "data", None)
        if not isinstance(data, dict) or data.get("name") not in _PERIODIC_TASKS:
            return True
        if record.name == "celery.worker.strategy":
            return False
        return not _NOTHING_DONE.fullmatch(str(data.get("return_value")))


# An ID the task was given, as its log lines should name it (not Celery's task UUID).
_OBJECT_ID = re.compile(r"\b(?:inv|exp|mbx|pub)_[0-9A-Za-z]+")


class NameTasksByTheirObject(logging.Filter):
    """Celery's "Task name[<uuid>] received/succeeded/failed" lines name the invoice or
    export the task works on instead of the UUID, which nothing else in Invex shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if isinstance(data, dict) and isinstance(record.args, dict):
            found = _OBJECT_ID.search(str(data.get("args", "")))
            if found:
                record.args = {**record.args, "id": found.group()}
        return True


for _logger_name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_logger_name).addFilter(QuietIdlePeriodicTasks())
for _logger_name in ("celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_logger_name).addFilter(NameTasksByTheirObject())

app = make_celery(settings.redis_url)

# The modules that define the tasks routed to each queue (common/taskqueue.py routes them).
# A worker imports those of the queues it takes, so an exports worker carries neither the
# mail nor the publishing code; the sweeper runs on the webhooks queue.
TASK_MODULES_BY_QUEUE: dict[str, tuple[str, ...]] = {
    EXTRACT_QUEUE: ("workers.tasks",),
    WEBHOOKS_QUEUE: ("workers.webhook_tasks", "workers.tasks"),
    EXPORTS_QUEUE: ("workers.export_tasks",),
    BANK_QUEUE: ("workers.bank_tasks",),
    MAIL_QUEUE: ("workers.mail_tasks",),
    PUBLISH_QUEUE: ("workers.publish_tasks",),
}
ALL_TASK_MODULES = tuple(dict.fromkeys(m for ms in TASK_MODULES_BY_QUEUE.values() for m in ms))


def task_modules_for(queues: Iterable[str]) -> tuple[str, ...]:
    """The task modules a worker taking `queues` needs; all of them for a queue not known
    here (an operator's own), so no task it may receive goes unregistered."""
    wanted: dict[str, None] = {}
    for queue in queues:
        for module in TASK_MODULES_BY_QUEUE.get(queue, ALL_TASK_MODULES):
            wanted[module] = None
    return tuple(wanted)


# Whether this worker takes extractions; only such a worker loads PyMuPDF and the OCR stack.
_extracts = False


@celeryd_after_setup.connect
def _load_own_tasks(sender: Any, instance: Any, **_: Any) -> None:
    """Once -Q is applied, before the consumer starts and the pool forks: the task modules
    of this worker's queues and, for an extraction worker, the extraction stack."""
    global _extracts  # noqa: PLW0603 - set once, in the worker's parent, before the pool forks
    consumed = instance.app.amqp.queues.consume_from or instance.app.amqp.queues
    for module in task_modules_for(consumed):
        importlib.import_module(module)
    _extracts = EXTRACT_QUEUE in consumed
    if not _extracts:
        return
    # Imported in the parent, so the pool's processes share them rather than each
    # importing them on its first task.
    from workers.extraction import ocr, pipeline  # noqa: F401, PLC0415

    # An extraction worker without its OCR engine would fail every scan: refuse to start.
    # SystemExit, because Celery logs and swallows a signal handler's ordinary exceptions.
    if not ocr.engine_available(settings.ocr_engine):
        raise SystemExit(
            f"invex: INVEX_OCR_ENGINE={settings.ocr_engine} but its packages are not "
            "installed (for easyocr: pip install 'invex[easyocr]')"
        )


@worker_process_init.connect
def _configure_ocr(**_: Any) -> None:
    if not _extracts:
        return
    from workers.extraction import ocr  # noqa: PLC0415 - imported already (_load_own_tasks)

    ocr.use_engine(settings.ocr_engine)
    threads = settings.ocr_threads or max(
        1, len(os.sched_getaffinity(0)) // max(1, settings.extract_concurrency)
    )
    ocr.set_ocr_threads(threads)


@setup_logging.connect
def _configure_logging(**_: Any) -> None:
    # Connected, so Celery leaves the root logger as configure_logging set it (text or JSON).
    logs.configure_logging(settings.log_level, settings.log_format)


@task_prerun.connect
def _bind_task_ids(args: Any = None, **_: Any) -> None:
    logs.clear()
    first = args[0] if args else None
    if isinstance(first, str) and first.startswith("inv_"):
        logs.bind(invoice_id=first)
    elif isinstance(first, str) and first.startswith("exp_"):
        logs.bind(export_id=first)


@task_postrun.connect
def _forget_task_ids(**_: Any) -> None:
    logs.clear()


@worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    """In the worker's parent process, once its pool runs: `/metrics` on INVEX_METRICS_HOST
    and INVEX_METRICS_PORT (0: not served). A port already taken is logged, not fatal: the
    worker's job matters more than its metrics."""
    if not settings.metrics_port:
        return
    from prometheus_client import start_http_server  # noqa: PLC0415

    from common.metrics import scrape_registry  # noqa: PLC0415

    try:
        start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=scrape_registry()
        )
    except OSError as exc:
        log.error(
            "metrics: cannot listen on %s:%d: %s",
            settings.metrics_host,
            settings.metrics_port,
            exc,
        )
        return
    log.info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)


@worker_process_shutdown.connect
def _forget_process_metrics(pid: int | None = None, **_: Any) -> None:
    from common.metrics import mark_process_dead  # noqa: PLC0415

    mark_process_dead(pid or os.getpid())
