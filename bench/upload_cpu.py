"""CPU per upload in one process, and where it goes: the steady companion of api_load.py.

    python bench/upload_cpu.py [--uploads 300] [--blocks 6]

A private PostgreSQL and Redis (as the tests start them), the Flask app driven by its test
client (no gunicorn, no HTTP: one upload at a time), a 1-page PDF with unique bytes and a
fresh Idempotency-Key each. After a warm-up it runs VACUUM ANALYZE (see api_load.settle),
then `--blocks` blocks of `--uploads` uploads, and prints per block the CPU milliseconds per
upload of this process (every thread) and of PostgreSQL, then the median of the blocks.

Then one more block with a timer around each part of an upload (the CPU this thread spent
inside it, nested parts included in their callers), to say where the time goes.

Rates on a shared 2-core machine move by 2x between runs; CPU per upload in one process
moves by about 10%. A change of 0.2 ms shows only when both variants run in the same process,
in alternating blocks: to compare two variants, switch between them from one block to the
next (the loop in `main` is the place) and compare the medians.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.api_load import settle  # noqa: E402
from bench.measurement import BenchServers, cpu_seconds, run_main, tree  # noqa: E402
from tests.support import make_text_pdf  # noqa: E402

BOUNDARY = "invex-bench-boundary"

# (label, module, attribute): the parts of an upload timed in the last block
PARTS = (
    ("the whole request (Flask)", "api.app", None),
    ("authentication (key lookup)", "api.auth", "authenticate"),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=300, help="uploads per block")
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()

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

        block(args.uploads)  # warm-up: imports, prepared statements, pools
        settle(servers.database_url)
        print(f"CPU ms per upload, one upload at a time, {args.uploads} uploads per block:")
        print(f"{'block':>5} {'this process':>13} {'PostgreSQL':>11}")
        results = []
        for number in range(1, args.blocks + 1):
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
        with psycopg.connect(servers.database_url) as conn:
            count = conn.execute("select count(*) from invoices").fetchone()
        print(f"({count[0] if count else 0} invoices stored)")
        return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
