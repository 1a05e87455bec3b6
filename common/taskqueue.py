"""The Celery app as both sides see it: the API only sends, the workers also consume.

Task names are strings so the API never imports worker code (and with it, the OCR stack).
Sending happens after the transaction that wrote the job row has committed; if the broker is
unreachable the row stays queued and the sweeper sends it later, so nothing is lost. Where
many commits feed one task that takes all pending rows (the webhook sender, the extraction
dispatcher), a commit only nudges it: `coalesced_nudge` sends one message for many commits,
and a request hands its nudge to a `BackgroundNudge` thread, so it waits on no round trip.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from functools import cache

import redis
from celery import Celery

from common.config import get_settings
from common.health import redis_client
from common.threads import ProcessThread

log = logging.getLogger(__name__)

EXTRACT_QUEUE = "extract"
WEBHOOKS_QUEUE = "webhooks"
EXPORTS_QUEUE = "exports"
BANK_QUEUE = "bank"
MAIL_QUEUE = "mail"
PUBLISH_QUEUE = "publish"
EXTRACT_TASK = "invex.extract_invoice"
DISPATCH_EXTRACT_TASK = "invex.dispatch_extractions"
SWEEP_TASK = "invex.sweep_overdue_work"
DISPATCH_TASK = "invex.webhooks.dispatch_due"
SEND_DUE_TASK = "invex.webhooks.send_due"
EXPORT_TASK = "invex.exports.run"
STATEMENT_TASK = "invex.bank.parse_statement"
DISPATCH_MAIL_TASK = "invex.mail.dispatch_polls"
POLL_MAILBOX_TASK = "invex.mail.poll_mailbox"
PUBLISH_TASK = "invex.publish.run"
REFRESH_IDLE_TASK = "invex.publish.refresh_idle_connections"


def make_celery(redis_url: str) -> Celery:
    settings = get_settings()
    hard_limit = settings.extract_time_limit + 30
    app = Celery("invex", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per child: OCR jobs are long and memory-hungry.
        worker_prefetch_multiplier=1,
        task_default_queue=EXTRACT_QUEUE,
        task_routes={
            EXTRACT_TASK: {"queue": EXTRACT_QUEUE},
            # On the queue every extraction worker serves: no process of its own to run.
            DISPATCH_EXTRACT_TASK: {"queue": EXTRACT_QUEUE},
            "invex.webhooks.*": {"queue": WEBHOOKS_QUEUE},
            # Long, I/O- and CPU-heavy jobs: their own workers, so they delay neither OCR
            # nor webhook deliveries.
            "invex.exports.*": {"queue": EXPORTS_QUEUE},
            # Statement parsing: short, but not to wait behind an export or an OCR job.
            "invex.bank.*": {"queue": BANK_QUEUE},
            # Mail polls wait on IMAP servers: their own workers, scaled apart.
            "invex.mail.*": {"queue": MAIL_QUEUE},
            # Calls to accounting providers: waits on their rate limits delay nothing else.
            "invex.publish.*": {"queue": PUBLISH_QUEUE},
            # Housekeeping rides the I/O queue: behind OCR jobs it would run late.
            SWEEP_TASK: {"queue": WEBHOOKS_QUEUE},
        },
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # Above the longest job, or a long job would be delivered twice.
        broker_transport_options={
            "visibility_timeout": max(3600, hard_limit * 4),
            "socket_timeout": 5,
            "socket_connect_timeout": 3,
        },
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep-overdue-work": {"task": SWEEP_TASK, "schedule": float(settings.sweep_interval)},
            # Retries come due by the clock in Postgres; beat turns them into tasks.
            "dispatch-due-deliveries": {"task": DISPATCH_TASK, "schedule": 5.0},
            # Uploads only nudge the extraction dispatcher; this sends what a lost nudge left.
            "dispatch-extractions": {"task": DISPATCH_EXTRACT_TASK, "schedule": 5.0},
            # Sends a poll for each mailbox that is due (INVEX_MAIL_POLL_INTERVAL, backoff);
            # twice per interval, so a due mailbox waits at most half an interval for it.
            "dispatch-mail-polls": {
                "task": DISPATCH_MAIL_TASK,
                "schedule": max(0.5, settings.mail_poll_interval / 2),
            },
            # Accounting connections unused for a month: refreshed before their refresh
            # token dies (on queue `publish`, by its route).
            "refresh-idle-connections": {"task": REFRESH_IDLE_TASK, "schedule": 86400.0},
        },
    )
    return app


@cache
def celery_app() -> Celery:
    settings = get_settings()
    settings.require_servers()
    return make_celery(settings.redis_url)


def _send(task: str, object_id: str, queue: str, what: str) -> bool:
    """Send one task for a row that records the work; False (logged) when the broker is
    unreachable: the row stays queued and the sweeper sends it after INVEX_REQUEUE_AFTER."""
    try:
        celery_app().send_task(task, args=[object_id], queue=queue)
    except Exception:  # the broker is down: the sweeper re-sends from the database
        log.warning("could not enqueue %s %s; the sweeper will", what, object_id, exc_info=True)
        return False
    return True


def enqueue_extraction(invoice_id: str) -> bool:
    return _send(EXTRACT_TASK, invoice_id, EXTRACT_QUEUE, "extraction of")


def enqueue_export(export_id: str) -> bool:
    return _send(EXPORT_TASK, export_id, EXPORTS_QUEUE, "export")


def enqueue_statement(statement_id: str) -> bool:
    return _send(STATEMENT_TASK, statement_id, BANK_QUEUE, "bank statement")


def enqueue_publication(publication_id: str) -> bool:
    return _send(PUBLISH_TASK, publication_id, PUBLISH_QUEUE, "publication")


def send_extractions(invoice_ids: Iterable[str]) -> None:
    """Send one extraction task per invoice over one producer; raises when the broker is
    unreachable (the caller's transaction then rolls back and the invoices stay undispatched)."""
    app = celery_app()
    with app.producer_or_acquire() as producer:
        for invoice_id in invoice_ids:
            app.send_task(EXTRACT_TASK, args=[invoice_id], queue=EXTRACT_QUEUE, producer=producer)


def send_mail_polls(mailbox_ids: Iterable[str], expires: float) -> None:
    """Send one poll task per mailbox over one producer; raises when the broker is
    unreachable (the mailboxes' claims run out and the dispatcher sends them again). A poll
    not started within `expires` seconds is dropped: by then its claim has run out and a
    fresh one is sent, so stopped mail workers leave no pile of stale polls."""
    app = celery_app()
    with app.producer_or_acquire() as producer:
        for mailbox_id in mailbox_ids:
            app.send_task(
                POLL_MAILBOX_TASK,
                args=[mailbox_id],
                queue=MAIL_QUEUE,
                producer=producer,
                expires=expires,
            )


def coalesced_nudge(key: str, window_ms: int, task: str, queue: str) -> bool:
    """Send `task` (no arguments) unless a nudge under `key` sent it less than `window_ms` ago
    and the task has not yet cleared the key (`clear_nudge`, first thing when it runs).

    For a task that takes all pending work from the database: the rows of a held-back nudge
    were committed before the pending task's claim, so it takes them too. An atomic SET NX PX
    is one Redis round trip, far cheaper than building and publishing a Celery message.
    False (logged) when Redis or the broker is unreachable; a periodic run of the task in
    beat then does the work.
    """
    try:
        if not redis_client().set(key, "1", nx=True, px=window_ms):
            return True
        celery_app().send_task(task, queue=queue)
    except Exception:  # Redis or the broker is down: beat runs the task later
        log.warning("could not send %s; beat will", task, exc_info=True)
        return False
    return True


def clear_nudge(key: str) -> None:
    """Open `key`'s window again, so the next nudge sends a fresh task. Called by the task
    before it claims anything: a nudge held back until now was for committed rows it sees."""
    with contextlib.suppress(redis.RedisError, OSError):
        redis_client().delete(key)


class BackgroundNudge:
    """Runs `nudge` (a coalesced_nudge) from a thread of this process, for requests that
    must not wait on Redis for it. `soon()` asks; the thread runs the nudge at once when it
    has been idle, else `spacing` seconds after its previous run, once for every request
    that asked meanwhile: under load, one round trip per `spacing` per process instead of
    one per upload, at the price of up to `spacing` before the dispatcher hears of an upload.

    Each run starts after the asks it answers (the flag is taken, then the nudge runs), so
    a commit followed by `soon()` is always followed by a nudge that sees it committed, as
    when the request nudged itself. Asks pending when the process ends are nudged at exit;
    a process killed first leaves them to beat's periodic run.
    """

    def __init__(self, nudge: Callable[[], object], *, name: str, spacing: float) -> None:
        self._nudge = nudge
        self._name = name
        self._spacing = spacing
        self._wanted = threading.Condition(threading.Lock())
        self._asked = False
        self._thread = ProcessThread(self._run_forever, name)
        atexit.register(self._run_at_exit)

    def soon(self) -> None:
        with self._wanted:
            self._asked = True
            self._thread.ensure()
            self._wanted.notify()

    def run_if_asked(self) -> None:
        with self._wanted:
            asked, self._asked = self._asked, False
        if asked:
            self._nudge()

    def _run_at_exit(self) -> None:
        """The thread ends first (ProcessThread.stop says why), then the asks left run."""
        with self._wanted:  # wakes the thread where it waits for an ask
            self._thread.stopping.set()
            self._wanted.notify()
        self._thread.stop(timeout=self._spacing + 5)
        self.run_if_asked()

    def _run_forever(self) -> None:
        stopping = self._thread.stopping
        while True:
            with self._wanted:
                self._wanted.wait_for(lambda: self._asked or stopping.is_set())
            if stopping.is_set():
                return
            try:
                self.run_if_asked()
            except Exception:  # a defect must not end the nudging for the process's life
                log.exception("%s failed", self._name)
            stopping.wait(self._spacing)


# While a dispatch message is pending, more nudges add nothing: the dispatcher, when it runs,
# claims every invoice committed before it starts. It may wait a while: it queues behind OCR
# jobs on the extract queue, so it does not clear the key at once. The expiry only bounds the
# harm of a lost message (a flushed broker): a second later an upload sends another, and
# beat's run every 5 s sends the rest. A long backlog costs at most one extra (and quick)
# dispatch message a second.
EXTRACT_NUDGE_KEY = "invex:extract:dispatch-nudged"
EXTRACT_NUDGE_WINDOW_MS = 1000


def nudge_extraction_dispatcher() -> bool:
    """Wake the extraction dispatcher (task `dispatch_extractions`) after a commit that
    queued invoices; coalesced, see EXTRACT_NUDGE_WINDOW_MS. False (logged) when the broker
    is unreachable: the invoices stay undispatched and beat's run dispatches them."""
    return coalesced_nudge(
        EXTRACT_NUDGE_KEY, EXTRACT_NUDGE_WINDOW_MS, DISPATCH_EXTRACT_TASK, EXTRACT_QUEUE
    )


# An upload asks and goes on; see BackgroundNudge. An idle process nudges at once; a busy
# one tells the dispatcher of an upload some 20 ms later at most, and talks to Redis for it
# 50 times a second at most, however many uploads it takes.
EXTRACT_NUDGE_SPACING = 0.02
_extraction_nudge = BackgroundNudge(
    nudge_extraction_dispatcher, name="extract-nudge", spacing=EXTRACT_NUDGE_SPACING
)


def nudge_extraction_dispatcher_soon() -> None:
    """nudge_extraction_dispatcher from this process's nudge thread: no round trip here."""
    _extraction_nudge.soon()
