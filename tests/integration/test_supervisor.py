"""`invex up`, the real supervisor with its real children (gunicorn, two Celery workers and
beat), against the suite's PostgreSQL and Redis: a database of its own (which `invex up`
migrates) and a Redis database of its own, so its beat and workers touch nothing of the
other tests. Tests that need the same options share one stack (Stacks), in file order."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support import (
    HTTP,
    INVEX_UP_REDIS_DATABASE,
    ROOT,
    Receiver,
    database_url_for,
    free_port,
    make_text_pdf,
    private_root,
    wait_until,
)

pytestmark = pytest.mark.slow


class Up:
    """One `invex up` process tree; its output (children's included) goes to `log`."""

    def __init__(self, database_url: str, redis_url: str, *args: str, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.root = private_root("invex-up-")
        self.log = self.root / "up.log"
        self.uploaded: dict | None = None  # uploaded_once
        self._key: str | None = None
        inherited = {
            name: value
            for name, value in os.environ.items()
            # the suite's own switches, and the metrics directory an earlier test gave this
            # process: `invex up` must decide these itself
            if name
            not in (
                "INVEX_WEBHOOK_ALLOW_PRIVATE",
                "INVEX_WEBHOOK_ALLOW_HTTP",
                "PROMETHEUS_MULTIPROC_DIR",
            )
        }
        self.env = {
            **inherited,
            "INVEX_DATABASE_URL": database_url,
            "INVEX_REDIS_URL": redis_url,
            "INVEX_DATA_DIR": str(self.root / ".invex"),
            "INVEX_PORT": str(self.port),
            "INVEX_WEB_CONCURRENCY": "1",
            "INVEX_EXTRACT_CONCURRENCY": "1",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "common.cli", "up", *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text()

    def api_answers(self) -> bool:
        try:
            return HTTP.get(f"{self.base_url}/v1", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_until_up(self) -> None:
        wait_until(
            lambda: self.api_answers() and self.child_pid("webhooks") is not None,
            90,
            message=f"invex up did not start:\n{self.output()}",
        )

    def child_pid(self, name: str) -> int | None:
        """The pid of the supervisor's child running `name` (its Celery queue, or the API)."""
        marker = {"api": "gunicorn", "webhooks": "webhooks", "worker": "extract"}[name]
        listing = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        for pid in map(int, listing.split()):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in argv:
                return pid
        return None

    def cli(self, *args: str) -> dict:
        """An `invex` command against this service's database, its JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "common.cli", *args, "--json"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    @property
    def key(self) -> str:
        """A key of an organisation made with `invex` against this stack, once per stack:
        each command is a process that imports the service."""
        if self._key is None:
            org = self.cli("orgs", "create", "Supervised Ltd")
            self._key = self.cli("keys", "create", "--org", org["id"])["secret"]
        return self._key

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def new_up_servers(servers: dict) -> tuple[str, str, str]:
    """A fresh database and a Redis database number for one `invex up`: its name, URLs."""
    name = f"invex_up_{secrets.token_hex(4)}"
    with psycopg.connect(servers["server_url"], autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return (
        name,
        database_url_for(servers["server_url"], name),
        database_url_for(servers["redis_url"], INVEX_UP_REDIS_DATABASE),
    )


class Stacks:
    """One `invex up` at a time, on a fresh database, kept for the next test that asks for
    the same options: a stack's start-up is most of these tests' time. A test that stops
    its stack (or crashes it) leaves the next one to start afresh."""

    def __init__(self, servers: dict) -> None:
        self.servers = servers
        self.current: Up | None = None
        self.options: tuple = ()
        self.database = ""

    def get(self, *args: str, **env: str) -> Up:
        options = (args, sorted(env.items()))
        if self.current and self.options == options and self.current.process.poll() is None:
            return self.current
        self.close()
        self.database, database_url, redis_url = new_up_servers(self.servers)
        self.current, self.options = Up(database_url, redis_url, *args, **env), options
        self.current.wait_until_up()
        return self.current

    def close(self) -> None:
        up, self.current = self.current, None
        if up is None:
            return
        up.stop()
        for leftover in ("webhooks", "worker", "api"):
            assert up.child_pid(leftover) is None
        with psycopg.connect(self.servers["server_url"], autocommit=True) as conn:
            conn.execute(f"drop database if exists {self.database} with (force)")
        shutil.rmtree(up.root, ignore_errors=True)


@pytest.fixture(scope="module")
def start_up(servers, module_database) -> Iterator:
    """`start_up(*args, **env)`: a running `invex up` with those options."""
    stacks = Stacks(servers)
    try:
        yield stacks.get
    finally:
        stacks.close()


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def plain_up(start_up, metrics_port) -> Up:
    """`invex up` as deployed, with its metrics ports and JSON logs on (neither changes what
    the tests on it check)."""
    return start_up(INVEX_METRICS_PORT=str(metrics_port), INVEX_LOG_FORMAT="json")


def create_webhook(up: Up, key: str, url: str) -> httpx.Response:
    return HTTP.post(
        f"{up.base_url}/v1/webhooks",
        headers={"Authorization": f"Bearer {key}"},
        json={"url": url, "events": ["invoice.created"]},
        timeout=10,
    )


LOCAL_TARGETS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://2130706433:{port}/",
    "https://127.0.0.1:{port}/",
    "https://localhost:{port}/",
    "https://169.254.169.254/latest",
]


def upload_and_wait(up: Up, key: str) -> dict:
    """Upload a text PDF through the API and wait until its extraction has finished."""
    headers = {"Authorization": f"Bearer {key}"}
    created = HTTP.post(
        f"{up.base_url}/v1/invoices",
        headers=headers,
        files={"file": ("invoice.pdf", make_text_pdf(), "application/pdf")},
        timeout=30,
    )
    assert created.status_code == 202, created.text
    invoice_id = created.json()["id"]

    def finished() -> dict | None:
        invoice = HTTP.get(f"{up.base_url}/v1/invoices/{invoice_id}", headers=headers).json()
        return invoice if invoice["status"] in ("succeeded", "failed") else None

    invoice = wait_until(finished, 60, interval=0.2, message=up.output())
    assert invoice["status"] == "succeeded", (invoice["error"], up.output()[-3000:])
    return {**invoice, "request_id": created.headers["Request-Id"]}


def uploaded_once(up: Up) -> dict:
    """The one upload of a stack that the tests on it share, made by the first to ask."""
    if up.uploaded is None:
        up.uploaded = upload_and_wait(up, up.key)
    return up.uploaded


def scrape(url: str) -> str:
    """The process's metrics once it listens: under load a worker may still be starting
    (and its metrics port closed) after the stack already serves uploads."""
    responses: list[httpx.Response] = []

    def answered() -> bool:
        with contextlib.suppress(httpx.ConnectError):
            responses.append(HTTP.get(url, timeout=10))
        return bool(responses)

    wait_until(answered, timeout=30, interval=0.2, message=f"nothing listens at {url}")
    assert responses[0].status_code == 200
    return responses[0].text


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def test_up_refuses_webhooks_to_this_machine_by_default(plain_up):
    up = plain_up
    key = up.key
    answers = {
        url: create_webhook(up, key, url.format(port=up.port)).status_code for url in LOCAL_TARGETS
    }
    assert answers == dict.fromkeys(LOCAL_TARGETS, 400)
    assert "WARNING" not in up.output()


def test_each_process_type_serves_its_metrics(plain_up, metrics_port):
    up, base = plain_up, metrics_port
    uploaded_once(up)  # the stack's only upload
    api = scrape(f"{up.base_url}/metrics")
    assert re.search(
        r'invex_http_request_seconds_count\{method="POST",route="/v1/invoices",status="202"\} 1\.0',
        api,
    )
    assert re.search(r'invex_jobs_waiting\{kind="extraction"\} 0\.0', api)
    extraction = scrape(f"http://127.0.0.1:{base}/metrics")
    # counted in the pool's child, served by the worker's parent
    assert re.search(
        r'invex_extraction_seconds_count\{outcome="succeeded",source="pdf_text"\} 1\.0',
        extraction,
    )
    for port in (base + 1, base + 2):  # the webhook and exports workers
        assert "invex_webhook_delivery_lag_seconds_count" in scrape(
            f"http://127.0.0.1:{port}/metrics"
        )


def test_json_logs_follow_one_upload_by_its_ids(plain_up):
    up = plain_up
    invoice = uploaded_once(up)
    lines = []
    for text in up.output().splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(text))
    mine = [line for line in lines if line.get("invoice_id") == invoice["id"]]
    request = [line for line in mine if line.get("request_id") == invoice["request_id"]]
    assert request, up.output()
    assert request[0]["org_id"].startswith("org_")
    assert request[0]["message"].startswith("POST /v1/invoices 202")
    # the worker's lines: Celery's name the invoice, not the task's UUID
    worker = [line for line in mine if "request_id" not in line]
    assert any(f"extract_invoice[{invoice['id']}] succeeded" in line["message"] for line in worker)
    assert any(line["message"].startswith(f"extracted {invoice['id']}") for line in worker)


def test_status_lists_the_processes_and_the_queues(plain_up):
    up = plain_up
    status = up.cli("status")
    names = {process["name"]: process for process in status["processes"]}
    assert set(names) == {
        "api", "worker", "webhooks", "exports", "bank", "mail", "publish", "beat"
    }  # fmt: skip
    assert all(process["running"] for process in names.values())
    assert names["webhooks"]["pid"] == up.child_pid("webhooks")
    assert set(status["queues"]) == {"extract", "webhooks", "exports"}
    assert {row["kind"] for row in status["waiting"]} == {
        "extraction",
        "webhook_delivery",
        "export",
    }


def kill_webhooks_until_restarted(up: Up) -> tuple[int, list[bool]]:
    """SIGKILL the webhook worker and wait for the supervisor's new one: its pid, and
    whether the API answered at each look meanwhile."""
    webhooks = up.child_pid("webhooks")
    assert webhooks is not None
    os.kill(webhooks, signal.SIGKILL)
    answers: list[bool] = []

    def restarted() -> int | None:
        answers.append(up.api_answers())
        pid = up.child_pid("webhooks")
        return pid if pid not in (None, webhooks) else None

    return wait_until(restarted, 30, interval=0.2, message=up.output()), answers


def test_sigterm_after_a_restart_stops_everything_cleanly(plain_up):
    """The plain stack's last test: a killed child comes back while the API keeps
    answering, and one SIGTERM still ends the supervisor and every child."""
    up = plain_up
    api, worker = up.child_pid("api"), up.child_pid("worker")
    new_webhooks, answers = kill_webhooks_until_restarted(up)
    assert all(answers)
    assert (up.child_pid("api"), up.child_pid("worker")) == (api, worker)
    assert "webhooks exited with -9; restarting in 1 s (restart 1 of 5 in 60 s)" in up.output()
    assert up.stop() == 0
    assert not any(alive(pid) for pid in (api, worker, new_webhooks))


# The --dev stack, with two restarts allowed in a window no slow run outlasts: its tests
# run in file order, and the crash loop, which ends it, comes last.
DEV_TWO_RESTARTS = {"INVEX_RESTART_LIMIT": "2", "INVEX_RESTART_WINDOW": "900"}


def test_up_dev_delivers_to_a_local_receiver_and_says_so_loudly(start_up):
    up = start_up("--dev", **DEV_TWO_RESTARTS)
    receiver = Receiver()
    try:
        key = up.key
        created = create_webhook(up, key, receiver.url)
        assert created.status_code == 201, created.text
        ping = HTTP.post(
            f"{up.base_url}/v1/webhooks/{created.json()['id']}/test",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert ping.status_code < 300, ping.text
        wait_until(receiver.events, 30, message="the ping was not delivered")
        assert create_webhook(up, key, "http://169.254.169.254/latest").status_code == 400
    finally:
        receiver.close()
    warning = [line for line in up.output().splitlines() if "WARNING" in line]
    assert warning, up.output()
    assert "INVEX_WEBHOOK_ALLOW_PRIVATE=1" in warning[0]
    assert "INVEX_WEBHOOK_ALLOW_HTTP=1" in warning[0]


def test_a_killed_webhook_worker_is_restarted_and_delivers(start_up):
    up = start_up("--dev", **DEV_TWO_RESTARTS)
    api, worker = up.child_pid("api"), up.child_pid("worker")
    new_webhooks, _ = kill_webhooks_until_restarted(up)
    assert up.process.poll() is None
    assert (up.child_pid("api"), up.child_pid("worker")) == (api, worker)
    assert "ERROR: webhooks exited with -9; restarting in 1 s (restart 1 of 2 in 900 s)" in (
        up.output()
    )
    receiver = Receiver()
    try:
        key = up.key
        endpoint = create_webhook(up, key, receiver.url).json()
        HTTP.post(
            f"{up.base_url}/v1/webhooks/{endpoint['id']}/test",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        wait_until(receiver.events, 60, message="the restarted worker did not deliver")
    finally:
        receiver.close()
    assert up.child_pid("webhooks") == new_webhooks


def test_a_crash_loop_stops_everything_and_exits_non_zero(start_up):
    up = start_up("--dev", **DEV_TWO_RESTARTS)
    api, worker = up.child_pid("api"), up.child_pid("worker")
    killed: set[int] = set()

    def kill_each_webhook_worker() -> bool:
        """Kills the webhook worker the supervisor runs now, if not killed already, until
        the supervisor gives up: however many crashes an earlier test on the stack caused."""
        pid = up.child_pid("webhooks")
        if pid is not None and pid not in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        return up.process.poll() is not None

    wait_until(kill_each_webhook_worker, 60, interval=0.1, message=up.output())
    assert up.process.wait(60) != 0
    output = up.output()
    assert "restarting in 2 s (restart 2 of 2 in 900 s)" in output
    assert "ERROR: webhooks exited with -9; crashed 3 times in 900 s; stopping" in output
    assert not any(alive(pid) for pid in (api, worker))
