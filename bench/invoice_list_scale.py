"""`GET /v1/invoices` with filters on an organisation holding 1,000,000 invoices.

    python bench/invoice_list_scale.py [--invoices 1000000] [--requests 200] [--compare]

1. Starts a private PostgreSQL (fsync off, as the tests) and Redis (as tests/conftest.py
   does), applies the migrations, and seeds with COPY (psycopg 3 `cursor.copy`), in id
   order as rows arrive in production: `--invoices` live invoices of one organisation
   created over the last year, plus noise around them (a second organisation with 10 % as
   many, 5 % in the first one's test mode). The rows look like extraction output: mostly
   succeeded (some failed, a few still queued or processing among the newest), 3,000
   vendors with a long tail (a few vendors send most invoices), seven currencies (EUR
   mostly), invoice dates a few weeks before the upload, 15 % back-filled from up to three
   years earlier, line items, tax breakdowns, confidences; `extracted` beside `fields` as
   the review workflow keeps it. Then VACUUM ANALYZE, the steady state of a real table.
2. Starts Invex under gunicorn as the Procfile does (2 workers, gthread, 8 threads; rate
   limits off: the query is measured here, bench/rate_limit_overhead.py measures the
   limits) with a live key of the big organisation.
3. For each filter (none, status, vendor, currency, invoice date range, creation time
   range, a combination, a cursor deep in the list): a warm-up, then `--requests`
   sequential requests over one keep-alive connection; prints p50/p99/max latency as the
   client sees it, and EXPLAIN (ANALYZE, BUFFERS) of the very SQL the repository builds
   for that request.

`--compare` seeds before migration 0009 (the list indexes), measures, applies 0009 (timed:
what it costs on a table this size), and measures again.

`run_invoice_list_scale()` is what bench/api_load.py calls with its own servers.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from ulid import ULID  # noqa: E402

from bench.measurement import BenchServers, percentile, run_main  # noqa: E402
from tests.support import ServiceProcesses  # noqa: E402

LIST_INDEXES_MIGRATION = 9
VENDOR_COUNT = 3000
# (currency, share of invoices)
CURRENCIES = (
    ("EUR", 0.80),
    ("USD", 0.08),
    ("GBP", 0.05),
    ("CHF", 0.04),
    ("SEK", 0.015),
    ("PLN", 0.01),
    ("JPY", 0.005),
)
TAX_RATES = ("19.00", "19.00", "19.00", "7.00", "20.00", "0.00")
REVIEW_STATUSES = ("received",) * 6 + ("approved", "approved", "paid", "archived")
VENDOR_WORDS = (  # noqa: SIM905 - a sentence of words reads better than 40 quoted ones
    "Acme Nordwind Blue-River Alpen Hansa Kestrel Lindqvist Morgan Orion Pioneer Quartz"
    " Rhein Saxon Tellur Union Vega Weser Zenith Baltic Cobalt Delta Elbe Falke Granit"
    " Helios Iris Jade Kobalt Lumen Merkur Nova Polaris Riva Sonne Taunus Ultra Vista"
    " Westwind Ystad Zeder"
).split()
VENDOR_TRADES = (  # noqa: SIM905 - as VENDOR_WORDS
    "Supplies Logistics Consulting Software Print Catering Cleaning Energy Telecom Office"
    " Facility Freight Hardware Media Packaging Security Staffing Tools Travel Waste"
    " Electrics Plumbing Legal Insurance Marketing"
).split()
LEGAL_FORMS = ("GmbH", "AG", "Ltd", "SARL", "BV", "Inc.", "S.p.A.", "GmbH & Co. KG")
ITEMS = (
    "Consulting hours",
    "Monthly licence",
    "Shipping",
    "Paper A4, 5 reams",
    "Maintenance",
    "Toner cartridge",
    "Cloud hosting",
    "Travel expenses",
)
COPY_COLUMNS = (
    "id, org_id, livemode, status, review_status, file_name, content_type, file_size,"
    " file_sha256, file_pages, fields, extracted, error_code, error_message, metadata,"
    " duplicate_of, attempts, enqueued_at, created_at, updated_at"
)


# --- seeding -----------------------------------------------------------------------------


def vendor_names(rng: random.Random) -> list[str]:
    names = {
        f"{rng.choice(VENDOR_WORDS)} {rng.choice(VENDOR_TRADES)} {rng.choice(LEGAL_FORMS)}"
        for _ in range(VENDOR_COUNT * 3)
    }
    ordered = sorted(names)
    rng.shuffle(ordered)
    return ordered[:VENDOR_COUNT]


def invoice_fields(
    rng: random.Random, vendor: str, vendor_no: int, *, currency: str, invoice_date: date, n: int
) -> dict:
    """What extraction stores for a text PDF (see `invex extract`)."""
    rate = rng.choice(TAX_RATES)
    items = []
    subtotal = 0
    for line in range(rng.choice((0, 1, 1, 2, 3))):
        quantity = rng.randint(1, 20)
        unit_price = rng.randint(500, 50_000)
        items.append(
            {
                "description": ITEMS[(n + line) % len(ITEMS)],
                "quantity": str(quantity),
                "unit": None,
                "unit_price": unit_price,
                "total_price": quantity * unit_price,
                "tax_rate": rate,
                "tax_amount": None,
                "discount_percent": None,
                "discount_amount": None,
            }
        )
        subtotal += quantity * unit_price
    subtotal = subtotal or rng.randint(1_000, 500_000)
    tax = round(subtotal * float(rate) / 100)
    return {
        "invoice_number": f"{vendor[:3].upper()}-{invoice_date.year}-{n:07d}",
        "invoice_date": invoice_date.isoformat(),
        "due_date": (invoice_date + timedelta(days=30)).isoformat(),
        "currency": currency,
        "purchase_order": f"PO-{n % 9973:05d}" if n % 4 == 0 else None,
        "vendor_name": vendor,
        "vendor_email": f"billing@vendor{vendor_no}.example" if n % 3 else None,
        "vendor_phone": None,
        "vendor_tax_id": f"DE{100_000_000 + vendor_no * 7919 % 899_999_999}",
        "vendor_address": f"{vendor_no} Industriestrasse, {10_000 + vendor_no} Berlin",
        "vendor_iban": f"DE89370400440532{vendor_no:06d}" if n % 2 else None,
        "customer_name": "Bench GmbH",
        "customer_email": None,
        "customer_phone": None,
        "customer_tax_id": "DE811907980",
        "customer_address": "Hauptstrasse 1, 10115 Berlin",
        "subtotal_amount": subtotal,
        "tax_amount": tax,
        "total_amount": subtotal + tax,
        "amount_due": subtotal + tax,
        "discount_amount": None,
        "tax_rate": rate,
        "discount_percent": None,
        "payment_terms": "30 days net",
        "payment_method": None,
        "payment_reference": None,
        "notes": None,
        "tax_breakdown": [{"rate": rate, "taxable_amount": subtotal, "tax_amount": tax}],
        "line_items": items,
        "document_type": "invoice" if n % 50 else "credit_note",
        "source": "pdf_text" if n % 10 else "ocr",
        "extraction_confidence": round(0.6 + rng.random() * 0.39, 2),
        "field_confidence": {
            "currency": 0.9,
            "invoice_number": 1.0,
            "invoice_date": 1.0,
            "total_amount": 0.9,
            "vendor_name": 0.55,
        },
        "warnings": [] if n % 20 else ["total_mismatch"],
    }


@dataclass(frozen=True)
class Seeded:
    org_id: str
    invoices: int  # live invoices of org_id
    rows: int  # all rows written, noise included
    seconds: float  # COPY
    vacuum_seconds: float
    table_bytes: int


def seed_invoices(
    database_url: str, org_id: str, other_org_id: str, count: int, *, seed: int = 7
) -> Seeded:
    """COPY `count` live invoices of `org_id` (and noise: 5 % test mode, 10 % another
    organisation) created over the last year, in creation order; then VACUUM ANALYZE."""
    import psycopg

    rng = random.Random(seed)
    vendors = vendor_names(rng)
    vendor_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(vendors))]
    currencies = [c for c, _ in CURRENCIES]
    currency_weights = [w for _, w in CURRENCIES]
    total = int(count * 1.15)
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    step = (now - start) / total
    # Draw vendors and currencies in blocks: random.choices per row would dominate.
    block = 10_000
    written = mine = 0
    began = time.perf_counter()
    with (
        psycopg.connect(database_url) as conn,
        conn.cursor() as cur,
        cur.copy(f"copy invoices ({COPY_COLUMNS}) from stdin") as copy,
    ):
        while mine < count:
            picks = rng.choices(range(len(vendors)), vendor_weights, k=block)
            money = rng.choices(currencies, currency_weights, k=block)
            for k in range(block):
                if mine >= count:
                    break
                roll = rng.random()
                org, live = (other_org_id, True) if roll < 0.087 else (org_id, roll >= 0.13)
                mine += org == org_id and live
                created = start + step * written
                invoice_id = f"inv_{ULID.from_timestamp(created.timestamp())}"
                newest = written > total - 300
                status = (
                    rng.choice(("queued", "processing", "succeeded"))
                    if newest
                    else ("failed" if rng.random() < 0.025 else "succeeded")
                )
                if status == "succeeded":
                    if rng.random() < 0.15:  # back-filled: issued up to three years earlier
                        issued = (created - timedelta(days=rng.randint(45, 3 * 365))).date()
                    else:
                        issued = (created - timedelta(days=rng.randint(0, 45))).date()
                    vendor_no = picks[k]
                    fields = json.dumps(
                        invoice_fields(
                            rng,
                            vendors[vendor_no],
                            vendor_no,
                            currency=money[k],
                            invoice_date=issued,
                            n=written,
                        )
                    )
                    error = (None, None)
                else:
                    fields = "{}"
                    error = (
                        ("extraction_failed", "No invoice fields found.")
                        if status == "failed"
                        else (None, None)
                    )
                copy.write_row(
                    (
                        invoice_id,
                        org,
                        live,
                        status,
                        REVIEW_STATUSES[written % len(REVIEW_STATUSES)]
                        if status == "succeeded"
                        else "received",
                        f"invoice-{written}.pdf",
                        "application/pdf",
                        20_000 + written % 180_000,
                        f"{rng.getrandbits(256):064x}",
                        1 + written % 3,
                        fields,
                        fields if status == "succeeded" else None,
                        *error,
                        f'{{"batch": "{written // 1000}"}}' if written % 5 == 0 else "{}",
                        None,
                        1 if status != "queued" else 0,
                        created,
                        created,
                        created + timedelta(seconds=2),
                    )
                )
                written += 1
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("vacuum (analyze) invoices")
        size = conn.execute("select pg_total_relation_size('invoices')").fetchone()
    assert size is not None
    return Seeded(org_id, mine, written, seconds, time.perf_counter() - began, size[0])


# --- the queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    label: str
    params: dict[str, str]


def pick_queries(database_url: str, org_id: str) -> list[ListQuery]:
    """Filters with values taken from the seeded data: a vendor from the long tail and a
    word many vendors share, a rare currency, a quarter of back-filled invoice dates, a
    week of uploads six months back, a cursor 90 % of the way down."""
    import psycopg
    from psycopg.rows import dict_row

    from common.pagination import encode_cursor

    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        # The first two words of a vendor from the long tail: what a person types.
        ranked = conn.execute(
            "select fields->>'vendor_name' as name from invoices"
            " where org_id = %(org)s and livemode and status = 'succeeded'"
            " group by 1 order by count(*) desc, 1 offset 500 limit 1",
            {"org": org_id},
        ).fetchone()
        assert ranked is not None
        vendor_part = " ".join(ranked["name"].split()[:2]).lower()
        vendor_rows = conn.execute(
            "select count(*) as n from invoices where org_id = %(org)s and livemode"
            " and fields->>'vendor_name' ilike %(pattern)s",
            {"org": org_id, "pattern": f"%{vendor_part}%"},
        ).fetchone()
        deep = conn.execute(
            "select id from invoices where org_id = %(org)s and livemode"
            " order by id desc offset (select count(*) * 9 / 10 from invoices"
            " where org_id = %(org)s and livemode) limit 1",
            {"org": org_id},
        ).fetchone()
    assert vendor_rows is not None
    assert deep is not None
    now = datetime.now(UTC)
    quarter_start = date(now.year - 2, 1, 1)
    recent = (now - timedelta(days=90)).date()
    week_end = now - timedelta(days=182)
    week_start = week_end - timedelta(days=7)
    return [
        ListQuery("no filter", {}),
        ListQuery("status=failed (2.5 %)", {"status": "failed"}),
        ListQuery(f"vendor={vendor_part!r} ({vendor_rows['n']} match)", {"vendor": vendor_part}),
        ListQuery("vendor='logistics' (a word many share)", {"vendor": "logistics"}),
        ListQuery("currency=CHF (4 %)", {"currency": "CHF"}),
        ListQuery("currency=JPY (0.5 %)", {"currency": "JPY"}),
        ListQuery(
            "date_from..date_to, last 90 days",
            {"date_from": recent.isoformat(), "date_to": now.date().isoformat()},
        ),
        ListQuery(
            f"date_from..date_to, Q1 {quarter_start.year} (back-filled)",
            {
                "date_from": quarter_start.isoformat(),
                "date_to": date(quarter_start.year, 3, 31).isoformat(),
            },
        ),
        ListQuery(
            f"date_from..date_to, one day in {quarter_start.year} (sparse)",
            {
                "date_from": date(quarter_start.year, 2, 14).isoformat(),
                "date_to": date(quarter_start.year, 2, 14).isoformat(),
            },
        ),
        ListQuery(
            "created_after..created_before, a week 6 months ago",
            {
                "created_after": str(int(week_start.timestamp())),
                "created_before": str(int(week_end.timestamp())),
            },
        ),
        ListQuery(
            "created_before 6 months ago",
            {"created_before": str(int(week_end.timestamp()))},
        ),
        ListQuery(
            "status+currency+date range (EUR, last 90 days)",
            {
                "status": "succeeded",
                "currency": "EUR",
                "date_from": recent.isoformat(),
                "date_to": now.date().isoformat(),
            },
        ),
        ListQuery(
            "status+vendor+created range",
            {
                "status": "succeeded",
                "vendor": "logistics",
                "created_after": str(int(week_start.timestamp())),
                "created_before": str(int(week_end.timestamp())),
            },
        ),
        ListQuery("cursor 90 % deep", {"cursor": encode_cursor(deep["id"])}),
        ListQuery(
            "cursor 90 % deep + status=failed",
            {"cursor": encode_cursor(deep["id"]), "status": "failed"},
        ),
    ]


def explain(database_url: str, org_id: str, query: ListQuery, limit: int = 25) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the SQL the repository builds for this request."""
    import psycopg

    from api.schemas import ListArgs
    from api.views.invoices import list_filters
    from common.invoices.repository import list_invoices_query
    from common.pagination import decode_cursor

    args = ListArgs().load({"limit": str(limit), **query.params})
    sql, params = list_invoices_query(
        org_id,
        True,
        list_filters(args),
        limit=limit + 1,  # as the service asks, to know whether more follow
        after_id=decode_cursor(args["cursor"], "inv"),
    )
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("explain (analyze, buffers, costs off) " + sql, params).fetchall()
    return [row[0] for row in rows]


PLAN_LINES = (
    "->",
    "Limit",
    "Execution Time",
    "Buffers",
    "Index Cond",
    "Filter",
    "Rows Removed",
    "Recheck Cond",
    "Sort Method",
)


def plan_summary(lines: list[str]) -> list[str]:
    """Plan nodes, their filters and buffers, and the execution time; not the planning."""
    keep = []
    for line in lines:
        text = line.strip()
        if text.startswith("Planning"):
            continue
        if text.startswith(PLAN_LINES):
            keep.append(line.rstrip())
    return keep


def time_requests(client: httpx.Client, params: dict[str, str], count: int) -> list[float]:
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get("/v1/invoices", params=params)
        timings.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{params}: {response.status_code} {response.text[:200]}")
    return timings


def measure_queries(
    base_url: str,
    token: str,
    database_url: str,
    org_id: str,
    queries: list[ListQuery],
    *,
    requests: int,
    show_plans: bool = True,
) -> dict[str, tuple[float, float]]:
    """p50/p99 per query through the API, with its plan; returns {label: (p50, p99)}."""
    figures: dict[str, tuple[float, float]] = {}
    rows = []
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        for query in queries:
            first = client.get("/v1/invoices", params=query.params).json()
            warm = time_requests(client, query.params, 10)
            # A query slower than 200 ms gets fewer requests: its p99 is its mean anyway.
            count = requests if statistics.fmean(warm) < 200 else max(20, requests // 10)
            timings = time_requests(client, query.params, count)
            p50, p99 = percentile(timings, 50), percentile(timings, 99)
            figures[query.label] = (p50, p99)
            rows.append((query, count, len(first["data"]), first["has_more"], timings))
            if show_plans:
                print(f"\n  EXPLAIN {query.label}:")
                for line in plan_summary(explain(database_url, org_id, query)):
                    print(f"    {line}")
    print(
        f"\n{'GET /v1/invoices?limit=25 with':<52} {'reqs':>5} {'rows':>4}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  goal p99 < 20 ms"
    )
    for query, count, returned, has_more, timings in rows:
        p50, p99 = figures[query.label]
        print(
            f"{query.label:<52} {count:>5} {returned:>3}{'+' if has_more else ' '}"
            f" {p50:>7.1f} {p99:>7.1f} {max(timings):>7.1f}  {'met' if p99 < 20 else 'MISSED'}"
        )
    return figures


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BigOrg:
    org_id: str
    token: str  # a live key


def seed_big_org(database_url: str, invoices: int) -> BigOrg:
    """A fresh organisation of this (migrated) database holding `invoices`, and its key."""
    from common import db
    from common.accounts.service import create_api_key, create_org

    db.configure(database_url)
    org = create_org("Big Ledger GmbH")
    other = create_org("Neighbour AG")
    print(
        f"\nInvoice list at scale: seeding {invoices:,} live invoices of one organisation"
        f" (+ about {int(invoices * 0.15):,} noise rows) with COPY ..."
    )
    seeded = seed_invoices(database_url, org.id, other.id, invoices)
    print(
        f"Seeded {seeded.rows:,} rows ({seeded.invoices:,} live invoices of {org.id}) in"
        f" {seeded.seconds:.1f} s ({seeded.rows / seeded.seconds:,.0f} rows/s, COPY with"
        f" every index in place), VACUUM ANALYZE {seeded.vacuum_seconds:.1f} s; table with"
        f" its indexes and TOAST {seeded.table_bytes / 2**30:.2f} GiB"
    )
    return BigOrg(org.id, create_api_key(org.id, livemode=True).secret)


def measure_big_org(
    database_url: str, redis_url: str, big: BigOrg, *, requests: int
) -> dict[str, tuple[float, float]]:
    """An API under gunicorn (rate limits off) for the time of the measurement."""
    service = ServiceProcesses(database_url, redis_url, INVEX_RATE_LIMITS="0")
    try:
        service.start_api()
        queries = pick_queries(database_url, big.org_id)
        return measure_queries(
            service.base_url, big.token, database_url, big.org_id, queries, requests=requests
        )
    finally:
        service.stop()


def run_invoice_list_scale(
    database_url: str, redis_url: str, *, invoices: int = 1_000_000, requests: int = 200
) -> dict[str, tuple[float, float]]:
    """Seed, then print p50/p99 and the plan of each filtered list: {label: (p50, p99)}."""
    big = seed_big_org(database_url, invoices)
    return measure_big_org(database_url, redis_url, big, requests=requests)


def apply_migrations_before(database_url: str, version: int) -> None:
    """Migrations numbered below `version` only (a later apply_migrations adds the rest)."""
    from common.migrations import MIGRATIONS_DIR, apply_migrations, migration_paths

    earlier = Path(tempfile.mkdtemp(prefix="invex-migrations-"))
    try:
        for path in migration_paths(MIGRATIONS_DIR):
            if int(path.name[:4]) < version:
                shutil.copy(path, earlier / path.name)
        apply_migrations(database_url, earlier)
    finally:
        shutil.rmtree(earlier, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="per query, after warm-up")
    parser.add_argument(
        "--compare",
        action="store_true",
        help=f"measure before migration {LIST_INDEXES_MIGRATION:04d}, apply it, measure again",
    )
    args = parser.parse_args()
    with BenchServers() as servers:
        from common.migrations import apply_migrations

        database_url, redis_url = servers.database_url, servers.redis_url
        print(
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}), load average at start {os.getloadavg()[0]:.2f};"
            " PostgreSQL private (fsync off, as the tests; default shared_buffers);"
            " Invex under gunicorn (2 workers, gthread, 8 threads), rate limits off;"
            " requests sequential over one keep-alive connection."
        )
        if not args.compare:
            apply_migrations(database_url)
            run_invoice_list_scale(
                database_url, redis_url, invoices=args.invoices, requests=args.requests
            )
            return 0

        apply_migrations_before(database_url, LIST_INDEXES_MIGRATION)
        print(f"\n=== before migration {LIST_INDEXES_MIGRATION:04d} ===")
        big = seed_big_org(database_url, args.invoices)
        before = measure_big_org(database_url, redis_url, big, requests=args.requests)
        began = time.perf_counter()
        applied = apply_migrations(database_url)
        took = time.perf_counter() - began
        print(f"\n=== after {', '.join(applied)} (applied in {took:.1f} s on this table) ===")
        after = measure_big_org(database_url, redis_url, big, requests=args.requests)
        print(f"\n{'before -> after':<52} {'p50 ms':>15} {'p99 ms':>17}")
        for label, (p50, p99) in after.items():
            old = before.get(label, (float("nan"), float("nan")))
            print(f"{label:<52} {old[0]:>6.1f} -> {p50:>5.1f} {old[1]:>8.1f} -> {p99:>5.1f}")
        return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
