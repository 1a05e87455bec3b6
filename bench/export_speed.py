"""How fast the export worker writes, and how much memory it takes, by format and size.

    python bench/export_speed.py [--sizes 10000,100000] [--formats csv,datev,ubl]
                                 [--ubl-size 2000] [--against OTHER_CHECKOUT]
                                 [--ubl-processes 1,0] [--rounds N]

1. Starts a private PostgreSQL and Redis (bench/measurement.py), applies the migrations,
   and COPYs synthetic extraction output (bench/invoice_list_scale.py's seeder: vendors
   with a long tail, seven currencies, line items, 2.5 % failed) into one organisation per
   size, so each export reads exactly that many live invoices.
2. Each (format, size) runs in a fresh process, as an export worker would:
   common.exports.service.write_export into a temporary file, the rows streamed through the
   server-side cursor. Prints invoices/s (wall clock, the database's time included) and the
   process's peak RSS (ru_maxrss), beside its RSS before writing (imports, pool).

`ubl` validates every document with the EN 16931 schematron, so it runs at `--ubl-size`;
the schematron's one-off compilation and the start of the validation processes
(INVEX_EXPORT_VALIDATION_PROCESSES; a worker's first ubl export) are timed apart, and
their peak RSS is printed beside the worker's; CPU ms/inv adds up the worker's and their
CPU time (steadier than invoices/s on a shared machine). `--ubl-processes 1,0` alternates
ubl runs with that many validation processes; `--rounds` repeats each alternation.
The issue's goals: csv and datev at >= 20,000 invoices/s with peak RSS under 200 MB at
100,000 invoices; ubl at >= 500 invoices/s. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(fmt: str, org_id: str) -> int:
    """One export in this process; prints its figures as JSON."""
    from common import db
    from common.config import get_settings
    from common.exports import service

    db.configure(get_settings().database_url)
    export = service.unsaved_export(org_id, livemode=True, format=fmt, filters={})
    warmup = 0.0
    helpers = []
    if fmt in ("ubl", "facturx"):  # load the e-invoice stack before the clock starts
        from common.exports import einvoices  # noqa: F401
        from common.invoices import ubl_validation
        from common.invoices.ubl_validation_process import validation_processes

        # An export worker compiles the schematron once, and starts its validation
        # processes, at its first ubl export; timed apart so invoices/s is the steady rate.
        began = time.perf_counter()
        ubl_validation.warm_up()
        if fmt == "ubl":
            helpers = validation_processes(get_settings().export_validation_processes)
            for helper in helpers:  # answered once its schematron is compiled
                helper.send(b"")
                helper.take()
        warmup = time.perf_counter() - began
    before = rss_mb()
    pids = [os.getpid()] + [helper.pid for helper in helpers]
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        count, _, _ = service.write_export(export, out)
        seconds = time.perf_counter() - began
        size = out.tell()
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper_peaks = [peak_rss_mb(helper.pid) for helper in helpers]
    print(json.dumps({"count": count, "seconds": seconds, "rss_before": before,
                      "peak_rss": peak, "bytes": size, "warmup": warmup, "cpu": cpu,
                      "helper_peaks": helper_peaks}))  # fmt: skip
    return 0


def measure(fmt: str, org_id: str, root: Path = ROOT, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, str(root / "bench" / "export_speed.py"), "--child", fmt, org_id],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ) | (env or {}),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--formats", default="csv,datev,ubl")
    parser.add_argument("--ubl-size", type=int, default=2000)
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ORG"))
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (`git worktree add`): each run alternates with its code's,"
        " on the same database, so a busy machine's noise falls on both",
    )
    parser.add_argument(
        "--ubl-processes",
        help="INVEX_EXPORT_VALIDATION_PROCESSES values to alternate for ubl, e.g. 1,0",
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternations of each run")
    args = parser.parse_args()
    if args.child:
        return child(*args.child)

    from bench.invoice_list_scale import seed_invoices
    from bench.measurement import BenchServers

    formats = args.formats.split(",")
    table_sizes = sorted({int(s) for s in args.sizes.split(",")})
    runs = [(f, n) for f in formats for n in ([args.ubl_size] if f == "ubl" else table_sizes)]
    sizes = sorted({n for _, n in runs})
    with BenchServers("invex-bench-export-") as servers:
        from common import db
        from common.accounts.service import create_org
        from common.migrations import apply_migrations

        apply_migrations(servers.database_url)
        db.configure(servers.database_url)
        noise = create_org("Noise Ltd").id
        orgs = {}
        for size in sizes:
            org_id = create_org(f"Bench {size}").id
            seeded = seed_invoices(servers.database_url, org_id, noise, size)
            orgs[size] = org_id
            print(
                f"seeded {seeded.invoices} invoices ({seeded.rows} rows) in {seeded.seconds:.1f} s"
            )
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        print(f"\ncommit {commit}, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
        print(
            f"{'format':8} {'invoices':>9} {'inv/s':>9} {'MB/s':>7}"
            f" {'CPU ms/inv':>10} {'RSS before':>11} {'peak RSS':>9}"
        )
        for fmt, size in runs:
            sides: list[tuple[str, Path, dict[str, str]]] = [("", ROOT, {})]
            if fmt == "ubl" and args.ubl_processes:
                sides = [
                    (f"{n} validation processes", ROOT, {"INVEX_EXPORT_VALIDATION_PROCESSES": n})
                    for n in args.ubl_processes.split(",")
                ]
            if args.against:
                sides += [(f"against {args.against.resolve()}", args.against.resolve(), {})]
            for _ in range(args.rounds):
                for label, root, env in sides:
                    report(fmt, measure(fmt, orgs[size], root, env), label)
    return 0


def report(fmt: str, r: dict, label: str) -> None:
    cpu = f"{r['cpu'] / r['count'] * 1000:>10.2f}" if "cpu" in r else f"{'':>10}"
    print(
        f"{fmt:8} {r['count']:>9,} {r['count'] / r['seconds']:>9,.0f}"
        f" {r['bytes'] / r['seconds'] / 1e6:>7.1f} {cpu} {r['rss_before']:>8.0f} MB"
        f" {r['peak_rss']:>6.0f} MB"
        + (
            f" + {sum(r['helper_peaks']):.0f} MB in {len(r['helper_peaks'])} validation process(es)"
            if r.get("helper_peaks")
            else ""
        )
        + (f"  (schematron compiled first: {r['warmup']:.1f} s)" if r.get("warmup") else "")
        + (f"  [{label}]" if label else "")
    )


if __name__ == "__main__":
    from bench.measurement import run_main

    sys.exit(run_main(main))
