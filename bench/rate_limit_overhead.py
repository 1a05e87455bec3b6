"""What rate limiting costs per request: the same API with the limits on and off, side by side.

    python bench/rate_limit_overhead.py [--requests 400] [--rounds 4] [--calls 5000]

1. Starts a private PostgreSQL and Redis (as tests/conftest.py does), applies the
   migrations, creates an organisation on the `enterprise` plan (3,000 requests a minute
   per key and per address, so the run stays under its limits and every request takes the
   full path: two moving windows checked and read, in one pipeline) and a live key.
2. Starts two Invex APIs under gunicorn with the arguments of tests/support.py and the
   Procfile, one with INVEX_RATE_LIMITS=1 and one with 0, against the same servers.
3. Sends `GET /v1/invoices?limit=1` sequentially over one keep-alive connection per server,
   alternating blocks of `--requests` between the two (`--rounds` each, so drift on the
   machine falls on both alike), and prints per server the mean, p50 and p99 latency and
   the gunicorn CPU time per request, then the differences (goal: under 1 ms).
4. Times `RateLimiter.hit` alone in this process, `--calls` times against the same Redis
   (what one request adds, without HTTP or Flask), and the Redis server's CPU per call.

`measure_rate_limit_overhead()` is steps 1 to 4 on servers already running: bench/api_load.py
calls it with its own.

Every process and server is stopped at the end, also on Ctrl-C or SIGTERM.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.measurement import BenchServers, cpu_seconds, percentile, run_main, tree  # noqa: E402
from tests.support import ServiceProcesses  # noqa: E402

PATH = "/v1/invoices?limit=1"


def timed_requests(client: httpx.Client, count: int) -> list[float]:
    """Milliseconds of each of `count` sequential requests."""
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get(PATH)
        timings.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
    return timings


def summary(timings: list[float]) -> tuple[float, float, float]:
    return statistics.fmean(timings), percentile(timings, 50), percentile(timings, 99)


def measure_rate_limit_overhead(
    database_url: str,
    redis_url: str,
    redis_pid: int,
    *,
    requests: int = 400,
    rounds: int = 4,
    calls: int = 5000,
) -> dict[str, float]:
    """Steps 1 (from the organisation on) to 4 against these (migrated) servers; prints the
    figures and returns the differences, limits on minus off, in ms per request."""
    from common import db
    from common.accounts.service import authenticate, create_api_key, create_org
    from common.credits.service import set_plan
    from common.plans import PLANS
    from common.ratelimit import RateLimiter

    db.configure(database_url)
    org = create_org("Bench GmbH")
    set_plan(org.id, "enterprise")
    token = create_api_key(org.id, livemode=True).secret

    servers: dict[str, ServiceProcesses] = {}
    clients: dict[str, httpx.Client] = {}
    try:
        for label, flag in (("limits on", "1"), ("limits off", "0")):
            service = ServiceProcesses(database_url, redis_url, INVEX_RATE_LIMITS=flag)
            servers[label] = service
            service.start_api()

        plan = PLANS["enterprise"]
        per_server = requests * rounds
        print(
            "Servers: private PostgreSQL and Redis; two Invex APIs under gunicorn"
            " (2 workers, gthread, 8 threads), INVEX_RATE_LIMITS=1 and =0."
        )
        print(
            f"Plan: enterprise ({plan.requests_per_minute}/min per key and"
            f" {plan.ip_requests_per_minute}/min per address: moving windows of up to"
            f" {per_server + 51} entries here, every request under the limit)."
        )
        print(
            f"Load: GET {PATH}, sequential, one keep-alive connection per server,"
            f" {rounds} alternating blocks of {requests} requests each."
        )

        timings: dict[str, list[float]] = {label: [] for label in servers}
        cpu: dict[str, float] = dict.fromkeys(servers, 0.0)
        clients.update(
            (
                label,
                httpx.Client(
                    base_url=s.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ),
            )
            for label, s in servers.items()
        )
        for client in clients.values():  # warm-up: connections, pools, imports
            timed_requests(client, 50)
        for _ in range(rounds):
            for label, client in clients.items():
                api = servers[label].api
                assert api is not None
                pids = tree(api.pid)
                before = cpu_seconds(pids)
                timings[label] += timed_requests(client, requests)
                cpu[label] += cpu_seconds(pids) - before
        last = clients["limits on"].get(PATH)
        print(
            "A limited response's headers: "
            + ", ".join(f"{k}: {v}" for k, v in last.headers.items() if k.startswith("x-ratelimit"))
        )
    finally:
        for client in clients.values():
            client.close()
        for service in servers.values():
            service.stop()

    print()
    print(
        f"{'server':<11} {'requests':>8} {'mean ms':>8} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'CPU ms/req':>10}"
    )
    figures = {}
    for label in servers:
        mean, p50, p99 = summary(timings[label])
        cpu_per_request = cpu[label] / len(timings[label]) * 1000
        figures[label] = (mean, p50, p99, cpu_per_request)
        print(
            f"{label:<11} {len(timings[label]):>8} {mean:>8.3f} {p50:>7.3f} {p99:>7.3f}"
            f" {cpu_per_request:>10.3f}"
        )
    on, off = figures["limits on"], figures["limits off"]
    difference = {
        "mean_ms": on[0] - off[0],
        "p50_ms": on[1] - off[1],
        "p99_ms": on[2] - off[2],
        "cpu_ms": on[3] - off[3],
    }
    print(
        f"{'difference':<11} {'':>8} {difference['mean_ms']:>+8.3f} {difference['p50_ms']:>+7.3f}"
        f" {difference['p99_ms']:>+7.3f} {difference['cpu_ms']:>+10.3f}"
        "   (goal: under 1 ms per request)"
    )

    # The limiter alone, in this process, against the same Redis.
    limiter = RateLimiter(redis_url)
    principal = authenticate(token)
    for _ in range(100):
        limiter.hit(dataclasses.replace(principal, key_id="key_warm"), "192.0.2.1")
    redis_pids = tree(redis_pid)
    redis_before = cpu_seconds(redis_pids)
    began = time.perf_counter()
    hits = []
    for n in range(calls):
        # a fresh key and address per 2,000 calls keep every window under the limit
        chunk = n // 2000
        caller = dataclasses.replace(principal, key_id=f"key_bench{chunk}")
        t = time.perf_counter()
        limiter.hit(caller, f"192.0.2.{chunk + 2}")
        hits.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - began
    redis_cpu = cpu_seconds(redis_pids) - redis_before
    mean, p50, p99 = summary(hits)
    print()
    print(
        f"RateLimiter.hit alone ({calls} calls, key + address, one pipeline):"
        f" mean {mean:.3f} ms, p50 {p50:.3f} ms, p99 {p99:.3f} ms"
        f" ({calls / wall:,.0f} calls/s on one thread); Redis CPU"
        f" {redis_cpu / calls * 1e6:.0f} us per call"
    )
    difference["hit_mean_ms"] = mean
    return difference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per block")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per server")
    parser.add_argument("--calls", type=int, default=5000, help="direct RateLimiter.hit calls")
    args = parser.parse_args()
    with BenchServers(persistent_redis=True) as servers:
        from common.migrations import apply_migrations

        apply_migrations(servers.database_url)
        print(
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}), load average at start {os.getloadavg()[0]:.2f}"
        )
        measure_rate_limit_overhead(
            servers.database_url,
            servers.redis_url,
            servers.redis_pid,
            requests=args.requests,
            rounds=args.rounds,
            calls=args.calls,
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
