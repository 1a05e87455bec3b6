"""Server time of the review app's inbox and invoice page with a large organisation.

    python bench/ui_speed.py [--invoices 100000] [--requests 200]
    python bench/ui_speed.py --invoices 1000000      # the issue's goal: p95 under 100 ms

Seeds a private PostgreSQL with bench/invoice_list_scale.py's generator (one organisation
holding `--invoices` live invoices that look like extraction output, plus noise), starts
Invex under gunicorn as the Procfile does (rate limits off), signs a member in through the
sign-in form, then for each page: a warm-up, then `--requests` sequential requests over one
keep-alive connection on loopback; prints p50/p95/max. The time is the client's, on the
same machine: the server's time plus a loopback round trip.

Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.invoice_list_scale import pick_queries, seed_big_org  # noqa: E402
from bench.measurement import BenchServers, percentile, run_main  # noqa: E402
from tests.support import ServiceProcesses  # noqa: E402
from tests.support_web import PASSWORD, add_member  # noqa: E402

INBOX_PARAMETERS = {
    "status",
    "review_status",
    "document_type",
    "vendor",
    "currency",
    "date_from",
    "date_to",
    "cursor",
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in_client(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    page = client.get("/signin").text
    token = CSRF_INPUT.search(page)
    assert token is not None
    answer = client.post(
        "/signin", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in: {answer.status_code}")
    return client


def time_pages(client: httpx.Client, paths: list[str], count: int) -> list[float]:
    for path in paths[:5]:  # warm-up
        client.get(path)
    timings = []
    for number in range(count):
        path = paths[number % len(paths)]
        began = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return timings


def sample_invoice_ids(database_url: str, org_id: str, count: int) -> list[str]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select id from invoices tablesample system (1)"
            " where org_id = %s and livemode and status = 'succeeded' limit %s",
            (org_id, count),
        ).fetchall()
    ids = [row[0] for row in rows]
    random.Random(3).shuffle(ids)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per page, after warm-up")
    args = parser.parse_args()
    with BenchServers() as servers:
        from common.migrations import apply_migrations

        apply_migrations(servers.database_url)
        print(
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, Python"
            f" {platform.python_version()}), load average {os.getloadavg()[0]:.2f}; Invex under"
            " gunicorn (2 workers, gthread, 8 threads); requests sequential, one connection."
        )
        big = seed_big_org(servers.database_url, args.invoices)
        add_member(big.org_id, "bench@example.com", "owner")
        queries = {q.label: q.params for q in pick_queries(servers.database_url, big.org_id)}
        ids = sample_invoice_ids(servers.database_url, big.org_id, 200)
        service = ServiceProcesses(servers.database_url, servers.redis_url, INVEX_RATE_LIMITS="0")
        servers.stop_later(service.stop)
        service.start_api()
        client = signed_in_client(service.base_url, "bench@example.com")
        pages: dict[str, list[str]] = {
            "inbox, newest 50": ["/inbox"],
            "inbox, review_status=received": ["/inbox?review_status=received"],
            "invoice page (fields, history, next)": [f"/invoices/{i}" for i in ids],
        }
        for label, params in queries.items():
            if (
                params and set(params) <= INBOX_PARAMETERS
            ):  # the list bench's, as the inbox has them
                pages[f"inbox, {label}"] = [f"/inbox?{httpx.QueryParams(params)}"]
        print(f"\n{'page':<62} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, paths in pages.items():
            timings = time_pages(client, paths, args.requests)
            print(
                f"{label[:62]:<62} {percentile(timings, 50):>8.1f}"
                f" {percentile(timings, 95):>8.1f} {max(timings):>8.1f}"
            )
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
