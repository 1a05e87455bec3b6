"""`invex watch DIR --org ORG`: files dropped in a folder (by a scanner, a sync client)
become invoices of the organisation.

The folder is polled with os.scandir (no inotify: it works on network shares and in
containers alike). A file is taken once its size and modification time have not changed
for `settle` seconds, so a scanner still writing it is left alone. It is uploaded through
the invoice service with an idempotency key made from its content's SHA-256, then moved to
DIR/done/, or to DIR/failed/ with a `<name>.error.txt` note beside it. A watcher killed
between the upload and the move uploads nothing twice: at its restart the same key answers
with the invoice it made, and the file is moved then. The same file dropped twice makes one
invoice too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from common.accounts.service import Principal
from common.config import get_settings
from common.documents import SNIFF_BYTES, sniff_content_type
from common.errors import InvexError, MonthlyLimitReached, ServiceUnavailable
from common.invoices import service as invoices

log = logging.getLogger(__name__)

DONE = "done"
FAILED = "failed"
# Temporary: the file stays where it is and is tried again after this many seconds.
RETRY_AFTER_SECONDS = 60


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic moment it was first seen at this size and mtime
    retry_at: float = 0.0


@dataclass(frozen=True)
class Outcome:
    path: Path  # where the file is now
    invoice_id: str | None
    error: str | None


class FolderWatcher:
    def __init__(
        self,
        directory: Path,
        principal: Principal,
        *,
        settle: float = 2.0,
    ) -> None:
        self.directory = directory
        self.principal = principal
        self.settle = settle
        self._seen: dict[str, _Seen] = {}
        for name in (DONE, FAILED):
            (directory / name).mkdir(parents=True, exist_ok=True)

    def poll(self, now: float | None = None) -> list[Outcome]:
        """One look at the folder: take every file that has settled."""
        now = time.monotonic() if now is None else now
        present: set[str] = set()
        outcomes = []
        with os.scandir(self.directory) as entries:
            candidates = [e for e in entries if _is_candidate(e)]
        for entry in candidates:
            present.add(entry.name)
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone since the listing
            seen = self._seen.get(entry.name)
            if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self._seen[entry.name] = _Seen(stat.st_size, stat.st_mtime_ns, now)
                continue  # new or still changing
            if now - seen.since < self.settle or now < seen.retry_at:
                continue
            outcome = self.take(Path(entry.path))
            if outcome is None:
                seen.retry_at = now + RETRY_AFTER_SECONDS
                continue
            del self._seen[entry.name]
            outcomes.append(outcome)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return outcomes

    def run(self, interval: float = 0.5) -> None:
        """Poll until interrupted (SIGINT, SIGTERM via KeyboardInterrupt/SystemExit)."""
        log.info("watching %s for %s", self.directory, self.principal.org_id)
        while True:
            self.poll()
            time.sleep(interval)

    def take(self, path: Path) -> Outcome | None:
        """Upload one settled file and move it; None when the failure is temporary (the
        database is down, the credits ran out) and the file stays to be tried again."""
        try:
            invoice_id = self._upload(path)
            moved = _move(path, self.directory / DONE)
        except (ServiceUnavailable, MonthlyLimitReached) as exc:
            log.warning("%s: %s; trying again in %d s", path.name, exc.message, RETRY_AFTER_SECONDS)
            return None
        except _Refused as exc:
            return self._fail(path, str(exc))
        except InvexError as exc:
            return self._fail(path, f"{exc.code}: {exc.message}")
        except OSError as exc:
            # unreadable, gone, or not movable: tried again later (a second upload of the
            # same bytes answers with the same invoice)
            log.warning("%s: %s; trying again in %d s", path.name, exc, RETRY_AFTER_SECONDS)
            return None
        log.info("%s: invoice %s", path.name, invoice_id)
        return Outcome(moved, invoice_id, None)

    def _upload(self, path: Path) -> str:
        limit = get_settings().max_upload_bytes
        with path.open("rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise _Refused(f"file_too_large: the file is larger than {limit} bytes")
        if not data:
            raise _Refused("validation_error: the file is empty")
        content_type = sniff_content_type(data[:SNIFF_BYTES])
        if content_type is None:
            raise _Refused(
                "unsupported_file_type: not a PDF, PNG, JPEG, TIFF, WebP or e-invoice XML"
            )
        digest = hashlib.sha256(data).hexdigest()
        invoice = invoices.create_invoice(
            self.principal,
            file_name=path.name[:255],
            content_type=content_type,
            data=data,
            metadata={"folder_file": path.name[:500]},
            # the content's hash: a restart, or the same file again, returns the same invoice
            idempotency_key=f"folder:sha256:{digest}",
            source_channel="folder",
        )
        return invoice.id

    def _fail(self, path: Path, reason: str) -> Outcome | None:
        try:
            moved = _move(path, self.directory / FAILED)
            moved.with_name(moved.name + ".error.txt").write_text(reason + "\n")
        except OSError as exc:
            log.warning("%s: failed (%s), and cannot be moved: %s", path.name, reason, exc)
            return None
        log.warning("%s: failed: %s", path.name, reason)
        return Outcome(moved, None, reason)


class _Refused(Exception):
    """The file can never become an invoice; the message is the note."""


def _is_candidate(entry: os.DirEntry) -> bool:
    # dot files and ~ files: editors' and sync clients' temporary files
    name = entry.name
    if name.startswith(".") or name.endswith("~"):
        return False
    return entry.is_file(follow_symlinks=False)


def _move(path: Path, folder: Path) -> Path:
    """Move into `folder`, never over a file already there (a second "scan.pdf")."""
    target = folder / path.name
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem} ({counter}){path.suffix}"
    os.replace(path, target)
    return target
