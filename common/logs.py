"""Logging for every process: one handler on the root logger, text or JSON lines
(INVEX_LOG_FORMAT), and the IDs of the work at hand on every line.

The IDs live in context variables: the API binds `request_id` (and `org_id` once the key
is known, `invoice_id` when a request names or makes one), a task binds the ID it was given.
Context variables, not thread-locals, so a thread pool's threads and a request's own never
mix their IDs.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

# The IDs a line may carry, in the order a JSON line lists them.
CONTEXT_KEYS = ("request_id", "org_id", "invoice_id", "export_id")
_context: ContextVar[dict[str, str]] = ContextVar("invex_log_context", default={})  # noqa: B039 - never mutated: bind() replaces it

HANDLER_NAME = "invex"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s%(context)s"


def bind(**ids: str | None) -> None:
    """Add IDs to this context's lines (None leaves a key out)."""
    _context.set({**_context.get(), **{k: v for k, v in ids.items() if v}})


def clear() -> None:
    """Forget every ID (a request or a task has ended)."""
    _context.set({})


def current() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the bound IDs on each record (`record.ids`) and, for the text format, as a
    ` [key=value ...]` suffix (`record.context`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _context.get()
        record.ids = ids
        record.context = " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]" if ids else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, process, message, the bound IDs,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "pid": record.process,
            "message": record.getMessage(),
        }
        ids = getattr(record, "ids", None) or {}
        for key in CONTEXT_KEYS:
            if key in ids:
                line[key] = ids[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, log_format: str) -> None:
    """Put one handler on the root logger, on stderr, in `log_format` ("text" or "json"),
    replacing the one an earlier call put there (Celery's setup, an app made twice) and
    leaving any other (a test's log capture) alone."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
