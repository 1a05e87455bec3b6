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
import queue
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
    """One helper and the requests it has not answered yet (used by one thread)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.pid = self._process.pid
        self._owner = os.getpid()
        self._answers: queue.SimpleQueue[tuple[int, list[str]] | None] = queue.SimpleQueue()
        self._sent: deque[int] = deque()
        self._next_id = 0
        # Reads answers as they come, so the helper never blocks writing one while this
        # process blocks writing it the next document.
        self._reader = threading.Thread(
            target=self._read_answers, name=f"ubl-validation-{self.pid}", daemon=True
        )
        self._reader.start()

    @property
    def waiting(self) -> int:
        """Requests sent and not yet taken."""
        return len(self._sent)

    def usable(self) -> bool:
        """Alive, started by this process (not inherited through a fork), nothing pending."""
        return self._owner == os.getpid() and self._process.poll() is None and not self._sent

    def send(self, xml: bytes) -> None:
        assert self._process.stdin is not None
        self._next_id += 1
        try:
            self._process.stdin.write(_HEADER.pack(self._next_id, len(xml)) + xml)
            self._process.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise ValidationProcessError("the UBL validation process has exited") from exc
        self._sent.append(self._next_id)

    def answered(self) -> bool:
        """The oldest request's answer (or the helper's end) can be taken without waiting."""
        return not self._answers.empty()

    def take(self) -> list[str]:
        """validate_ubl's answer to the oldest request not yet taken (waits for it)."""
        expected = self._sent.popleft()
        try:
            answer = self._answers.get(timeout=ANSWER_TIMEOUT_SECONDS)
        except queue.Empty:
            raise ValidationProcessError("the UBL validation process did not answer") from None
        if answer is None:
            self._answers.put(None)  # every later take fails the same way
            raise ValidationProcessError("the UBL validation process has exited")
        answered_id, problems = answer
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

    def _read_answers(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        while True:
            header = stdout.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            answered_id, size = _HEADER.unpack(header)
            body = stdout.read(size)
            if len(body) < size:
                break
            self._answers.put((answered_id, json.loads(body)))
        self._answers.put(None)


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
