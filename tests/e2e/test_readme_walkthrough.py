"""The README's walkthrough, pasted into bash against real processes: it goes through, and
the first failing step stops it with its reason while the shell it was pasted into lives."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

README_API = "API=http://127.0.0.1:8000"


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walkthrough", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def paste(snippet: str, api: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The snippet as a user pastes it, then one more command in the same shell; this
    clone's `invex` in place of the `.venv/bin/invex` of a clone's root."""
    assert README_API in snippet
    script = snippet.replace(README_API, f"API={api}").replace(
        ".venv/bin/invex", f"{sys.executable} -m common.cli"
    )
    return subprocess.run(
        ["bash", "-c", script + 'echo "the shell lives on after status $?"\n'],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_the_walkthrough_goes_through(service, tmp_path):
    done = paste(walkthrough(), service.base_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^uploaded inv_\w+$", done.stdout, re.MULTILINE)
    assert '"status": "succeeded"' in done.stdout
    assert "same file\n" in done.stdout
    assert done.stdout.endswith("the shell lives on after status 0\n")
    assert (tmp_path / "copy.pdf").read_bytes() == (tmp_path / "sample.pdf").read_bytes()


def test_no_api_stops_it_before_the_first_step(tmp_path):
    done = paste(walkthrough(), "http://127.0.0.1:9", tmp_path)
    assert "no API at http://127.0.0.1:9: run make up first" in done.stderr
    assert done.stdout == "the shell lives on after status 1\n"
    assert not (tmp_path / "sample.pdf").exists()


def test_a_failing_step_stops_it_with_the_reason(service, tmp_path):
    """The API answers but the command line reaches no database: step 1 stops it."""
    done = paste(
        walkthrough(),
        service.base_url,
        tmp_path,
        INVEX_DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",
    )
    assert "invex: " in done.stderr
    assert "stopped: no id in: (nothing)" in done.stderr
    assert done.stdout == "the shell lives on after status 1\n"
    assert not (tmp_path / "sample.pdf").exists()
