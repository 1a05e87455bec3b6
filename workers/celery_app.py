"""The worker side of Celery: `celery -A workers.celery_app worker -Q extract` (or
`-Q webhooks`, `-Q exports`, or `beat`). Loads the task modules; the OCR model loads lazily,
once per process, the first time a scan arrives, with INVEX_OCR_ENGINE and INVEX_OCR_THREADS applied
when each worker process starts."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import celeryd_after_setup, worker_process_init

from common import db
from common.config import get_settings
from common.taskqueue import EXTRACT_QUEUE, make_celery
from workers.extraction import ocr

settings = get_settings()
settings.require_servers()
logging.basicConfig(
    level=settings.log_level,
    format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
)
db.configure(settings.database_url)

app = make_celery(settings.redis_url)
app.conf.include = ["workers.tasks", "workers.webhook_tasks", "workers.export_tasks"]


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
