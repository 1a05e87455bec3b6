"""Prometheus metrics of every process type, and how each process serves them.

gunicorn and Celery's prefork pool run the code in child processes, so the metrics are kept
in prometheus-client's multiprocess mode whenever PROMETHEUS_MULTIPROC_DIR is set: each
child writes its counts to files in that directory and whoever serves `/metrics` adds them
up. The directory must be set before prometheus_client is first imported and be emptied when
its process type starts (common/metrics_dir.py).

Backlog gauges (queue lengths, waiting jobs, credits used) are read at scrape time, by the
API's `/metrics` only: they describe the whole service, and one target reporting them keeps
a dashboard's sums right.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from common.metrics_dir import multiprocess_mode

log = logging.getLogger(__name__)

# Buckets from a fast JSON read (ms) to a slow upload; and from a text PDF to a long scan.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

REQUEST_SECONDS = Histogram(
    "invex_http_request_seconds",
    "API request latency, by route template, method and status.",
    ("route", "method", "status"),
    buckets=_REQUEST_BUCKETS,
)
EXTRACTION_SECONDS = Histogram(
    "invex_extraction_seconds",
    "Time to extract one document, by where its fields came from "
    "(pdf_text, ocr, einvoice...) and outcome.",
    ("source", "outcome"),
    buckets=_JOB_BUCKETS,
)
OCR_SECONDS_PER_PAGE = Histogram(
    "invex_ocr_seconds_per_page",
    "Extraction time of a scanned document divided by its pages.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
WEBHOOK_LAG_SECONDS = Histogram(
    "invex_webhook_delivery_lag_seconds",
    "From the time a webhook delivery (or its retry) was due to the time it was sent.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
WEBHOOK_DELIVERIES = Counter(
    "invex_webhook_deliveries",
    "Webhook delivery attempts by outcome: succeeded, pending (a retry is planned), failed.",
    ("outcome",),
)
EXPORT_SECONDS = Histogram(
    "invex_export_seconds",
    "Time to write one export, by outcome (succeeded, failed, skipped).",
    ("outcome",),
    buckets=_JOB_BUCKETS,
)


def mark_process_dead(pid: int) -> None:
    """A child has exited: drop its live-gauge files (its counters stay counted)."""
    if multiprocess_mode():
        from prometheus_client import multiprocess  # noqa: PLC0415 - only in that mode

        multiprocess.mark_process_dead(pid)


def scrape_registry(*extra: Collector) -> CollectorRegistry:
    """What `/metrics` serves: every process's counts (multiprocess mode) or this process's,
    and the `extra` collectors."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        from prometheus_client import multiprocess  # noqa: PLC0415 - only in that mode

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # a registry is a collector of all it holds
    for collector in extra:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class BacklogCollector(Collector):
    """Queue lengths, waiting jobs and the oldest one's age, and credits used this month,
    read when scraped. A server that does not answer leaves its metrics out (and is logged)
    rather than failing the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from common import backlog  # noqa: PLC0415 - the API's /metrics only
        from common.health import redis_client  # noqa: PLC0415

        try:
            lengths = backlog.queue_lengths(redis_client())
        except Exception:
            log.warning("metrics: the broker did not answer", exc_info=True)
        else:
            queued = GaugeMetricFamily(
                "invex_queue_messages", "Messages waiting in a broker queue.", labels=["queue"]
            )
            for queue, length in lengths.items():
                queued.add_metric([queue], length)
            yield queued
        try:
            waiting = backlog.waiting_jobs()
            used = backlog.credits_used_this_month()
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            return
        jobs = GaugeMetricFamily(
            "invex_jobs_waiting", "Jobs due and not yet taken by a worker.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "invex_oldest_waiting_job_seconds",
            "Age of the oldest job due and not yet taken (0: none waits).",
            labels=["kind"],
        )
        now = datetime.now(UTC)
        for row in waiting:
            jobs.add_metric([row.kind], row.waiting)
            age.add_metric([row.kind], (now - row.oldest).total_seconds() if row.oldest else 0)
        yield jobs
        yield age
        yield GaugeMetricFamily(
            "invex_credits_used_pages",
            "Pages taken from plans' monthly allotments this month, all organisations.",
            value=used,
        )
