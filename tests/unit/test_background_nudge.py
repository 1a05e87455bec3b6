"""BackgroundNudge: a request asks and goes on; the process's nudge thread runs the nudge
once for all who asked meanwhile, and always after the last of them asked."""

from __future__ import annotations

import threading
import time

from common.taskqueue import BackgroundNudge
from tests.support import wait_until


class Recorder:
    """A nudge that notes when each run started and takes `seconds` (a Redis round trip)."""

    def __init__(self, seconds: float = 0.0, fail_first: bool = False) -> None:
        self.starts: list[float] = []
        self.seconds = seconds
        self.fail_first = fail_first

    def __call__(self) -> bool:
        self.starts.append(time.monotonic())
        if self.fail_first and len(self.starts) == 1:
            raise RuntimeError("a defect in the nudge")
        time.sleep(self.seconds)
        return True


def test_an_idle_process_nudges_at_once():
    nudge = Recorder()
    asked = time.monotonic()

    BackgroundNudge(nudge, name="test-nudge", spacing=0.5).soon()

    wait_until(lambda: nudge.starts, timeout=2)
    assert nudge.starts[0] - asked < 0.25  # not held back by the spacing


def test_asks_during_a_run_share_one_later_run():
    nudge = Recorder(seconds=0.05)
    background = BackgroundNudge(nudge, name="test-nudge", spacing=0.02)
    last_ask = 0.0

    def ask_often() -> None:
        nonlocal last_ask
        for _ in range(200):
            background.soon()
            last_ask = time.monotonic()
            time.sleep(0.001)

    askers = [threading.Thread(target=ask_often) for _ in range(4)]
    began = time.monotonic()
    for t in askers:
        t.start()
    for t in askers:
        t.join()
    wait_until(lambda: nudge.starts and nudge.starts[-1] >= last_ask, timeout=2)

    # 800 asks; a run takes 50 ms and the next waits 20 ms more: one run per 70 ms of asking
    # (plus the first and the last), not one per ask
    assert 1 < len(nudge.starts) <= (last_ask - began) / 0.07 + 2
    # and the asks' order held: the last run began after the last ask
    assert nudge.starts[-1] >= last_ask


def test_a_failing_nudge_does_not_end_the_thread():
    nudge = Recorder(fail_first=True)
    background = BackgroundNudge(nudge, name="test-nudge", spacing=0.01)

    background.soon()
    wait_until(lambda: len(nudge.starts) == 1, timeout=2)
    background.soon()

    wait_until(lambda: len(nudge.starts) == 2, timeout=2)


def test_asks_left_at_exit_are_nudged_by_the_exit_hook():
    nudge = Recorder()
    background = BackgroundNudge(nudge, name="test-nudge", spacing=0.01)
    background.run_if_asked()  # nothing asked: nothing run
    assert nudge.starts == []

    background.soon()
    wait_until(lambda: nudge.starts, timeout=2)
    background.run_if_asked()  # the thread answered it already: not again

    assert len(nudge.starts) == 1
