"""`invex extract [--format json|jsonl] [--jobs N] [--timeout S] [--ocr-engine E] FILE...`:
extract invoices from files with no servers at all.

Each document runs in a worker process that the command can kill: a document that crashes
its worker or runs past the time limit becomes an error line and the run goes on with a
fresh worker. Workers are reused between documents, so OCR loads its model once per worker.

Output (stdout), in input order: jsonl prints one object per file as soon as it and all
files before it are done; json prints one array at the end. Each object is
`{"file": <path as given>, ...invoice fields}` or `{"file": ..., "error": {"code", "message"}}`.
Exit status 0 when every file succeeded, 1 otherwise, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, TextIO

from workers.extraction.ocr import DEFAULT_ENGINE, ENGINES, use_engine

DEFAULT_TIMEOUT_SECONDS = 300.0
# How long past its own deadline a worker may take to report the timeout itself before it
# is killed (the deadline is only checked between stages).
KILL_GRACE_SECONDS = 5.0


def main(argv: list[str]) -> int:
    args = _parse_args(argv)
    if args.jobs < 1 or args.timeout <= 0:
        print("invex extract: --jobs and --timeout must be positive", file=sys.stderr)
        return 2
    if args.ocr_engine:
        use_engine(args.ocr_engine)  # before the workers fork, so each inherits it
    try:
        results = run_batch(
            args.files,
            jobs=args.jobs,
            timeout=args.timeout,
            output_format=args.format,
            out=sys.stdout,
        )
    except BrokenPipeError:
        return _reader_gone()
    return 0 if all("error" not in result for result in results) else 1


def _reader_gone() -> int:
    """The reader closed the pipe (`invex extract ... | head -1`): stop quietly, as a tool
    killed by SIGPIPE does. stdout goes to /dev/null first, or the interpreter's last flush
    of the unwritten rest would print a BrokenPipeError at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="invex extract",
        description="Extract invoice fields from PDF, image and UBL/CII XML files.",
    )
    parser.add_argument(
        "--format",
        choices=("json", "jsonl"),
        default="json",
        help="a JSON array (default) or one JSON object per line",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="documents extracted in parallel (default: number of CPUs)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds one document may take (default: %(default)s)",
    )
    parser.add_argument(
        "--ocr-engine",
        choices=ENGINES,
        default=None,
        help=f"OCR engine for scans (default: INVEX_OCR_ENGINE, else {DEFAULT_ENGINE})",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    return parser.parse_args(argv)


def run_batch(
    paths: list[str], *, jobs: int, timeout: float, output_format: str, out: TextIO
) -> list[dict[str, Any]]:
    """Extract every path; print as `output_format` to `out`; return the result objects
    in input order."""
    from tqdm import tqdm  # noqa: PLC0415

    emitted: list[dict[str, Any]] = []

    def emit(result: dict[str, Any]) -> None:
        emitted.append(result)
        if output_format == "jsonl":
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush()

    with tqdm(
        total=len(paths), file=sys.stderr, unit="doc", disable=not sys.stderr.isatty()
    ) as progress:
        _WorkerPool(jobs=min(jobs, len(paths)), timeout=timeout).run(
            paths, emit=emit, done=lambda: progress.update(1)
        )
    if output_format == "json":
        json.dump(emitted, out, ensure_ascii=False, indent=2)
        out.write("\n")
        out.flush()
    return emitted


# --- one document, inside a worker process ----------------------------------------------


def extract_file(path: str, deadline: float | None) -> dict[str, Any]:
    """The output object for one file. Never raises: every failure becomes an error."""
    from workers.extraction.errors import ExtractionError  # noqa: PLC0415
    from workers.extraction.pipeline import extract_document  # noqa: PLC0415

    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        return _error(path, "unreadable_file", f"Cannot read the file: {exc.strerror or exc}.")
    try:
        extraction = extract_document(data, filename=os.path.basename(path), deadline=deadline)
    except ExtractionError as exc:
        return _error(path, exc.code, exc.message)
    except Exception as exc:  # noqa: BLE001 - one broken document must not end the run
        return _error(path, "internal_error", f"Extraction failed: {type(exc).__name__}: {exc}")
    return {
        "file": path,
        **extraction.fields,
        "pages": extraction.pages,
        "content_type": extraction.content_type,
    }


def _error(path: str, code: str, message: str) -> dict[str, Any]:
    return {"file": path, "error": {"code": code, "message": message}}


def _worker_loop(conn: Connection, timeout: float) -> None:
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        index, path = task
        conn.send((index, extract_file(path, time.monotonic() + timeout)))


# --- the parent: hand out documents, collect results, replace broken workers -------------


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: tuple[int, str] | None = None
    started: float = 0.0


@dataclass
class _WorkerPool:
    jobs: int
    timeout: float
    _context: Any = field(init=False)

    def __post_init__(self) -> None:
        # fork: workers start in milliseconds with the parent's modules already imported.
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_worker_loop, args=(child_end, self.timeout), daemon=True
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def _stop_worker(self, worker: _Worker, *, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def run(self, paths: list[str], *, emit: Any, done: Any) -> None:
        import workers.extraction.pipeline  # noqa: F401, PLC0415 - preload before forking

        pending = deque(enumerate(paths))
        finished: dict[int, dict[str, Any]] = {}
        next_to_emit = 0
        pool = [self._start_worker() for _ in range(max(self.jobs, 1))]
        try:
            while next_to_emit < len(paths):
                for worker in pool:
                    if worker.task is None and pending:
                        worker.task, worker.started = pending.popleft(), time.monotonic()
                        worker.conn.send(worker.task)
                busy = [worker for worker in pool if worker.task is not None]
                limit = self.timeout + KILL_GRACE_SECONDS
                wait_for = max(0.0, min(w.started + limit for w in busy) - time.monotonic())
                ready = wait([w.conn for w in busy], timeout=wait_for)
                for position, worker in enumerate(pool):
                    if worker.task is None:
                        continue
                    index, path = worker.task
                    if worker.conn in ready:
                        try:
                            received_index, result = worker.conn.recv()
                        except (EOFError, OSError):
                            finished[index] = _error(
                                path,
                                "internal_error",
                                "The extraction process crashed on this document.",
                            )
                            self._stop_worker(worker, kill=True)
                            pool[position] = self._start_worker()
                        else:
                            finished[received_index] = result
                            worker.task = None
                        done()
                    elif time.monotonic() - worker.started > limit:
                        finished[index] = _error(
                            path,
                            "extraction_timeout",
                            f"Extraction took longer than {self.timeout:g} seconds.",
                        )
                        self._stop_worker(worker, kill=True)
                        pool[position] = self._start_worker()
                        done()
                while next_to_emit in finished:
                    emit(finished.pop(next_to_emit))
                    next_to_emit += 1
        finally:
            for worker in pool:
                self._stop_worker(worker, kill=worker.task is not None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
