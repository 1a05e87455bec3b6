"""CPU per upload in one process, and where it goes: the steady companion of api_load.py.

    python bench/upload_cpu.py [--uploads 300] [--blocks 6]

A private PostgreSQL and Redis (as the tests start them), the Flask app driven by its test
client (no gunicorn, no HTTP: one upload at a time), a 1-page PDF with unique bytes and a
fresh Idempotency-Key each. After a warm-up it runs VACUUM ANALYZE (see api_load.settle),
then `--blocks` blocks of `--uploads` uploads, and prints per block the CPU milliseconds per
upload of this process (every thread) and of PostgreSQL, then the median of the blocks.

Then one more block with a timer around each part of an upload (the CPU this thread spent
inside it, nested parts included in their callers), to say where the time goes.

    python bench/upload_cpu.py --against REV [--uploads 300] [--blocks 10]

compares this tree with git revision REV (a worktree in /tmp, removed afterwards; REV must
have bench/measurement.py's BenchServers.upload_token): one process per tree, each with its
own servers, running blocks in turn (ABBA order), then each side's median and the median of
the differences pair by pair.

Rates on a shared 2-core machine move by 2x between runs; CPU per upload in one process
moves by about 10%, and on a busy host the blocks of one process by up to 3x. A change of
0.05-0.2 ms shows only beside its alternative, block by block: `--against`, or switching
between two variants from one block to the next in one process.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `--serve TREE`: that tree's code (api, common, bench, tests) is the one measured
TREE = Path(sys.argv[sys.argv.index("--serve") + 1]) if "--serve" in sys.argv else ROOT
sys.path.insert(0, str(TREE))

import psycopg  # noqa: E402

from bench.api_load import settle  # noqa: E402
from bench.measurement import BenchServers, cpu_seconds, run_main, tree  # noqa: E402
from tests.support import make_text_pdf  # noqa: E402

BOUNDARY = "invex-bench-boundary"

# (label, module, attribute): the parts of an upload timed in the last block
PARTS = (
    ("the whole request (Flask)", "api.app", None),
    ("authentication (cached principal, or key lookup)", "api.auth", "authenticate"),
    ("request fingerprint (parses the multipart body)", "api.idempotency", "request_fingerprint"),
    ("create_invoice", "common.invoices.service", "create_invoice"),
    ("  the upload statement", "common.invoices.service", "repository.insert_upload"),
    ("  page count", "common.invoices.service", "count_pages"),
    ("  nudge (hand-over to the nudge thread)", "common.taskqueue", "_extraction_nudge.soon"),
)


def multipart(pdf: bytes, n: int) -> bytes:
    data = pdf + f"\n%upload {n} {secrets.token_hex(8)}\n".encode()
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"'
        "\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def timed(spent: collections.Counter, label: str, function: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - began

    return wrapper


def patch_parts(app, spent: collections.Counter) -> None:
    import importlib

    for label, module_name, attribute in PARTS:
        if attribute is None:
            app.wsgi_app = timed(spent, label, app.wsgi_app)
            continue
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for step in path:
            owner = getattr(owner, step)
        setattr(owner, name, timed(spent, label, getattr(owner, name)))


@contextlib.contextmanager
def uploading(uploads: int) -> Iterator[tuple[Callable[[int], tuple[float, float]], object]]:
    """Private servers, the app, and `block(count)`: CPU ms per upload of this process and
    of PostgreSQL over `count` uploads; warmed up and settled before it is handed out."""
    with BenchServers(prefix="invex-upload-cpu-") as servers:
        token = servers.upload_token()
        from api.app import create_app
        from common.config import get_settings

        app = create_app(get_settings())
        client = app.test_client()
        postmaster = servers.postmaster_pid
        pdf = make_text_pdf()
        sent = 0

        def block(count: int) -> tuple[float, float]:
            nonlocal sent
            bodies = [multipart(pdf, sent + i) for i in range(count)]
            sent += count
            own, database = time.process_time(), cpu_seconds(tree(postmaster))
            for body in bodies:
                response = client.post(
                    "/v1/invoices",
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "Idempotency-Key": secrets.token_hex(12),
                    },
                )
                if response.status_code != 202:
                    raise SystemExit(f"upload answered {response.status_code}: {response.text}")
            own = time.process_time() - own
            database = cpu_seconds(tree(postmaster)) - database
            return own / count * 1000, database / count * 1000

        block(uploads)  # warm-up: imports, prepared statements, pools
        settle(servers.database_url)
        yield block, app
        with psycopg.connect(servers.database_url) as conn:
            count = conn.execute("select count(*) from invoices").fetchone()
        print(f"({count[0] if count else 0} invoices stored)", file=sys.stderr)


def serve(uploads: int) -> int:
    """--serve: a block per line read ("run"), its two figures printed in answer."""
    with uploading(uploads) as (block, _):
        print("ready", flush=True)
        for _ in sys.stdin:
            own, database = block(uploads)
            print(f"{own} {database}", flush=True)
    return 0


def compare(against: str, uploads: int, blocks: int) -> int:
    """This tree against `against`, one serving process each, blocks in ABBA order."""
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", against],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="invex-upload-cpu-against-") as scratch:
        other = Path(scratch) / rev
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other), rev],
            check=True,
        )
        sides = {"this tree": ROOT, rev: other}
        servers: dict[str, subprocess.Popen] = {}
        try:
            for name, path in sides.items():
                servers[name] = subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        *("--serve", str(path), "--uploads", str(uploads)),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            for name, server in servers.items():
                assert server.stdout is not None
                if server.stdout.readline().strip() != "ready":
                    raise SystemExit(f"{name}: the serving process did not start")
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
            names = list(sides)
            print(f"CPU ms per upload, {uploads} uploads per block, this tree and {rev} in turn:")
            print(f"{'block':>5} {'this tree':>10} {rev:>10}   PostgreSQL: {'this':>6} {rev:>8}")
            for number in range(blocks):
                for name in names if number % 2 == 0 else reversed(names):
                    server = servers[name]
                    assert server.stdin is not None
                    assert server.stdout is not None
                    server.stdin.write("run\n")
                    server.stdin.flush()
                    own, database = map(float, server.stdout.readline().split())
                    results[name].append((own, database))
                this, theirs = results[names[0]][-1], results[names[1]][-1]
                print(
                    f"{number + 1:>5} {this[0]:>10.3f} {theirs[0]:>10.3f}"
                    f"   {'':>11} {this[1]:>6.3f} {theirs[1]:>8.3f}"
                )
            for name in names:
                own = statistics.median(r[0] for r in results[name])
                database = statistics.median(r[1] for r in results[name])
                print(f"median, {name}: {own:.3f} ms in the process, {database:.3f} in PostgreSQL")
            pairs = zip(results[names[0]], results[names[1]], strict=True)
            difference = statistics.median(a[0] - b[0] for a, b in pairs)
            print(
                f"this tree minus {rev}, median of the pairs: {difference:+.3f} ms in the process"
            )
        finally:
            for server in servers.values():
                if server.stdin:
                    server.stdin.close()
                server.wait(60)
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=300, help="uploads per block")
    parser.add_argument("--blocks", type=int, default=None, help="6; 10 with --against")
    parser.add_argument("--against", metavar="REV", help="compare with this git revision")
    parser.add_argument("--serve", metavar="TREE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.uploads)
    if args.against:
        return compare(args.against, args.uploads, args.blocks or 10)

    with uploading(args.uploads) as (block, app):
        print(f"CPU ms per upload, one upload at a time, {args.uploads} uploads per block:")
        print(f"{'block':>5} {'this process':>13} {'PostgreSQL':>11}")
        results = []
        for number in range(1, (args.blocks or 6) + 1):
            results.append(block(args.uploads))
            print(f"{number:>5} {results[-1][0]:>13.3f} {results[-1][1]:>11.3f}")
        print(
            f"{'median':>5} {statistics.median(r[0] for r in results):>13.3f}"
            f" {statistics.median(r[1] for r in results):>11.3f}"
        )

        spent: collections.Counter = collections.Counter()
        patch_parts(app, spent)
        block(args.uploads)
        print(f"\nWhere it goes (CPU of the request's thread, ms per upload, {args.uploads}):")
        for label, _, _ in PARTS:
            print(f"  {label:<50} {spent[label] / args.uploads * 1000:>6.3f}")
        return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
