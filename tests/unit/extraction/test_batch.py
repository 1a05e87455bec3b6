"""`invex extract`: one result per file, in input order, whatever happens to any one file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.support import ROOT
from tests.unit.extraction.einvoice_documents import cii_invoice, ubl_invoice
from workers.extraction import batch, pipeline


@pytest.fixture
def invoices(tmp_path):
    paths = []
    for number in range(4):
        path = tmp_path / f"invoice-{number}.xml"
        path.write_bytes(
            ubl_invoice(number=f"INV-{number}")
            if number % 2
            else cii_invoice(number=f"INV-{number}")
        )
        paths.append(str(path))
    return paths


def run(argv, capsys):
    status = batch.main(argv)
    return status, capsys.readouterr().out


def test_jsonl_prints_one_object_per_file_in_input_order(invoices, capsys):
    status, out = run(["--format", "jsonl", "--jobs", "2", *invoices], capsys)

    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [line["file"] for line in lines] == invoices
    assert [line["invoice_number"] for line in lines] == ["INV-0", "INV-1", "INV-2", "INV-3"]
    assert lines[1]["source"] == "ubl"
    assert lines[1]["total_amount"] == 120785


def test_json_prints_one_array(invoices, capsys):
    status, out = run(["--format", "json", "--jobs", "1", *invoices], capsys)

    assert status == 0
    assert [item["file"] for item in json.loads(out)] == invoices


def test_a_failing_file_is_an_error_line_and_the_exit_status_is_1(invoices, tmp_path, capsys):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 nothing else")
    missing = str(tmp_path / "missing.xml")

    status, out = run(["--format", "jsonl", invoices[0], str(broken), missing, invoices[1]], capsys)

    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert [line["file"] for line in lines] == [invoices[0], str(broken), missing, invoices[1]]
    assert lines[1]["error"]["code"] == "unprocessable_invoice"
    assert lines[2]["error"]["code"] == "unreadable_file"
    assert "error" not in lines[3]


def test_a_hanging_or_crashing_document_does_not_stop_the_run(
    invoices, tmp_path, capsys, monkeypatch
):
    real_extract = pipeline.extract_document

    def misbehaving_extract(data, *, filename=None, deadline=None):
        if filename == "hang.xml":
            time.sleep(60)
        if filename == "crash.xml":
            os._exit(3)  # as a segfault in a native library would
        return real_extract(data, filename=filename, deadline=deadline)

    # Workers are forked from this process, so they inherit the patched function.
    monkeypatch.setattr(pipeline, "extract_document", misbehaving_extract)
    monkeypatch.setattr(batch, "KILL_GRACE_SECONDS", 0.0)
    hang, crash = tmp_path / "hang.xml", tmp_path / "crash.xml"
    hang.write_bytes(ubl_invoice())
    crash.write_bytes(ubl_invoice())

    started = time.monotonic()
    status, out = run(
        [
            "--format",
            "jsonl",
            "--jobs",
            "2",
            "--timeout",
            "1",
            str(hang),
            invoices[0],
            str(crash),
            invoices[1],
        ],
        capsys,
    )

    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert [line.get("error", {}).get("code") for line in lines] == [
        "extraction_timeout",
        None,
        "internal_error",
        None,
    ]
    assert time.monotonic() - started < 20


def test_no_progress_bar_is_drawn_when_stderr_is_not_a_terminal(invoices, capsys):
    batch.main(["--format", "jsonl", invoices[0]])

    assert capsys.readouterr().err == ""


def test_bad_usage_exits_with_status_2(capsys):
    with pytest.raises(SystemExit) as exited:
        batch.main(["--format", "xml", "file.pdf"])

    assert exited.value.code == 2


def test_a_reader_that_stops_after_one_line_ends_the_run_without_a_traceback(invoices):
    """`invex extract --format jsonl FILE... | head -1`: the pipe closes after the first
    line, the next write fails, and the command ends quietly, as `yes | head -1` does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "common.cli", "extract", "--format", "jsonl", "--jobs", "1"]
        + invoices * 3,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # as `head -1` exits
    errors = process.stderr.read().decode()
    process.wait(timeout=60)
    assert json.loads(first)["file"] == invoices[0]
    assert "Traceback" not in errors
    assert "BrokenPipeError" not in errors
