"""The worker side of Celery: `celery -A workers.celery_app worker -Q extract` (or
`-Q webhooks`, or `beat`). Loads the task modules; the OCR model loads lazily, once per
process, the first time a scan arrives."""

from __future__ import annotations

import logging

from common import db
from common.config import get_settings
from common.taskqueue import make_celery

settings = get_settings()
settings.require_servers()
logging.basicConfig(
    level=settings.log_level,
    format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
)
db.configure(settings.database_url)

app = make_celery(settings.redis_url)
app.conf.include = ["workers.tasks", "workers.webhook_tasks"]
