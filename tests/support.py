"""Test support: real service processes and documents made on the spot."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
# The tests' bare requests, the probes of the waits above all: httpx.get() builds a TLS
# context for each call. No keep-alive, so each request still comes on a connection of its
# own, as httpx.get()'s did.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


# Creating a file on this machine's disk costs about a millisecond of kernel time, and a
# private PostgreSQL cluster (initdb, a copy of one, each module's database) is a thousand
# files; on a tmpfs the same costs a thirtieth (docs/performance.md).
SCRATCH_MIN_FREE = 2 << 30
SCRATCH_STALE_SECONDS = 24 * 3600


@functools.cache
def scratch_parent() -> Path:
    """Where private servers' data roots go: a directory of this user's on /dev/shm when
    that has room, else the system's temporary directory."""
    shm = Path("/dev/shm")
    try:
        room = os.statvfs(shm)
        if room.f_bavail * room.f_frsize >= SCRATCH_MIN_FREE:
            parent = shm / f"invex-tests-{os.getuid()}"
            with contextlib.suppress(FileExistsError):
                # 0755: the `postgres` user, who runs the private servers, must get through
                parent.mkdir(mode=0o755)
            # /dev/shm is everyone's: use the name only if it is our own directory
            st = parent.lstat()
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022:
                return parent
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def remove_stale_scratch() -> None:
    """Data roots a killed run left behind (a tmpfs holds them in memory until reboot);
    a day old, so a suite running beside this one keeps its own."""
    parent = scratch_parent()
    if parent == Path(tempfile.gettempdir()):
        return
    cutoff = time.time() - SCRATCH_STALE_SECONDS
    for entry in parent.iterdir():
        with contextlib.suppress(OSError):
            if entry.lstat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


def private_root(prefix: str) -> Path:
    """A fresh data root for private servers. Not pytest's tmp_path: as root that lives
    under a 0700 directory the `postgres` user (who runs the private server) cannot enter."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_parent()))
    root.chmod(0o755)
    return root


# Databases of the suite's private Redis. 0 is each module's own, emptied as the module
# starts; these are kept apart from it and from each other.
SHARED_E2E_REDIS_DATABASE = "1"  # the shared e2e service's broker (tests/e2e/conftest.py)
# The broker of a second API a shared-service module starts for itself (the PostgreSQL
# outage test): on the shared service's, its nudges would interfere.
SIDE_REDIS_DATABASE = "2"
INVEX_UP_REDIS_DATABASE = "7"  # `invex up` in tests/integration/test_supervisor.py


def database_url_for(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def clone_database(url: str, template: str, name: str) -> str:
    """A new database `name` copied from `template` (no one may be connected to it): a
    migrated schema in milliseconds, instead of running the migrations again."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        # PostgreSQL 15's default strategy writes the whole copy to the WAL; copying the files
        # takes a third of the time, and these databases need no crash safety.
        strategy = " strategy file_copy" if conn.info.server_version >= 150000 else ""
        conn.execute(f'create database "{name}" template "{template}"{strategy}')
    return database_url_for(url, name)


def drop_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")


def gunicorn_args(workers: int, threads: int) -> list[str]:
    """The Procfile's `web` options (bench/api_load.py gives its bare server the same)."""
    return [
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]


class ServiceProcesses:
    """gunicorn and a Celery extraction worker against the given servers."""

    def __init__(self, database_url: str, redis_url: str, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Its processes' logs and temporary files: in the suite's scratch, which a later run
        # empties a day on, so a failed run's logs can still be read.
        self.root = private_root(f"invex-service-{self.port}-")
        (self.root / "tmp").mkdir()
        (self.root / "metrics").mkdir()
        self.env = {
            **os.environ,
            "INVEX_DATABASE_URL": database_url,
            "INVEX_REDIS_URL": redis_url,
            "INVEX_WEBHOOK_ALLOW_PRIVATE": "1",
            "INVEX_WEBHOOK_ALLOW_HTTP": "1",
            "PYTHONUNBUFFERED": "1",
            # multiprocessing's pymp-* directories outlive a SIGKILLed process
            "TMPDIR": str(self.root / "tmp"),
            **env,
        }
        self.api: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.webhooks: subprocess.Popen | None = None
        self.exports: subprocess.Popen | None = None
        self.exports_log = self.root / "exports.log"
        self.bank: subprocess.Popen | None = None
        self.others: list[subprocess.Popen] = []
        self.bank_log = self.root / "bank.log"
        self.publish: subprocess.Popen | None = None
        self.publish_log = self.root / "publish.log"
        # each process type its own metrics directory, as `invex up` gives them
        self.metrics_root = self.root / "metrics"
        self.worker_log = self.root / "worker.log"
        self.webhooks_log = self.root / "webhooks.log"

    def start(self) -> None:
        # Tasks left by in-process API tests (which run no worker) would queue ahead of ours.
        import redis

        redis.Redis.from_url(self.env["INVEX_REDIS_URL"]).delete("extract", "webhooks")
        # and their invoices, never dispatched, would be dispatched ahead of ours
        with psycopg.connect(self.env["INVEX_DATABASE_URL"], autocommit=True) as conn:
            conn.execute(
                "update invoices set dispatched_at = now()"
                " where status = 'queued' and dispatched_at is null"
            )
        # All three import and start at once; the waits below overlap their start-ups.
        self.api = self._spawn_api()
        self.worker = self._spawn_worker()
        self.webhooks = self._spawn_webhook_worker()
        self._wait_api()
        self._wait_ready(self.worker, "extract", self.worker_log)
        self._wait_ready(self.webhooks, "webhooks", self.webhooks_log)

    def ensure_running(self) -> None:
        """Start again what an earlier module stopped or killed (a shared service)."""
        if self.api is None or self.api.poll() is not None:
            self.start_api()
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()
        if self.webhooks is None or self.webhooks.poll() is not None:
            self.start_webhook_worker()

    def start_api(self, workers: int = 1, threads: int = 8) -> None:
        """gunicorn as the Procfile runs it (`web`), by default with one worker: each imports
        the API, and the tests' few requests need no second (tests/integration/test_members.py
        asks for two, to see both forget a key)."""
        self.api = self._spawn_api(workers, threads)
        self._wait_api()

    def _spawn_api(self, workers: int = 1, threads: int = 8) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:api.gunicorn_config",
                "api.wsgi:app",
                "--bind",
                f"127.0.0.1:{self.port}",
                *gunicorn_args(workers, threads),
            ],
            cwd=ROOT,
            env={**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_root / "api")},
            # its own group, so stop() ends the master and its workers at once
            start_new_session=True,
        )

    def _wait_api(self) -> None:
        def answers() -> bool:
            assert self.api is not None
            if self.api.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.api.returncode}")
            return self._api_answers()

        wait_until(answers, 30, message="gunicorn did not start")

    def _api_answers(self) -> bool:
        try:
            HTTP.get(f"{self.base_url}/v1", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    def _spawn_celery_worker(self, queue: str, log_path: Path, *options: str) -> subprocess.Popen:
        """A real Celery worker process (own session, so it can be killed as a group)."""
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "-Q",
                queue,
                *options,
                "--loglevel",
                "INFO",
                "-n",
                f"{queue}-{self.port}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env={**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_root / queue)},
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @staticmethod
    def _wait_ready(process: subprocess.Popen, queue: str, log_path: Path) -> None:
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(
                    f"celery worker for {queue} exited:\n{log_path.read_text()[-3000:]}"
                )
            return "ready." in log_path.read_text()

        wait_until(ready, 60, message=f"celery worker for {queue} did not start")

    def _start_celery_worker(self, queue: str, log_path: Path, *options: str) -> subprocess.Popen:
        process = self._spawn_celery_worker(queue, log_path, *options)
        self._wait_ready(process, queue, log_path)
        return process

    def start_worker(self, concurrency: int = 1) -> None:
        self.worker = self._spawn_worker(concurrency)
        self._wait_ready(self.worker, "extract", self.worker_log)

    def _spawn_worker(self, concurrency: int = 1) -> subprocess.Popen:
        return self._spawn_celery_worker("extract", self.worker_log, "-c", str(concurrency))

    def start_webhook_worker(self) -> None:
        self.webhooks = self._spawn_webhook_worker()
        self._wait_ready(self.webhooks, "webhooks", self.webhooks_log)

    def _spawn_webhook_worker(self) -> subprocess.Popen:
        return self._spawn_celery_worker("webhooks", self.webhooks_log, "-P", "threads", "-c", "8")

    def start_exports_worker(self) -> None:
        """An exports worker as the Procfile runs it; started by the tests that need it and
        kept for the session. Tasks sent by in-process API tests are dropped first."""
        if self.exports is not None and self.exports.poll() is None:
            return
        import redis

        redis.Redis.from_url(self.env["INVEX_REDIS_URL"]).delete("exports")
        self.exports = self._start_celery_worker("exports", self.exports_log, "-c", "1")

    def start_bank_worker(self) -> None:
        """A bank worker as the Procfile runs it, kept for the session; tasks sent by
        in-process API tests are dropped first."""
        if self.bank is not None and self.bank.poll() is None:
            return
        import redis

        redis.Redis.from_url(self.env["INVEX_REDIS_URL"]).delete("bank")
        self.bank = self._start_celery_worker("bank", self.bank_log, "-c", "1")

    def start_mail_worker(self) -> None:
        """The `mail` worker as the Procfile runs it (threads), and beat, whose dispatcher
        sends the mailbox polls; both stop with the rest."""
        import redis

        redis.Redis.from_url(self.env["INVEX_REDIS_URL"]).delete("mail")
        log = self.root / "mail.log"
        self.others.append(self._start_celery_worker("mail", log, "-P", "threads", "-c", "4"))
        schedule = self.metrics_root / "beat-schedule"
        beat_log = self.root / "beat.log"
        self.others.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "workers.celery_app",
                    "beat",
                    "--schedule",
                    str(schedule),
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=beat_log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def start_publish_worker(self) -> None:
        """A publish worker as the Procfile runs it (threads), kept for the session; tasks
        sent by in-process API tests are dropped first."""
        if self.publish is not None and self.publish.poll() is None:
            return
        import redis

        redis.Redis.from_url(self.env["INVEX_REDIS_URL"]).delete("publish")
        self.publish = self._start_celery_worker(
            "publish", self.publish_log, "-P", "threads", "-c", "4"
        )

    def kill_webhook_worker(self) -> None:
        """SIGKILL the whole webhook worker: no warm shutdown, no acknowledgement."""
        if self.webhooks and self.webhooks.poll() is None:
            os.killpg(self.webhooks.pid, signal.SIGKILL)
            self.webhooks.wait()

    def worker_children(self) -> list[int]:
        assert self.worker is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()

    def stop(self) -> None:
        """SIGKILL to every process group: nothing is measured or flushed in these processes
        at exit, and a warm shutdown of each would cost seconds per module."""
        processes = [self.api, self.worker, self.webhooks, self.exports, self.bank, self.publish]
        processes += self.others
        for process in processes:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        for process in processes:
            if process is not None:
                process.wait(20)
        shutil.rmtree(self.metrics_root, ignore_errors=True)

    def client(self, secret: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)


def make_text_pdf(lines: list[str] | None = None, pages: int = 1) -> bytes:
    """A small invoice PDF with a real text layer."""
    import pymupdf

    lines = lines or [
        "ACME Supplies GmbH",
        "Invoice",
        "Invoice number: INV-2026-0042",
        "Invoice date: 2026-03-14",
        "Subtotal: 100.00 EUR",
        "VAT 19%: 19.00 EUR",
        "Total: 119.00 EUR",
    ]
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()
        for number, line in enumerate(lines):
            page.insert_text((72, 72 + 18 * number), line, fontsize=11)
    data = doc.tobytes()
    doc.close()
    return data


def make_demo_pdf(replace: dict[str, str] | None = None) -> bytes:
    """common/demo.py's invoice with some of its texts replaced: a quote
    (`QUOTE_TEXTS`), or an invoice with other prices."""
    import pymupdf

    from common.demo import DEMO_LINES

    replace = replace or {}
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for x, y, text, size in DEMO_LINES:
        page.insert_text((x, y), replace.get(text, text), fontsize=size, fontname="helv")
    data = doc.tobytes()
    doc.close()
    return data


# The demo invoice as the supplier's quote for the same goods, valid into 2027.
QUOTE_TEXTS = {
    "Rechnung": "Angebot",
    "Rechnungsnummer:  RE-2026-1187": "Angebotsnummer:  AN-2026-0042",
    "Rechnungsdatum:  14.03.2026": "Angebotsdatum:  20.11.2026",
    "Fällig am:  13.04.2026": "Gültig bis:  31.01.2027",
}
# The demo invoice billing the toner at 82,00 € instead of the quoted 75,50 €.
HIGHER_PRICE_TEXTS = {
    "75,50 €": "82,00 €",
    "151,00 €": "164,00 €",
    "200,00 €": "213,00 €",
    "38,00 €": "40,47 €",
    "238,00 €": "253,47 €",
}


def make_ubl_invoice(number: str = "UBL-7", total: str = "119.00") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-02-01</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity>
    <cbc:RegistrationName>Seller BV</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>
    <cbc:RegistrationName>Buyer AG</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{total}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Widget</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>""".encode()


class Receiver:
    """A real HTTP webhook receiver on loopback. `script` decides each answer:
    a list of (status, delay_seconds) consumed in order, then `default`."""

    def __init__(self, default: tuple[int, float] = (200, 0.0)) -> None:
        import http.server
        import threading

        self.requests: list[dict] = []
        self.script: list[tuple[int, float]] = []
        self.default = default
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status, delay = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.requests.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "path": self.path,
                            "at": time.time(),
                            "answered": status,
                        }
                    )
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        import json

        with self.lock:
            return [json.loads(r["body"]) for r in self.requests if r["answered"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def export_now(export_id: str) -> str:
    """Run the real export task in this process and return the export's final status. An
    exports worker left running by the e2e tests may take the task first (the claim decides,
    and this run then skips): either way the export ends finished."""
    from common import db
    from workers.export_tasks import run_export

    run_export.apply(args=[export_id])

    def final_status() -> str | None:
        with db.connection() as conn:
            row = conn.execute(
                "select status from exports where id = %(id)s", {"id": export_id}
            ).fetchone()
        return row["status"] if row and row["status"] in ("succeeded", "failed") else None

    return wait_until(final_status, 60, message=f"{export_id} did not finish")


def parse_statement_now(statement_id: str) -> str:
    """Run the real bank statement task in this process and return the statement's final
    status (a bank worker left running by the e2e tests may take it first: either way the
    statement ends parsed)."""
    from common import db
    from workers.bank_tasks import parse_statement

    parse_statement.apply(args=[statement_id])

    def final_status() -> str | None:
        with db.connection() as conn:
            row = conn.execute(
                "select status from bank_statements where id = %(id)s", {"id": statement_id}
            ).fetchone()
        return row["status"] if row and row["status"] in ("processed", "failed") else None

    return wait_until(final_status, 30, message=f"{statement_id} was not parsed")


def extract_now(invoice_id: str) -> str:
    """Run the real extraction task in this process and return the invoice's final status.
    A worker process left running by the e2e tests may take the task first (the claim
    decides, and this run then skips): either way the invoice ends extracted."""
    from common import db
    from workers.tasks import extract_invoice

    extract_invoice.apply(args=[invoice_id])

    def final_status() -> str | None:
        with db.connection() as conn:
            row = conn.execute(
                "select status from invoices where id = %(id)s", {"id": invoice_id}
            ).fetchone()
        return row["status"] if row and row["status"] in ("succeeded", "failed") else None

    return wait_until(final_status, 30, message=f"{invoice_id} was not extracted")


def one_of_everything(client, headers: dict[str, str]) -> dict[str, str]:
    """One object of every kind an API path names, made through the API with `headers`'
    key (a Flask test client), by path parameter name: `{"invoice_id": "inv_...", ...}`."""
    import io

    invoice = client.post(
        "/v1/invoices", headers=headers, data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")}
    ).get_json()
    extract_now(invoice["id"])
    endpoint = client.post(
        "/v1/webhooks", headers=headers, json={"url": "https://example.com/h"}
    ).get_json()
    ping = client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=headers).get_json()
    schema = client.post(
        "/v1/schemas", headers=headers, json={"name": "s", "fields": [{"name": "f"}]}
    ).get_json()
    key = client.post("/v1/api-keys", headers=headers, json={}).get_json()
    member = client.post(
        "/v1/members", headers=headers, json={"email": "owned@example.com"}
    ).get_json()
    event = client.get("/v1/events", headers=headers).get_json()["data"][0]
    export = client.post("/v1/exports", headers=headers, json={"format": "csv"}).get_json()
    statement = client.post(
        "/v1/bank/statements",
        headers=headers,
        data={"file": (io.BytesIO(b"Date,Amount,Text\n2026-03-20,-1.00,x\n"), "s.csv")},
    ).get_json()
    parse_statement_now(statement["id"])
    transaction = client.get(
        f"/v1/bank/statements/{statement['id']}/transactions", headers=headers
    ).get_json()["data"][0]
    reconciliation = client.post("/v1/bank/reconcile", headers=headers, json={}).get_json()
    # matched by hand and undone at once: the invoice stays as it was
    match = client.post(
        "/v1/bank/matches",
        headers=headers,
        json={"transaction_id": transaction["id"], "invoice_id": invoice["id"]},
    ).get_json()
    client.delete(f"/v1/bank/matches/{match['id']}", headers=headers)
    mailbox = client.post(
        "/v1/mailboxes",
        headers=headers,
        json={"host": "imap.example.com", "username": "u", "password": "p", "enabled": False},
    ).get_json()
    upload = client.post(
        "/v1/invoices",
        headers=headers,
        data={"file": (io.BytesIO(make_demo_pdf(QUOTE_TEXTS)), "quote.pdf")},
    ).get_json()
    extract_now(upload["id"])
    quote = client.get("/v1/quotes", headers=headers).get_json()["data"][0]
    order = client.post(
        "/v1/purchase-orders",
        headers=headers,
        json={"number": f"PO-{upload['id'][-8:]}", "currency": "EUR", "total_amount": 100},
    ).get_json()
    return {
        "mailbox_id": mailbox["id"],
        "export_id": export["id"],
        "statement_id": statement["id"],
        "reconciliation_id": reconciliation["id"],
        "match_id": match["id"],
        "invoice_id": invoice["id"],
        "endpoint_id": endpoint["id"],
        "delivery_id": ping["id"],
        "schema_id": schema["id"],
        "key_id": key["id"],
        "event_id": event["id"],
        "member_id": member["id"],
        "quote_id": quote["id"],
        "order_id": order["id"],
        "provider": "xero",  # a name, not an object: /v1/integrations/{provider}/...
    }
