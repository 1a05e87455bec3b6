"""`validate_ubl` in a helper process, so a `ubl` export checks documents on a second core
while it builds the next ones (Saxon holds the GIL, so a thread would not).

The helper is `python -m common.invoices.ubl_validation_process`. It reads requests from
stdin (8-byte id, 4-byte length, the UBL XML) and answers each in order on stdout (the same
id, a length, validate_ubl's list of strings as JSON). It ends at EOF on stdin, which also
comes when its parent dies, so a killed export worker leaves no helper behind.

Helpers are started at a process's first use and reused by later exports, as the compiled
schematron is; one left with unanswered requests (an export that stopped half way) is
replaced rather than trusted to line its answers up with the next export's documents.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import threading
from collections import deque
from typing import BinaryIO

_HEADER = struct.Struct(">QI")
# A document is validated in milliseconds; an answer this late means the helper is stuck.
ANSWER_TIMEOUT_SECONDS = 120


class ValidationProcessError(RuntimeError):
    """The helper died, hung or answered out of turn: the export must fail, not guess."""


class ValidationProcess:
    """One helper and the requests it has not answered yet (used by one thread).

    No reader thread: a thread woken for each answer would take the GIL from the
    export's thread, which on a busy machine then waits for that thread to be scheduled.
    Instead each call moves whatever the pipes take: writes never block (the document
    goes out in pieces while answers are read in between), so the helper never blocks
    writing an answer while this process blocks writing it the next document."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self.pid = self._process.pid
        self._owner = os.getpid()
        self._requests = self._process.stdin.fileno()
        self._answers = self._process.stdout.fileno()
        os.set_blocking(self._requests, False)
        self._unread = bytearray()  # answer bytes read, not yet a whole answer
        self._ready: deque[tuple[int, list[str]]] = deque()
        self._ended = False
        self._sent: deque[int] = deque()
        self._next_id = 0

    @property
    def waiting(self) -> int:
        """Requests sent and not yet taken."""
        return len(self._sent)

    def usable(self) -> bool:
        """Alive, started by this process (not inherited through a fork), nothing pending."""
        return self._owner == os.getpid() and self._process.poll() is None and not self._sent

    def send(self, xml: bytes) -> None:
        self._next_id += 1
        pending = memoryview(_HEADER.pack(self._next_id, len(xml)) + xml)
        while pending:
            listen = [] if self._ended else [self._answers]
            readable, writable, _ = select.select(listen, [self._requests], [])
            if readable:
                self._read()
            if writable:
                try:
                    pending = pending[os.write(self._requests, pending) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise ValidationProcessError("the UBL validation process has exited") from None
        self._sent.append(self._next_id)

    def answered(self) -> bool:
        """The oldest request's answer (or the helper's end) can be taken without waiting."""
        if not self._ready and not self._ended:
            readable, _, _ = select.select([self._answers], [], [], 0)
            if readable:
                self._read()
        return bool(self._ready) or self._ended

    def take(self) -> list[str]:
        """validate_ubl's answer to the oldest request not yet taken (waits for it)."""
        expected = self._sent.popleft()
        while not self._ready:
            if self._ended:
                raise ValidationProcessError("the UBL validation process has exited")
            readable, _, _ = select.select([self._answers], [], [], ANSWER_TIMEOUT_SECONDS)
            if not readable:
                raise ValidationProcessError("the UBL validation process did not answer")
            self._read()
        answered_id, problems = self._ready.popleft()
        if answered_id != expected:
            raise ValidationProcessError(
                f"the UBL validation process answered request {answered_id}, not {expected}"
            )
        return problems

    def close(self) -> None:
        if self._owner != os.getpid():
            return  # a forked copy: the helper belongs to the parent
        assert self._process.stdin is not None
        try:
            self._process.stdin.close()
            self._process.wait(timeout=5)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()

    def _read(self) -> None:
        """Read what the answer pipe holds (it is readable) into whole answers."""
        chunk = os.read(self._answers, 1 << 16)
        if not chunk:
            self._ended = True
            return
        self._unread += chunk
        while len(self._unread) >= _HEADER.size:
            answered_id, size = _HEADER.unpack_from(self._unread)
            if len(self._unread) < _HEADER.size + size:
                break
            body = bytes(self._unread[_HEADER.size : _HEADER.size + size])
            del self._unread[: _HEADER.size + size]
            self._ready.append((answered_id, json.loads(body)))


_helpers: list[ValidationProcess] = []
_helpers_lock = threading.Lock()


def validation_processes(count: int) -> list[ValidationProcess]:
    """`count` idle helpers for one export, started (or replaced) as needed."""
    with _helpers_lock:
        for helper in list(_helpers):
            if not helper.usable():
                _helpers.remove(helper)
                helper.close()
        while len(_helpers) < count:
            _helpers.append(ValidationProcess())
        return _helpers[:count]


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The helper's loop: answer each request until EOF."""
    from common.invoices.ubl_validation import validate_ubl, warm_up  # noqa: PLC0415

    warm_up()
    while True:
        header = requests.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        request_id, size = _HEADER.unpack(header)
        body = json.dumps(validate_ubl(requests.read(size))).encode()
        answers.write(_HEADER.pack(request_id, len(body)) + body)
        answers.flush()


if __name__ == "__main__":
    # Answers get a private copy of stdout; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, answers)
