"""What the benchmarks share: private servers that are always stopped, CPU use of process
trees and of the machine (from /proc), percentiles, and turning SIGTERM into the same
clean-up path as Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_main(main: Callable[[], int]) -> int:
    """`main()`'s exit status; 130 after Ctrl-C or SIGTERM (clean-up has run by then)."""
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        return main()
    except KeyboardInterrupt:
        print("\ninterrupted; everything stopped", file=sys.stderr)
        return 130


class BenchServers:
    """A private PostgreSQL and Redis for one bench run (as tests/conftest.py starts them:
    `common.embedded`, under a 0755 directory in /tmp), their URLs in the environment, and
    whatever the run starts beside them (`stop_later`). Everything is stopped in reverse
    order on the way out, also after Ctrl-C or SIGTERM (see `run_main`)."""

    def __init__(
        self, prefix: str = "invex-bench-", *, durable: bool = False, persistent_redis: bool = False
    ) -> None:
        from common.embedded import PrivatePostgres, PrivateRedis
        from tests.support import private_root

        self.root = private_root(prefix)
        self.postgres = PrivatePostgres(self.root, durable=durable)
        self.redis = PrivateRedis(self.root, persistent=persistent_redis)
        self._stoppers: list[Callable[[], Any]] = []
        self.database_url = self.redis_url = ""

    def __enter__(self) -> BenchServers:
        try:
            self._stoppers.append(self.postgres.stop)
            self.database_url = self.postgres.start()
            self._stoppers.append(self.redis.stop)
            self.redis_url = self.redis.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        os.environ.update(INVEX_DATABASE_URL=self.database_url, INVEX_REDIS_URL=self.redis_url)
        from common.config import get_settings

        get_settings.cache_clear()
        return self

    @property
    def redis_pid(self) -> int:
        return self.redis._process.pid

    @property
    def postmaster_pid(self) -> int:
        return int((self.postgres.data / "postmaster.pid").read_text().split()[0])

    def upload_token(self, *, livemode: bool = True) -> str:
        """Migrate the database and return the API key of a new organisation, set up to
        measure the upload path rather than the plan: no rate limits, credits to spare
        (bench/rate_limit_overhead.py measures the limits). A test-mode key takes no page
        credits, so no upload waits on the organisation's credit balance."""
        os.environ.update(INVEX_RATE_LIMITS="0", INVEX_PLAN_LIMITS="free.monthly_pages=1000000000")
        from common import db
        from common.accounts.service import create_api_key, create_org
        from common.config import get_settings
        from common.migrations import apply_migrations

        get_settings.cache_clear()
        apply_migrations(self.database_url)
        db.configure(self.database_url)
        return create_api_key(create_org("Bench GmbH").id, livemode=livemode).secret

    def stop_later(self, stop: Callable[[], Any]) -> None:
        self._stoppers.append(stop)

    def stop_now(self, stop: Callable[[], Any]) -> None:
        self._stoppers.remove(stop)
        stop()

    def __exit__(self, *exc: object) -> None:
        # A second Ctrl-C must not skip the clean-up.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for stop in reversed(self._stoppers):
                try:
                    stop()
                except Exception as error:  # noqa: BLE001 - keep stopping the rest
                    print(f"cleanup: {error}", file=sys.stderr)
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous)


def children(pid: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in children(pid):
        pids += tree(child)
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of a process tree (`tree(root)`), those of its exited processes too.

    A live process counts its own time; one that has exited counts in its parent's
    (cutime, cstime, once waited for). Without that, a PostgreSQL backend or autovacuum
    worker that ended during a measurement took its whole life's CPU out of the total, which
    then could even shrink."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores; /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
