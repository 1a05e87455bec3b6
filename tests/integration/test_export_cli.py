"""`invex export`: the worker's writer run in this process against the database, as a
separate program the way an operator runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from tests.integration.test_exports import two_invoices  # noqa: F401 - the fixture


def invex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "common.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),  # the suite's INVEX_DATABASE_URL and INVEX_REDIS_URL
        check=False,
    )


def test_export_writes_the_filtered_invoices_to_the_file(tenant, two_invoices, tmp_path):  # noqa: F811
    approved, _ = two_invoices
    target = tmp_path / "approved.csv"
    done = invex(
        "export", "--org", tenant.org.id, "--format", "csv",
        "--review-status", "approved", "-o", str(target), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["invoice_count"] == 1
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row["id"] for row in rows] == [approved["id"]]


def test_export_writes_datev_with_the_clients_numbers(tenant, two_invoices, tmp_path):  # noqa: F811
    target = tmp_path / "EXTF.csv"
    done = invex(
        "export", "--org", tenant.org.id, "--format", "datev", "-o", str(target),
        "--datev-consultant-number", "29098", "--datev-client-number", "55003",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 2 invoices" in done.stdout
    lines = list(csv.reader(io.StringIO(target.read_bytes().decode("cp1252")), delimiter=";"))
    assert lines[0][10:12] == ["29098", "55003"]
    assert len(lines) == 4


def test_export_of_an_unknown_organisation_fails_and_writes_nothing(tmp_path):
    target = tmp_path / "none.csv"
    done = invex("export", "--org", "org_missing", "--format", "csv", "-o", str(target))
    assert done.returncode == 1
    assert "resource_not_found" in done.stderr
    assert not target.exists()


def test_export_of_an_unknown_format_names_the_formats(tenant, tmp_path):
    done = invex("export", "--org", tenant.org.id, "--format", "xlsx", "-o", str(tmp_path / "x"))
    assert done.returncode == 1
    assert "unsupported_format" in done.stderr
    assert "datev" in done.stderr
