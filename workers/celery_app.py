"""The worker side of Celery: `celery -A workers.celery_app worker -Q extract` (or
`-Q webhooks`, `-Q exports`, `-Q bank`, or `beat`). Loads the task modules; the OCR model
loads lazily, once per process, the first time a scan arrives, with INVEX_OCR_ENGINE and
INVEX_OCR_THREADS applied when each worker process starts."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from celery.signals import celeryd_after_setup, worker_process_init

from common import db
from common.config import get_settings
from common.taskqueue import (
    DISPATCH_EXTRACT_TASK,
    DISPATCH_TASK,
    EXTRACT_QUEUE,
    SWEEP_TASK,
    make_celery,
)
from workers.extraction import ocr

settings = get_settings()
settings.require_servers()
logging.basicConfig(
    level=settings.log_level,
    format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
)
db.configure(settings.database_url)

# Beat sends these every few seconds; when they find nothing to do they are noise.
_PERIODIC_TASKS = frozenset({DISPATCH_EXTRACT_TASK, DISPATCH_TASK, SWEEP_TASK})
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


for _logger_name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_logger_name).addFilter(QuietIdlePeriodicTasks())

app = make_celery(settings.redis_url)
app.conf.include = [
    "workers.tasks",
    "workers.webhook_tasks",
    "workers.export_tasks",
    "workers.bank_tasks",
]


@celeryd_after_setup.connect
def _check_ocr_engine(sender: Any, instance: Any, **_: Any) -> None:
    # An extraction worker without its OCR engine would fail every scan: refuse to start.
    # SystemExit, because Celery logs and swallows a signal handler's ordinary exceptions.
    consumed = instance.app.amqp.queues.consume_from or instance.app.amqp.queues
    if EXTRACT_QUEUE in consumed and not ocr.engine_available(settings.ocr_engine):
        raise SystemExit(
            f"invex: INVEX_OCR_ENGINE={settings.ocr_engine} but its packages are not "
            "installed (for easyocr: pip install 'invex[easyocr]')"
        )


@worker_process_init.connect
def _configure_ocr(**_: Any) -> None:
    ocr.use_engine(settings.ocr_engine)
    threads = settings.ocr_threads or max(
        1, len(os.sched_getaffinity(0)) // max(1, settings.extract_concurrency)
    )
    ocr.set_ocr_threads(threads)
