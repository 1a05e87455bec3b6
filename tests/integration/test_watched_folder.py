"""The watched folder against the real database: a file is taken only once it settles,
becomes one invoice however often it is dropped or the watcher restarts, and a file that
is no invoice goes to failed/ with a note; `invex watch` runs it as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from common import db
from common.accounts.service import principal_for_org
from common.errors import ResourceNotFound
from common.watched_folder import FolderWatcher
from tests.support import ROOT, make_text_pdf, wait_until

SETTLE = 1.0


@pytest.fixture
def folder(tmp_path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


@pytest.fixture
def watcher(folder, tenant) -> FolderWatcher:
    principal = principal_for_org(tenant.org.id, livemode=True, acting_as="folder")
    return FolderWatcher(folder, principal, settle=SETTLE)


def folder_invoices(org_id: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute(
            "select id, file_name, source_channel, metadata, idempotency_key from invoices"
            " where org_id = %(org)s order by id",
            {"org": org_id},
        ).fetchall()


def names(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_file())


def test_a_settled_file_becomes_an_invoice_and_moves_to_done(folder, watcher, tenant):
    (folder / "scan.pdf").write_bytes(make_text_pdf())
    assert watcher.poll(now=100.0) == []  # first seen: not settled yet
    [outcome] = watcher.poll(now=100.0 + SETTLE)
    assert outcome.error is None
    assert outcome.path == folder / "done" / "scan.pdf"
    assert names(folder) == []
    [invoice] = folder_invoices(tenant.org.id)
    assert invoice["id"] == outcome.invoice_id
    assert invoice["source_channel"] == "folder"
    assert invoice["metadata"] == {"folder_file": "scan.pdf"}
    assert invoice["idempotency_key"].startswith("folder:sha256:")


def test_a_file_still_being_written_is_not_taken_until_it_settles(folder, watcher, tenant):
    pdf = make_text_pdf()
    partial = folder / "growing.pdf"
    with partial.open("wb") as out:
        out.write(pdf[: len(pdf) // 2])
        out.flush()
        assert watcher.poll(now=0.0) == []
        # it grows before the settle time is over: the wait starts again
        out.write(pdf[len(pdf) // 2 : -10])
        out.flush()
        assert watcher.poll(now=SETTLE * 0.9) == []
        assert watcher.poll(now=SETTLE * 1.5) == []
        out.write(pdf[-10:])
    assert watcher.poll(now=SETTLE * 2) == []
    assert folder_invoices(tenant.org.id) == []
    [outcome] = watcher.poll(now=SETTLE * 3.1)
    assert outcome.invoice_id is not None
    assert (folder / "done" / "growing.pdf").read_bytes() == pdf


def test_the_same_file_twice_makes_one_invoice(folder, watcher, tenant):
    pdf = make_text_pdf(["Invoice number: SAME-1"])
    (folder / "a.pdf").write_bytes(pdf)
    watcher.poll(now=0.0)
    [first] = watcher.poll(now=SETTLE)
    (folder / "a.pdf").write_bytes(pdf)  # dropped again, same name
    (folder / "copy of a.pdf").write_bytes(pdf)
    watcher.poll(now=10.0)
    again = watcher.poll(now=10.0 + SETTLE)
    assert {o.invoice_id for o in again} == {first.invoice_id}
    assert len(folder_invoices(tenant.org.id)) == 1
    assert names(folder / "done") == ["a (2).pdf", "a.pdf", "copy of a.pdf"]


def test_a_restart_between_upload_and_move_uploads_nothing_twice(folder, watcher, tenant):
    path = folder / "crash.pdf"
    path.write_bytes(make_text_pdf(["Invoice number: CRASH-1"]))
    uploaded = watcher._upload(path)  # the upload committed; the process dies before the move
    restarted = FolderWatcher(folder, watcher.principal, settle=SETTLE)
    restarted.poll(now=0.0)
    [outcome] = restarted.poll(now=SETTLE)
    assert outcome.invoice_id == uploaded
    assert outcome.path == folder / "done" / "crash.pdf"
    assert len(folder_invoices(tenant.org.id)) == 1


def test_a_file_that_is_no_invoice_goes_to_failed_with_a_note(folder, watcher, tenant):
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 a word document")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n not really")
    watcher.poll(now=0.0)
    outcomes = watcher.poll(now=SETTLE)
    assert len(outcomes) == 3
    assert all(o.invoice_id is None for o in outcomes)
    failed = folder / "failed"
    assert names(failed) == [
        "broken.pdf",
        "broken.pdf.error.txt",
        "empty.pdf",
        "empty.pdf.error.txt",
        "notes.docx",
        "notes.docx.error.txt",
    ]
    assert "unsupported_file_type" in (failed / "notes.docx.error.txt").read_text()
    assert "empty" in (failed / "empty.pdf.error.txt").read_text()
    assert "unreadable_file" in (failed / "broken.pdf.error.txt").read_text()
    assert folder_invoices(tenant.org.id) == []


def test_hidden_and_temporary_files_and_folders_are_left_alone(folder, watcher, tenant):
    (folder / ".scan.pdf.part").write_bytes(make_text_pdf())
    (folder / "scan.pdf~").write_bytes(make_text_pdf())
    (folder / "sub").mkdir()
    watcher.poll(now=0.0)
    assert watcher.poll(now=SETTLE * 2) == []
    assert folder_invoices(tenant.org.id) == []


def test_a_file_too_large_goes_to_failed(folder, watcher, tenant, monkeypatch):
    from common.config import get_settings

    monkeypatch.setenv("INVEX_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    try:
        (folder / "big.pdf").write_bytes(make_text_pdf() + b"\0" * 1000)
        watcher.poll(now=0.0)
        [outcome] = watcher.poll(now=SETTLE)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "file_too_large" in outcome.error


def test_an_unknown_organisation_is_refused(settings):
    with pytest.raises(ResourceNotFound):
        principal_for_org("org_missing", livemode=True, acting_as="folder")


def test_invex_watch_takes_files_and_survives_a_kill(folder, tenant):
    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "common.cli",
                "watch",
                str(folder),
                "--org",
                tenant.org.id,
                "--settle",
                "0.3",
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    process = start()
    try:
        (folder / "one.pdf").write_bytes(make_text_pdf(["Invoice number: W-1"]))
        wait_until((folder / "done" / "one.pdf").exists, 30, message="not taken")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        (folder / "two.pdf").write_bytes(make_text_pdf(["Invoice number: W-2"]))
        (folder / "one.pdf").write_bytes((folder / "done" / "one.pdf").read_bytes())
        process = start()
        wait_until(lambda: not (folder / "two.pdf").exists(), 30, message="not taken after restart")
        wait_until(lambda: not (folder / "one.pdf").exists(), 30, message="not taken again")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert len(folder_invoices(tenant.org.id)) == 2
    assert names(folder / "done") == ["one (2).pdf", "one.pdf", "two.pdf"]


def test_a_file_waits_while_the_credits_are_used_up(folder, watcher, tenant, monkeypatch):
    from common.config import get_settings

    monkeypatch.setenv("INVEX_PLAN_LIMITS", "free.monthly_pages=1")
    get_settings.cache_clear()
    try:
        (folder / "two-pages.pdf").write_bytes(make_text_pdf(pages=2))
        watcher.poll(now=0.0)
        assert watcher.poll(now=SETTLE) == []
        assert watcher.poll(now=SETTLE + 1) == []  # not tried again before RETRY_AFTER_SECONDS
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert names(folder) == ["two-pages.pdf"]
    assert folder_invoices(tenant.org.id) == []
    [outcome] = watcher.poll(now=SETTLE + 61)  # the plan allows it now
    assert outcome.invoice_id is not None


def test_a_file_that_cannot_be_moved_is_tried_again_and_uploaded_once(
    folder, watcher, tenant, monkeypatch
):
    from common import watched_folder

    real_replace = os.replace
    failures = iter([OSError("disk full")])

    def replace_failing_once(source, target):
        error = next(failures, None)
        if error is not None:
            raise error
        real_replace(source, target)

    monkeypatch.setattr(watched_folder.os, "replace", replace_failing_once)
    (folder / "stuck.pdf").write_bytes(make_text_pdf(["Invoice number: STUCK-1"]))
    watcher.poll(now=0.0)
    assert watcher.poll(now=SETTLE) == []  # uploaded, not moved
    assert names(folder) == ["stuck.pdf"]
    [outcome] = watcher.poll(now=SETTLE + 61)
    assert outcome.path == folder / "done" / "stuck.pdf"
    assert len(folder_invoices(tenant.org.id)) == 1
