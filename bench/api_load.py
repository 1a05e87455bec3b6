"""Upload throughput and upload-to-succeeded latency of the Invex API, beside a bare floor.

    python bench/api_load.py [--duration 10] [--warmup 3] [--rounds 2] [--clients 8,32]
                             [--latency-uploads 50] [--durable] [--profile SECONDS]
                             [--skip-ratelimit] [--skip-list-scale]
                             [--list-invoices 1000000] [--list-requests 200]

What it does, in one run:

1. Starts a private PostgreSQL and Redis (as tests/conftest.py does: `common.embedded`, under
   a 0755 directory in /tmp; PostgreSQL with fsync off like the tests unless `--durable`),
   applies the migrations, creates an organisation and a live API key.
2. Starts Invex under gunicorn exactly as tests/support.py and the Procfile do (2 workers,
   gthread, 8 threads each) and, with the very same gunicorn arguments,
   `bench/bare_upload_app.py`: Flask that reads the same multipart upload and inserts the
   bytes into a table with psycopg 3 + psycopg_pool, one insert per request.
3. Loads `POST /v1/invoices` and the bare `POST /upload` with wrk at each client count,
   alternating Invex, bare, Invex, bare (`--rounds`), each run a warm-up, a VACUUM ANALYZE
   (as pgbench does; see `settle`), then a fixed duration, and prints uploads/s, p50/p99
   latency, the CPU seconds each party used, and the Invex/bare ratio (goal: >= 0.5);
   also the CPU milliseconds per upload of each server and of PostgreSQL, steadier than
   rates on a shared machine. A run in which one gunicorn worker accepted all of wrk's
   connections is done again (`lopsided`), for either server.
   No extraction worker runs during this phase (uploads only nudge the dispatcher, which
   nothing runs: the invoices stay queued, undispatched), so the two servers compete only
   with PostgreSQL and wrk for the 2 cores.
4. Starts a fresh Invex API and a Celery extraction worker (`-c 2`, the Procfile default)
   on another Redis database, and measures upload-to-`succeeded` latency sequentially:
   with `wait=30` on the upload (what a client sees), with a client polling GET every 5 ms,
   and from the rows' own timestamps (created_at -> updated_at). Goal: p50 < 150 ms.
   Then the work uploads leave to the extraction tier (a coalesced nudge replaced one Celery
   message per upload): the dispatcher's CPU per invoice, on 2,000 of the load phase's.
5. `--profile S` adds a py-spy recording of both Invex gunicorn workers during one more
   32-client run of S seconds and prints where request time and CPU go: wall time, samples
   of threads on a core (which py-spy cannot tell from threads waiting for the GIL, so a
   round trip's wait shows up there) and samples of the thread holding the GIL (`--gil`:
   the CPU spent in Python, the one to read for what to make cheaper).
6. Rate limiting on against off: bench/rate_limit_overhead.py's measurement on these
   servers, its overhead per request (goal: under 1 ms). `--skip-ratelimit` leaves it out.
7. `GET /v1/invoices` at scale: bench/invoice_list_scale.py's run on this database, an
   organisation of `--list-invoices` invoices seeded with COPY, p50/p99 and the plan of
   each filter (goal: p99 under 20 ms). `--skip-list-scale` leaves it out.

The load generator is wrk (`apt-get install -y wrk`) with `bench/wrk_upload.lua`: one
thread (`-t1`), so it takes at most one of the 2 cores, and in practice a few percent of
one (its CPU seconds are printed), which a Python client could not promise. Every request
carries a fresh Idempotency-Key and unique bytes (a comment after the PDF's %%EOF), so no
request is an idempotent replay or a duplicate of another. Latency figures are wrk's
(closed loop: each connection sends its next request when the previous one answered).

Every process and server is stopped at the end, also on Ctrl-C or SIGTERM.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.bare_upload_app import CREATE_TABLE  # noqa: E402
from bench.invoice_list_scale import run_invoice_list_scale  # noqa: E402
from bench.measurement import (  # noqa: E402
    BenchServers,
    children,
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    run_main,
    tree,
)
from bench.rate_limit_overhead import measure_rate_limit_overhead  # noqa: E402
from tests.support import (  # noqa: E402
    ServiceProcesses,
    free_port,
    gunicorn_args,
    make_text_pdf,
    wait_until,
)

LUA_SCRIPT = ROOT / "bench" / "wrk_upload.lua"


# --- processes ---------------------------------------------------------------------------


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "(gone)"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:110]


class BareServer:
    """bench/bare_upload_app.py under gunicorn with Invex's gunicorn arguments."""

    def __init__(self, database_url: str, gunicorn: list[str]) -> None:
        self.gunicorn = gunicorn
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ, "BARE_DATABASE_URL": database_url}

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.bare_upload_app:app",
                "--bind",
                f"127.0.0.1:{self.port}",
                *self.gunicorn,
            ],
            cwd=ROOT,
            env=self.env,
        )
        wait_until(self._answers, 30, message="bare gunicorn did not start")

    def _answers(self) -> bool:
        try:
            httpx.get(f"{self.base_url}/", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


# --- load --------------------------------------------------------------------------------


def run_wrk(target: dict, pdf_path: Path, *, clients: int, seconds: float) -> dict:
    """One wrk run; its result line, plus the CPU seconds wrk itself used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA_SCRIPT),
            target["url"],
            "--",
            str(pdf_path),
            target["path"],
            target["token"],
            secrets.token_hex(6),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"^WRK_RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    result = json.loads(match[1])
    result["wrk_cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def measure(
    target: dict,
    postgres_pids,
    pdf_path: Path,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    database_url: str,
) -> dict:
    if warmup > 0:
        run_wrk(target, pdf_path, clients=clients, seconds=warmup)
    settle(database_url)
    server_pids = tree(target["pid"])
    workers = children(target["pid"])
    repeats = 0
    while True:
        pg_pids = postgres_pids()
        server_cpu, pg_cpu = cpu_seconds(server_pids), cpu_seconds(pg_pids)
        before = [cpu_seconds([w]) for w in workers]
        machine = machine_busy_seconds()
        result = run_wrk(target, pdf_path, clients=clients, seconds=seconds)
        machine = machine_busy_seconds() - machine
        worker_cpu = [cpu_seconds([w]) - b for w, b in zip(workers, before, strict=True)]
        if not lopsided(worker_cpu) or repeats == LOPSIDED_RETRIES:
            break
        repeats += 1
    result["repeats"] = repeats
    result["server_cpu"] = cpu_seconds(server_pids) - server_cpu
    result["postgres_cpu"] = cpu_seconds(postgres_pids()) - pg_cpu
    # Everything else on the machine (other sessions, Redis, this script): noise to report.
    result["other_cpu"] = max(
        0.0, machine - result["server_cpu"] - result["postgres_cpu"] - result["wrk_cpu"]
    )
    seconds_run = result["duration_us"] / 1e6
    result["rate"] = result["requests"] / seconds_run
    result["errors"] = sum(
        result[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    for key in ("wrk_cpu", "server_cpu", "postgres_cpu", "other_cpu"):
        result[key + "_share"] = result[key] / seconds_run  # cores in use on average
    return result


# wrk opens its connections at once and keeps them; gunicorn's workers share one listening
# socket, and now and then one worker accepts every connection before the other wakes. That
# run measures one process on one core (about 0.9 cores busy, half the rate), for Invex and
# the bare endpoint alike (seen about one run in five of each), not the application: it is
# repeated, up to this many times, and the table says how often.
LOPSIDED_RETRIES = 3
LOPSIDED_SHARE = 0.15


def lopsided(worker_cpu: list[float]) -> bool:
    """One gunicorn worker did (almost) all the work of the run."""
    total = sum(worker_cpu)
    return len(worker_cpu) > 1 and total > 0 and min(worker_cpu) < LOPSIDED_SHARE * total


def settle(database_url: str) -> None:
    """VACUUM ANALYZE between the warm-up and the run, as pgbench does before each of its
    runs: the run then meets the statistics a live database has, whoever wrote the rows.

    The tables start empty, and a plan is kept per connection from the sixth execution of
    a statement until the table's statistics change. Planned on a near-empty table, a
    lookup reads the table through (the duplicate lookup of an upload walked every invoice
    of the organisation), and the cost per upload grew with every run until autovacuum's
    first ANALYZE (after up to a minute) replaced the plans. A live database has
    statistics; a benchmark's first minute did not."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")


def print_load_table(results: list[tuple[str, int, int, dict]]) -> None:
    print(
        f"{'server':<7} {'clients':>7} {'round':>5} {'uploads/s':>10} {'p50 ms':>8}"
        f" {'p99 ms':>8} {'errors':>6} {'cores: server':>14} {'postgres':>9} {'wrk':>6}"
        f" {'other':>6}  {'CPU ms per upload: server':>25} {'postgres':>9} {'repeats':>7}"
    )
    for name, clients, rnd, r in results:
        print(
            f"{name:<7} {clients:>7} {rnd:>5} {r['rate']:>10.0f} {r['p50_us'] / 1000:>8.1f}"
            f" {r['p99_us'] / 1000:>8.1f} {r['errors']:>6} {r['server_cpu_share']:>14.2f}"
            f" {r['postgres_cpu_share']:>9.2f} {r['wrk_cpu_share']:>6.2f}"
            f" {r['other_cpu_share']:>6.2f}  {per_upload_ms(r, 'server_cpu'):>25.2f}"
            f" {per_upload_ms(r, 'postgres_cpu'):>9.2f} {r['repeats']:>7}"
        )


def per_upload_ms(result: dict, key: str) -> float:
    """CPU milliseconds per upload: steadier than rates when the machine is shared."""
    return result[key] / max(result["requests"], 1) * 1000


def summarise_load(results, clients_list) -> None:
    print("\nPer client count (median over rounds):")
    print(
        f"{'clients':>7} {'Invex up/s':>10} {'bare up/s':>10} {'ratio':>6}"
        f" {'Invex p50/p99 ms':>17} {'bare p50/p99 ms':>16}"
    )
    cpu = {}
    for clients in clients_list:
        row = {}
        for name in ("invex", "bare"):
            runs = [r for n, c, _, r in results if n == name and c == clients]
            row[name] = (
                statistics.median(r["rate"] for r in runs),
                statistics.median(r["p50_us"] for r in runs) / 1000,
                statistics.median(r["p99_us"] for r in runs) / 1000,
            )
            cpu[name, clients] = statistics.median(
                per_upload_ms(r, "server_cpu") + per_upload_ms(r, "postgres_cpu") for r in runs
            )
        ratio = row["invex"][0] / row["bare"][0]
        print(
            f"{clients:>7} {row['invex'][0]:>10.0f} {row['bare'][0]:>10.0f} {ratio:>5.2f}x"
            f" {row['invex'][1]:>8.1f} /{row['invex'][2]:>6.1f}"
            f" {row['bare'][1]:>8.1f} /{row['bare'][2]:>6.1f}"
            f"   {'meets' if ratio >= 0.5 else 'BELOW'} the 0.5x goal"
        )
    print("CPU ms per upload, server and PostgreSQL together (median over rounds):")
    for clients in clients_list:
        invex, bare = cpu["invex", clients], cpu["bare", clients]
        print(
            f"{clients:>7} clients: Invex {invex:.2f}, bare {bare:.2f}"
            f" (bare/Invex {bare / invex:.2f}x: the rate ratio a CPU-bound machine allows)"
        )


# --- upload-to-succeeded -----------------------------------------------------------------


def unique_pdf(pdf: bytes, tag: str) -> bytes:
    return pdf + f"\n%bench {tag}\n".encode()


def latency_phase(service: ServiceProcesses, token: str, pdf: bytes, count: int) -> None:
    from common import db

    headers = {"Authorization": f"Bearer {token}"}
    run = secrets.token_hex(4)
    with httpx.Client(base_url=service.base_url, headers=headers, timeout=30) as client:

        def upload(tag: str, wait: float) -> httpx.Response:
            return client.post(
                "/v1/invoices",
                files={"file": ("invoice.pdf", unique_pdf(pdf, f"{run}-{tag}"), "application/pdf")},
                data={"wait": str(wait)},
                headers={"Idempotency-Key": f"{run}-{tag}"},
            )

        for n in range(5):  # warm-up: imports, pools, each worker child's first task
            upload(f"warm{n}", 30).raise_for_status()

        waited, waited_ids = [], []
        for n in range(count):
            began = time.perf_counter()
            response = upload(f"wait{n}", 30)
            waited.append((time.perf_counter() - began) * 1000)
            body = response.json()
            if response.status_code != 200 or body["status"] != "succeeded":
                raise RuntimeError(f"upload {n}: {response.status_code} {body.get('status')}")
            waited_ids.append(body["id"])

        polled, polled_ids = [], []
        for n in range(count):
            began = time.perf_counter()
            response = upload(f"poll{n}", 0)
            invoice_id = response.json()["id"]
            while True:
                status = client.get(f"/v1/invoices/{invoice_id}").json()["status"]
                if status in ("succeeded", "failed"):
                    break
                time.sleep(0.005)
            polled.append((time.perf_counter() - began) * 1000)
            if status != "succeeded":
                raise RuntimeError(f"poll upload {n} ended {status}")
            polled_ids.append(invoice_id)

    with db.transaction() as conn:
        rows = conn.execute(
            "select extract(epoch from updated_at - created_at) * 1000 as ms from invoices"
            " where id = any(%(ids)s) and status = 'succeeded'",
            {"ids": waited_ids + polled_ids},
        ).fetchall()
    server_side = [float(r["ms"]) for r in rows]
    # The worker logs "extracted <id> (...) in N ms" for each task: the extraction itself.
    wanted = set(waited_ids + polled_ids)
    extract_ms = [
        float(m[2])
        for m in re.finditer(r"extracted (\S+) \(.*?\) in (\d+) ms", service.worker_log.read_text())
        if m[1] in wanted
    ]

    print(
        f"\nUpload-to-succeeded, 1-page text PDF ({len(pdf)} bytes), sequential, "
        f"{count} uploads each:"
    )
    print(f"{'measured as':<52} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for label, values in (
        ("client, POST with wait=30 (server polls 10..100 ms)", waited),
        ("client, POST then GET every 5 ms", polled),
        ("rows: created_at -> updated_at (both runs)", server_side),
        ("worker log: extraction alone (both runs)", extract_ms),
    ):
        if values:
            print(
                f"{label:<52} {percentile(values, 50):>7.1f} {percentile(values, 99):>7.1f}"
                f" {max(values):>7.1f}"
            )
    goal = percentile(waited, 50)
    print(
        f"goal p50 < 150 ms (client, wait=30): {'met' if goal < 150 else 'NOT met'} ({goal:.0f} ms)"
    )


# --- profile -----------------------------------------------------------------------------

# Category of request time -> substrings of py-spy frames ("function (file:line)"). The first
# category with a pattern anywhere in a stack takes the sample: specific ones come first.
CATEGORIES = (
    ("auth: authenticate (cached principal, or key lookup)", ("authenticate (common/accounts",)),
    ("usage: API call counter", ("count_api_call (",)),
    ("idempotency: request fingerprint", ("request_fingerprint (",)),
    ("nudge thread: wake-up of the extraction dispatcher", ("nudge_extraction_dispatcher (",)),
    ("nudge thread: wake-up of the webhook sender", ("nudge_sender (",)),
    ("create_invoice: page count", ("count_pages (",)),
    ("create_invoice: the upload statement", ("insert_upload (",)),
    ("create_invoice: other (pool, rendering the event)", ("create_invoice (",)),
    # "Parser.parse (webargs": webargs' own wrapper is in the stack of the whole view
    ("argument parsing (webargs/multipart)", ("Parser.parse (webargs", "formparser")),
    ("response: marshmallow dump / JSON", ("marshmallow", "flask/json", "invoice_resource")),
    ("rest of the view / Flask / smorest", ("wsgi_app (",)),
    ("gunicorn: reading, writing, accept", ("gunicorn",)),
)


def categorise(stack: str) -> str:
    for name, patterns in CATEGORIES:
        if any(p in stack for p in patterns):
            return name
    return "other"


def profile_phase(target: dict, pdf_path: Path, seconds: int, workdir: Path) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("\n--profile: py-spy is not installed (pip install py-spy); skipped")
        return
    workers = children(target["pid"])
    recorders = []
    for mode in ("wall", "cpu", "gil"):
        for pid in workers:
            out = workdir / f"profile-{mode}-{pid}.txt"
            args = [
                py_spy,
                "record",
                "-p",
                str(pid),
                "-r",
                "100",
                "-d",
                str(seconds),
                "-f",
                "raw",
                "-o",
                str(out),
                "--nonblocking",
            ]
            if mode == "wall":
                args.append("--idle")
            elif mode == "gil":  # only the thread running Python: true CPU in Python code
                args.append("--gil")
            recorders.append(
                (
                    mode,
                    out,
                    subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                )
            )
    time.sleep(1)
    result = run_wrk(target, pdf_path, clients=32, seconds=seconds - 2)
    for _, _, proc in recorders:
        proc.wait(seconds + 30)
    print(
        f"\nProfile: py-spy (100 Hz, both gunicorn workers) during a 32-client run "
        f"({result['requests'] / (result['duration_us'] / 1e6):.0f} uploads/s under py-spy):"
    )
    for mode in ("wall", "cpu", "gil"):
        totals: collections.Counter[str] = collections.Counter()
        for m, out, _ in recorders:
            if m != mode or not out.exists():
                continue
            for line in out.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                # Wall time: only threads inside a request, not idle ones waiting for work.
                if mode == "wall" and "handle_request (gunicorn" not in stack:
                    continue
                totals[categorise(stack)] += int(count)
        total = sum(totals.values()) or 1
        title = {
            "wall": "wall time of threads handling a request",
            "cpu": "CPU samples (threads on a core, or waiting for the GIL)",
            "gil": "samples of the thread holding the GIL (the CPU spent in Python)",
        }[mode]
        print(f"  {title}:")
        for name, count in totals.most_common():
            print(f"    {name:<48} {100 * count / total:5.1f}%")
    print(f"  raw stacks: {workdir}/profile-*.txt (kept)")


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", default="8,32")
    parser.add_argument(
        "--web-workers", type=int, default=2, help="gunicorn processes (Procfile: 2)"
    )
    parser.add_argument(
        "--test-mode", action="store_true", help="upload with a test-mode key (no page credits)"
    )
    parser.add_argument(
        "--web-threads", type=int, default=8, help="threads per process (Procfile: 8)"
    )
    parser.add_argument("--latency-uploads", type=int, default=50)
    parser.add_argument(
        "--durable", action="store_true", help="PostgreSQL with fsync and synchronous_commit on"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS")
    parser.add_argument(
        "--skip-ratelimit", action="store_true", help="no rate limiting on/off comparison"
    )
    parser.add_argument(
        "--skip-list-scale", action="store_true", help="no GET /v1/invoices at scale"
    )
    parser.add_argument(
        "--list-invoices", type=int, default=1_000_000, help="invoices of the big organisation"
    )
    parser.add_argument(
        "--list-requests", type=int, default=200, help="requests per list filter, after warm-up"
    )
    args = parser.parse_args()
    clients_list = [int(c) for c in args.clients.split(",")]
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with BenchServers(durable=args.durable, persistent_redis=True) as servers:
        database_url, redis_url = servers.database_url, servers.redis_url
        redis, root = servers.redis, servers.root
        os.environ["INVEX_WEBHOOK_ALLOW_PRIVATE"] = "1"
        token = servers.upload_token(livemode=not args.test_mode)
        from common import db

        with db.transaction() as conn:
            conn.execute(CREATE_TABLE)

        postmaster = servers.postmaster_pid

        def postgres_pids() -> list[int]:
            return tree(postmaster)

        pdf = make_text_pdf()
        pdf_path = root / "invoice.pdf"
        pdf_path.write_bytes(pdf)

        invex = ServiceProcesses(database_url, redis_url)
        servers.stop_later(invex.stop)
        invex.start_api(args.web_workers, args.web_threads)
        bare = BareServer(database_url, gunicorn_args(args.web_workers, args.web_threads))
        servers.stop_later(bare.stop)
        bare.start()
        assert invex.api is not None
        assert bare.process is not None
        targets = {
            "invex": {
                "url": invex.base_url,
                "path": "/v1/invoices",
                "token": token,
                "pid": invex.api.pid,
            },
            "bare": {"url": bare.base_url, "path": "/upload", "token": "", "pid": bare.process.pid},
        }
        check_upload(targets, pdf)

        print(
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}), wrk {wrk_version()}, load average at start "
            f"{os.getloadavg()[0]:.2f}"
        )
        durability = (
            "durable" if args.durable else "fsync=off, synchronous_commit=off (as the tests)"
        )
        print(f"PostgreSQL: private, {durability}; Redis: private, appendonly everysec")
        print(
            "gunicorn (both servers): "
            + " ".join(gunicorn_args(args.web_workers, args.web_threads))
        )
        print(
            f"Load: wrk -t1, {args.warmup:g} s warm-up + {args.duration:g} s per run,"
            f" {args.rounds} round(s) alternating Invex/bare; PDF {len(pdf)} bytes + a"
            " unique comment; fresh Idempotency-Key per request; no extraction worker."
        )
        print("Processes:")
        for label, pid in (
            ("Invex gunicorn", invex.api.pid),
            ("bare gunicorn", bare.process.pid),
            ("PostgreSQL", postmaster),
            ("Redis", redis._process.pid),
        ):
            pids = tree(pid)
            print(f"  {label}: {len(pids)} process(es); root {pid}: {command_line(pid)}")

        results = []
        for clients in clients_list:
            for rnd in range(1, args.rounds + 1):
                for name in ("invex", "bare"):
                    results.append(
                        (
                            name,
                            clients,
                            rnd,
                            measure(
                                targets[name],
                                postgres_pids,
                                pdf_path,
                                clients=clients,
                                seconds=args.duration,
                                warmup=args.warmup,
                                database_url=database_url,
                            ),
                        )
                    )
        print()
        print_load_table(results)
        summarise_load(results, clients_list)
        print(
            "(cores: average CPU in use during the run, from /proc; wrk's from its rusage;"
            " other = the rest of the machine, e.g. other sessions: noise when above ~0.1;"
            " repeats: runs done again because one gunicorn worker had accepted every"
            " connection, see LOPSIDED_RETRIES)"
        )

        if args.profile:
            profile_phase(
                targets["invex"],
                pdf_path,
                args.profile,
                Path(tempfile.mkdtemp(prefix="invex-bench-profile-")),
            )

        # A fresh API and a worker on Redis database 1: the messages the load phase queued
        # on database 0 stay there, unconsumed, and its invoices, never dispatched (no
        # worker ran), are marked dispatched, or the worker's dispatcher would queue their
        # thousands of extractions ahead of these uploads.
        bare.stop()
        invex.stop()
        with psycopg.connect(database_url, autocommit=True) as conn:
            parked = conn.execute(
                "update invoices set dispatched_at = now()"
                " where status = 'queued' and dispatched_at is null"
            ).rowcount
        print(f"\n{parked} invoices of the load phase left queued, undispatched")
        latency_service = ServiceProcesses(database_url, re.sub(r"/0$", "/1", redis_url))
        servers.stop_later(latency_service.stop)
        latency_service.start_api()
        latency_service.start_worker(concurrency=2)
        assert latency_service.worker is not None
        print(
            f"\nLatency phase processes: Invex gunicorn ({len(tree(latency_service.api.pid))}"
            f" processes, same arguments), Celery extraction worker -c 2 "
            f"({len(tree(latency_service.worker.pid))} processes: "
            f"{command_line(latency_service.worker.pid)[:80]})"
        )
        latency_phase(latency_service, token, pdf, args.latency_uploads)
        latency_service.stop()
        dispatch_phase(database_url, postgres_pids)

        if not args.skip_ratelimit:
            print("\nRate limiting, on against off (bench/rate_limit_overhead.py):")
            measure_rate_limit_overhead(database_url, redis_url, redis._process.pid)
        if not args.skip_list_scale:
            run_invoice_list_scale(
                database_url, redis_url, invoices=args.list_invoices, requests=args.list_requests
            )
        return 0


def dispatch_phase(database_url: str, postgres_pids, count: int = 2000) -> None:
    """What uploads leave to the extraction tier instead of a Celery message each: the
    dispatcher's claims and one task message per invoice (dispatch_extractions), run here in
    one process on `count` of the load phase's invoices (their messages go to the load
    phase's Redis database, which nothing consumes)."""
    from common.invoices import service

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "update invoices set dispatched_at = null where id in (select id from invoices"
            " where status = 'queued' order by id limit %(count)s)",
            {"count": count},
        )
    own, database = time.process_time(), cpu_seconds(postgres_pids())
    sent = service.dispatch_extractions()
    own, database = time.process_time() - own, cpu_seconds(postgres_pids()) - database
    print(
        f"\nExtraction dispatch (extraction tier, in one process): {sent} invoices,"
        f" {own / sent * 1000:.3f} ms CPU each (PostgreSQL {database / sent * 1000:.3f} ms)"
    )


def check_upload(targets: dict, pdf: bytes) -> None:
    """One upload to each before timing anything: a 4xx under wrk would only show as a count."""
    for name, target, expected in (
        ("invex", targets["invex"], 202),
        ("bare", targets["bare"], 201),
    ):
        headers = {"Idempotency-Key": secrets.token_hex(8)}
        if target["token"]:
            headers["Authorization"] = f"Bearer {target['token']}"
        response = httpx.post(
            target["url"] + target["path"],
            headers=headers,
            timeout=30,
            files={"file": ("invoice.pdf", pdf, "application/pdf")},
        )
        if response.status_code != expected:
            raise RuntimeError(
                f"{name} upload answered {response.status_code}: {response.text[:300]}"
            )


def wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    match = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return match[1] if match else "?"


if __name__ == "__main__":
    sys.exit(run_main(main))
