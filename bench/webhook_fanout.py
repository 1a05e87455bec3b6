"""Webhook deliveries per second from one webhook worker process, beside a bare httpx floor.

    python bench/webhook_fanout.py [--concurrency 8,16,32] [--endpoints 1,10,100]
                                   [--deliveries 2000] [--lag-samples 100]
                                   [--profile DELIVERIES]

What it does, in one run:

1. Starts a private PostgreSQL (fsync off, as the tests) and Redis (`common.embedded`, under a
   0755 directory in /tmp), applies the migrations, sets INVEX_WEBHOOK_ALLOW_PRIVATE=1 and
   INVEX_WEBHOOK_ALLOW_HTTP=1, and starts a receiver in a process of its own (this file with
   `--serve-receiver`): asyncio, HTTP/1.1 keep-alive, answers 200 at once and records the
   arrival time, the `Invex-Delivery` header and the body (event id and `created` are read
   from it afterwards, not on the hot path).
2. For each thread count (`--concurrency`): starts ONE webhook worker exactly as the Procfile
   (`celery -A workers.celery_app worker -Q webhooks -P threads -c C`), warms it up, then
   - bare: C threads sharing one pooled httpx.Client post the same event bodies, signed the
     same way (Invex-Signature and Standard Webhooks headers, computed per request), to the
     same receiver; rate = deliveries / (start -> last receipt). Run before and after the
     Invex drains and averaged, as the machine may be shared and its load drifts.
   - Invex, backlog drain, for 1, 10 and 100 endpoints of one organisation subscribed to
     `invoice.succeeded`: the worker's consumer is cancelled (Celery remote control), the
     events are recorded one transaction each with `common.events.record_event` (fan-out to
     every endpoint, tasks sent after commit, a fresh object id per event so no delivery
     waits for its chain), the consumer is added back; rate = deliveries / (add_consumer ->
     last receipt). Every delivery row is checked to be `succeeded` afterwards.
   Gevent is compared only if it is installed (it is not a dependency; none is added).
3. With the best thread count (by the median of the drain rates): Invex live, the same
   events recorded while the worker consumes (first enqueue -> last receipt), then the idle
   lag: one event at a time to one endpoint, event transaction start -> receipt.
4. `--profile D` records the worker with py-spy (`pip install py-spy`) during a drain of D
   deliveries to one endpoint and prints where thread time and CPU go.

Each run prints the cores in use (from /proc) of the worker, PostgreSQL, Redis, the
receiver, this driver and `others` (everything else on the machine, from /proc/stat), and
the sender's CPU milliseconds per delivery.

Every process and server is stopped at the end, also on Ctrl-C or SIGTERM.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.measurement import (  # noqa: E402
    BenchServers,
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    raise_interrupt,
    run_main,
    tree,
)
from tests.support import free_port, wait_until  # noqa: E402

EVENT_TYPE = "invoice.succeeded"
HOOK_PATH = "/hooks"


# --- the receiver (its own process) -----------------------------------------------------


class ReceiverProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1: Content-Length bodies, keep-alive, pipelining."""

    records: ClassVar[list[tuple[float, bytes, bytes]]] = []  # (arrival, head, body)

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
            total = end + 4 + (int(match[1]) if match else 0)
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            self.respond(head, body)

    def respond(self, head: bytes, body: bytes) -> None:
        arrived = time.time()
        path = head.split(b" ", 2)[1]
        answer = b"ok"
        if path == HOOK_PATH.encode():
            self.records.append((arrived, head, body))
        elif path == b"/_stats":
            answer = json.dumps(
                {"count": len(self.records), "last": self.records[-1][0] if self.records else None}
            ).encode()
        elif path == b"/_reset":
            self.records.clear()
        elif path == b"/_records":
            answer = json.dumps([summarise_request(*r) for r in self.records]).encode()
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(answer)).encode()
            + b"\r\n\r\n"
            + answer
        )


def summarise_request(arrived: float, head: bytes, body: bytes) -> dict:
    delivery = re.search(rb"\r\ninvex-delivery:\s*(\S+)", head, re.IGNORECASE)
    event = re.match(rb'\{"id":"([^"]+)"', body)
    created = re.search(rb'"created":(\d+)', body)
    return {
        "at": arrived,
        "delivery": delivery[1].decode() if delivery else None,
        "event": event[1].decode() if event else None,
        "created": int(created[1]) if created else None,
    }


def serve_receiver(port: int) -> None:
    async def main():
        server = await asyncio.get_running_loop().create_server(
            ReceiverProtocol, "127.0.0.1", port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, raise_interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + HOOK_PATH
        self.process: subprocess.Popen | None = None
        self.control = httpx.Client(base_url=self.base, timeout=30, trust_env=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-receiver", str(self.port)],
            cwd=ROOT,
            start_new_session=True,
        )
        wait_until(self._answers, 10, message="receiver did not start")

    def _answers(self) -> bool:
        try:
            self.control.get("/_stats")
        except httpx.HTTPError:
            return False
        return True

    def stats(self) -> dict:
        return self.control.get("/_stats").json()

    def reset(self) -> None:
        self.control.post("/_reset")

    def records(self) -> list[dict]:
        return self.control.get("/_records").json()

    def wait_for(self, count: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["count"] >= count:
                return stats
            if time.monotonic() > deadline:
                raise RuntimeError(f"receiver got {stats['count']} of {count} in {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.control.close()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# --- processes and CPU ------------------------------------------------------------------


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU seconds of each party between start() and stop(), as cores in use on average."""

    def __init__(self, parties: dict[str, callable]) -> None:
        self.parties = parties  # name -> function returning the pids (or None: this process)

    def _read(self) -> dict[str, float]:
        shares = {
            name: own_cpu() if pids is None else cpu_seconds(pids())
            for name, pids in self.parties.items()
        }
        shares["machine"] = machine_busy_seconds()
        return shares

    def start(self) -> None:
        self.began, self.before = time.monotonic(), self._read()

    def stop(self) -> dict[str, float]:
        seconds = time.monotonic() - self.began
        after = self._read()
        shares = {name: (after[name] - self.before[name]) / seconds for name in after}
        # Whatever else ran on the machine meanwhile (it is shared: other benchmarks, builds).
        busy = shares.pop("machine")
        shares["others"] = max(0.0, busy - sum(shares.values()))
        return shares


class WebhookWorker:
    """One Celery webhook worker, as the Procfile's `webhooks` line."""

    def __init__(
        self, env: dict, pool: str, concurrency: int, logdir: Path, prefetch: int | None = None
    ) -> None:
        self.pool, self.concurrency, self.prefetch = pool, concurrency, prefetch
        self.nodename = f"bench-webhooks-{pool}-{concurrency}-p{prefetch or 1}"
        self.destination = f"{self.nodename}@{socket.gethostname()}"
        self.log = logdir / f"{self.nodename}.log"
        self.env = env
        self.process: subprocess.Popen | None = None
        self.args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "-Q",
            "webhooks",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "-n",
            f"{self.nodename}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        if prefetch is not None:  # an experiment: the app config says 1
            self.args += ["--prefetch-multiplier", str(prefetch)]

    def start(self) -> None:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        app = control_app()
        wait_until(
            lambda: app.control.ping([self.destination], timeout=0.5),
            60,
            message="celery webhook worker did not answer a ping",
        )

    def cancel_consumer(self) -> None:
        control_app().control.cancel_consumer(
            "webhooks", destination=[self.destination], reply=True, timeout=5
        )

    def add_consumer(self) -> None:
        control_app().control.add_consumer("webhooks", destination=[self.destination], reply=False)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def control_app():
    from common.taskqueue import celery_app

    return celery_app()


# --- events ------------------------------------------------------------------------------


def fake_invoice(number: int) -> dict:
    """About the size of a real invoice resource (~1 KB of JSON)."""
    return {
        "id": f"inv_bench{number:08d}",
        "object": "invoice",
        "livemode": True,
        "status": "succeeded",
        "number": f"INV-2026-{number:05d}",
        "currency": "EUR",
        "issue_date": "2026-03-14",
        "due_date": "2026-04-13",
        "supplier": {
            "name": "ACME Supplies GmbH",
            "vat_id": "DE123456789",
            "iban": "DE89370400440532013000",
            "address": "Hauptstr. 1, 10115 Berlin",
        },
        "customer": {"name": "Buyer AG", "vat_id": "DE987654321"},
        "subtotal": "100.00",
        "tax": "19.00",
        "total": "119.00",
        "amount_due": "119.00",
        "lines": [
            {
                "description": f"Widget {n}",
                "quantity": "2",
                "unit_price": "25.00",
                "amount": "50.00",
                "tax_rate": "19",
            }
            for n in range(4)
        ],
        "source": {"filename": "invoice.pdf", "size": 1834, "sha256": "0" * 64},
        "created": 1716638400,
        "updated": 1716638401,
    }


class Tenant:
    """One organisation with `count` endpoints on the receiver, subscribed to EVENT_TYPE."""

    def __init__(self, name: str, count: int, url: str) -> None:
        from common.accounts.service import Principal, create_api_key, create_org
        from common.webhooks.service import create_endpoint

        self.org = create_org(name)
        key = create_api_key(self.org.id, livemode=True)
        principal = Principal(
            org_id=self.org.id, key_id=key.key.id, livemode=True, scopes=frozenset()
        )
        self.endpoints = [
            create_endpoint(principal, url=url, events=[EVENT_TYPE]) for _ in range(count)
        ]
        self.counter = 0

    def record(self, events: int) -> list[str]:
        """`events` events, one transaction each, as a state change would record them."""
        from common import db
        from common.events import record_event

        ids = []
        for _ in range(events):
            self.counter += 1
            number = self.counter
            with db.transaction() as conn:
                ids.append(
                    record_event(
                        conn,
                        org_id=self.org.id,
                        livemode=True,
                        type=EVENT_TYPE,
                        object_id=f"inv_{self.org.id[-8:]}{number:08d}",
                        data=fake_invoice(number),
                    )
                )
        return ids

    def delivery_states(self, event_ids: list[str]) -> dict[str, int]:
        from common import db

        with db.transaction() as conn:
            rows = conn.execute(
                "select status, count(*) as n from webhook_deliveries"
                " where event_id = any(%(ids)s) group by status",
                {"ids": event_ids},
            ).fetchall()
        return {row["status"]: row["n"] for row in rows}

    def unfinished(self, event_ids: list[str]) -> str:
        """Deliveries of these events that took more than one attempt or have not
        succeeded, by status and last error: what a run that stalls reports."""
        from common import db

        with db.transaction() as conn:
            rows = conn.execute(
                "select status, attempts, coalesce(last_error, '') as error, count(*) as n"
                " from webhook_deliveries where event_id = any(%(ids)s)"
                " and (attempts > 1 or status <> 'succeeded')"
                " group by 1, 2, 3 order by n desc limit 10",
                {"ids": event_ids},
            ).fetchall()
        return "; ".join(
            f"{r['n']} {r['status']} after {r['attempts']} attempt(s) {r['error'][:120]!r}"
            for r in rows
        )


def wait_for_deliveries(
    receiver: ReceiverProcess, tenant: Tenant, event_ids: list[str], expected: int
) -> dict:
    """The receiver's figures once it has `expected` deliveries. No beat runs beside the
    worker here, so a delivery whose first attempt failed waits for a retry that nothing
    wakes (60 s later, beat's job in production): a run that stalls says which deliveries
    and why, rather than only that the receiver is short."""
    try:
        return receiver.wait_for(expected, timeout=300)
    except RuntimeError as stalled:
        states = tenant.delivery_states(event_ids)
        raise RuntimeError(
            f"{stalled}; deliveries by status: {states}; {tenant.unfinished(event_ids)}"
        ) from None


# --- measurements ------------------------------------------------------------------------


def check_records(records: list[dict], expected: int) -> str:
    duplicates = len(records) - len({r["delivery"] for r in records})
    note = f"{len(records)}/{expected} received"
    return note + (f", {duplicates} duplicate(s)" if duplicates else "")


def delivery_report(
    receiver: ReceiverProcess,
    *,
    seconds: float,
    expected: int,
    events: int,
    generated: float,
    cpu: dict,
) -> dict:
    """One delivery run's figures: first enqueue (or consumer start) to last receipt."""
    return {
        "rate": expected / seconds,
        "seconds": seconds,
        "deliveries": expected,
        "events": events,
        "generate_rate": events / generated,
        "cpu": cpu,
        "check": check_records(receiver.records(), expected),
    }


def invex_drain(
    worker: WebhookWorker,
    tenant: Tenant,
    receiver: ReceiverProcess,
    deliveries: int,
    meter: CpuMeter,
) -> dict:
    """Backlog queued with the consumer off, then drained: the worker's own capacity."""
    per_event = len(tenant.endpoints)
    events = max(1, deliveries // per_event)
    expected = events * per_event
    worker.cancel_consumer()
    generated = time.monotonic()
    event_ids = tenant.record(events)
    generated = time.monotonic() - generated
    receiver.reset()
    meter.start()
    started = time.time()
    worker.add_consumer()
    stats = wait_for_deliveries(receiver, tenant, event_ids, expected)
    cpu = meter.stop()
    states = tenant.delivery_states(event_ids)
    if states.get("succeeded", 0) != expected:
        wait_until(lambda: tenant.delivery_states(event_ids).get("succeeded") == expected, 10)
    return delivery_report(
        receiver,
        seconds=stats["last"] - started,
        expected=expected,
        events=events,
        generated=generated,
        cpu=cpu,
    )


def invex_live(tenant: Tenant, receiver: ReceiverProcess, deliveries: int, meter: CpuMeter) -> dict:
    """Events recorded while the worker consumes: first enqueue -> last receipt."""
    per_event = len(tenant.endpoints)
    events = max(1, deliveries // per_event)
    expected = events * per_event
    receiver.reset()
    meter.start()
    started = time.time()
    event_ids = tenant.record(events)
    generated = time.time() - started
    stats = wait_for_deliveries(receiver, tenant, event_ids, expected)
    cpu = meter.stop()
    return delivery_report(
        receiver,
        seconds=stats["last"] - started,
        expected=expected,
        events=events,
        generated=generated,
        cpu=cpu,
    )


def signed_requests(event_ids: list[str], secret: str) -> list[tuple[bytes, str]]:
    """(body, event id) of events as Invex renders them."""
    from common import db
    from common.webhooks.service import event_body

    with db.connection() as conn:
        rows = conn.execute(
            "select id, type, livemode, data, created_at from events where id = any(%(ids)s)",
            {"ids": event_ids},
        ).fetchall()
    by_id = {row["id"]: row for row in rows}
    return [(event_body(by_id[e]), e) for e in event_ids]


def bare_run(
    receiver: ReceiverProcess,
    payloads: list[tuple[bytes, str]],
    secret: str,
    threads: int,
    meter: CpuMeter | None,
) -> dict:
    """C threads, one pooled httpx.Client, the same headers Invex sends, signed per request."""
    from datetime import UTC, datetime

    from common.signing import sign_payload, standard_webhooks_headers

    client = httpx.Client(
        timeout=15,
        trust_env=False,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads),
    )
    lock = threading.Lock()
    position = iter(range(len(payloads)))
    errors = []

    def loop():
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            body, event_id = payloads[index]
            timestamp = int(datetime.now(UTC).timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "invex-webhooks/1",
                "Invex-Event": EVENT_TYPE,
                "Invex-Delivery": f"dlv_bare{index:08d}",
                "Invex-Signature": sign_payload(body, [secret], timestamp),
                **standard_webhooks_headers(event_id, body, [secret], timestamp),
            }
            try:
                response = client.post(receiver.url, content=body, headers=headers)
                response.read()
                if response.status_code != 200:
                    errors.append(response.status_code)
            except httpx.HTTPError as exc:
                errors.append(repr(exc))

    receiver.reset()
    if meter:
        meter.start()
    started = time.time()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stats = receiver.wait_for(len(payloads), timeout=60)
    cpu = meter.stop() if meter else {}
    client.close()
    seconds = stats["last"] - started
    return {
        "rate": len(payloads) / seconds,
        "seconds": seconds,
        "deliveries": len(payloads),
        "cpu": cpu,
        "check": check_records(receiver.records(), len(payloads))
        + (f", {len(errors)} errors" if errors else ""),
    }


def lag_phase(tenant: Tenant, receiver: ReceiverProcess, samples: int) -> dict:
    """One event at a time, the worker idle in between: time to the receiver."""
    from common import db
    from common.events import record_event

    receiver.reset()
    began_at, enqueued_at = {}, {}
    for n in range(samples):
        before = time.time()
        with db.transaction() as conn:
            event_id = record_event(
                conn,
                org_id=tenant.org.id,
                livemode=True,
                type=EVENT_TYPE,
                object_id=f"inv_lag{n:06d}",
                data=fake_invoice(n),
            )
        enqueued_at[event_id] = time.time()  # after commit: the task has been sent
        began_at[event_id] = before
        receiver.wait_for(n + 1, timeout=30)
        time.sleep(0.05)  # idle again
    with db.transaction() as conn:
        rows = conn.execute(
            "select id, extract(epoch from created_at) as created from events"
            " where id = any(%(ids)s)",
            {"ids": list(began_at)},
        ).fetchall()
    db_created = {row["id"]: float(row["created"]) for row in rows}
    arrivals = {r["event"]: r["at"] for r in receiver.records()}
    return {
        "event transaction start -> receipt": [
            (arrivals[e] - began_at[e]) * 1000 for e in began_at
        ],
        "after commit + send_task -> receipt": [
            (arrivals[e] - enqueued_at[e]) * 1000 for e in began_at
        ],
        "events.created_at (db now()) -> receipt": [
            (arrivals[e] - db_created[e]) * 1000 for e in began_at
        ],
        "commit wall time: transaction start -> task sent": [
            (enqueued_at[e] - began_at[e]) * 1000 for e in began_at
        ],
    }


# --- profile -----------------------------------------------------------------------------

# Thread-time category -> substrings of py-spy frames; the first category found in a stack
# takes the sample, so nested (specific) ones come first.
TASK_CATEGORIES = (
    ("claim query (claim_delivery)", ("claim_delivery (",)),
    ("endpoint load (get_endpoint_by_id)", ("get_endpoint_by_id (",)),
    ("event load (load_event)", ("load_event (",)),
    ("JSON body (event_body)", ("event_body (",)),
    (
        "signing (sign_payload + standard headers)",
        ("sign_payload (", "standard_webhooks_headers ("),
    ),
    ("DNS check (resolve_public_address)", ("resolve_public_address (",)),
    ("HTTP post (httpx, after the DNS check)", ("pinned_post (", "_http_client (")),
    ("record_attempt (insert + update)", ("record_attempt (",)),
    ("next_in_chain query", ("next_in_chain (",)),
    ("wake-up of the sender", ("nudge_sender (",)),
    ("pool check_connection (a SELECT 1 per checkout)", ("check_connection (",)),
    (
        "db.transaction: pool checkout, BEGIN, COMMIT",
        ("transaction (common/db", "transaction (/", "psycopg_pool"),
    ),
    ("rest of deliver/_record_outcome", ("deliver (", "_record_outcome (")),
    (
        "celery task wrapper (trace, ack)",
        ("send_due_deliveries (", "trace_task", "fast_trace", "acknowledge", "on_success"),
    ),
)


def categorise(stack: str, categories) -> str | None:
    for name, patterns in categories:
        if any(p in stack for p in patterns):
            return name
    return None


def thread_kind(stack: str) -> str:
    if "send_due_deliveries (" in stack or "trace_task" in stack or "fast_trace" in stack:
        return "task"
    if "_worker (concurrent/futures" in stack or "/concurrent/futures/thread.py" in stack:
        return "idle pool thread (waiting for a message)"
    if "kombu" in stack or "celery/worker" in stack or "asynloop" in stack or "synloop" in stack:
        return "consumer thread (Redis read, dispatch, ack)"
    return "other threads (psycopg_pool workers, scheduler)"


def profile_phase(
    worker: WebhookWorker,
    tenant: Tenant,
    receiver: ReceiverProcess,
    *,
    deliveries: int,
    workdir: Path,
    meter: CpuMeter,
) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("\n--profile: py-spy is not installed (pip install py-spy); skipped")
        return
    assert worker.process is not None
    worker.cancel_consumer()
    tenant.record(deliveries)
    receiver.reset()
    recorders = []
    for mode in ("wall", "cpu"):
        out = workdir / f"profile-{mode}.txt"
        args = [
            py_spy,
            "record",
            "-p",
            str(worker.process.pid),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
            "--threads",
        ]
        if mode == "wall":
            args.append("--idle")
        recorders.append(
            (
                mode,
                out,
                subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            )
        )
    time.sleep(1.5)
    meter.start()
    started = time.time()
    worker.add_consumer()
    stats = receiver.wait_for(deliveries, timeout=600)
    cpu = meter.stop()
    for _, _, proc in recorders:
        proc.send_signal(signal.SIGINT)
    for _, _, proc in recorders:
        proc.wait(60)
    seconds = stats["last"] - started
    print(
        f"\nProfile: py-spy 200 Hz on the worker (-c {worker.concurrency}) during a drain of"
        f" {deliveries} deliveries to 1 endpoint ({deliveries / seconds:.0f}/s under py-spy;"
        f" cores: {format_cpu(cpu)}):"
    )
    for mode in ("wall", "cpu"):
        path = next(out for m, out, _ in recorders if m == mode)
        if not path.exists():
            print(f"  ({mode}: no output)")
            continue
        kinds: collections.Counter[str] = collections.Counter()
        in_task: collections.Counter[str] = collections.Counter()
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            kind = thread_kind(stack)
            kinds[kind] += int(count)
            if kind == "task":
                in_task[categorise(stack, TASK_CATEGORIES) or "other in task"] += int(count)
        total = sum(kinds.values()) or 1
        title = (
            "wall time of all threads (samples, idle included)"
            if mode == "wall"
            else "CPU samples (threads on a core)"
        )
        print(f"  {title}:")
        for name, count in kinds.most_common():
            print(f"    {name:<50} {100 * count / total:5.1f}%")
        task_total = sum(in_task.values()) or 1
        print(f"  ... of which inside a task ({sum(in_task.values())} samples):")
        for name, count in in_task.most_common():
            print(f"    {name:<50} {100 * count / task_total:5.1f}%")
    print(f"  raw stacks: {workdir}/profile-*.txt (kept)")


# --- output ------------------------------------------------------------------------------


def format_cpu(cpu: dict[str, float]) -> str:
    return " ".join(f"{name} {share:.2f}" for name, share in cpu.items())


def sender_ms(r: dict) -> float:
    """CPU milliseconds per delivery of the sending side (the worker, or the bare driver)."""
    return (r["cpu"]["worker"] + r["cpu"]["driver"]) * r["seconds"] / r["deliveries"] * 1000


def print_rows(title: str, rows: list[tuple[str, dict]]) -> None:
    print(f"\n{title}")
    print(
        f"{'run':<44} {'deliv.':>6} {'seconds':>7} {'deliv/s':>8}  {'cores in use':<80}"
        f" {'CPU ms/deliv':>12} check"
    )
    for label, r in rows:
        print(
            f"{label:<44} {r['deliveries']:>6} {r['seconds']:>7.2f} {r['rate']:>8.0f}  "
            f"{format_cpu(r['cpu']):<80} {sender_ms(r):>12.2f} {r['check']}"
        )


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", default="8,16,32")
    parser.add_argument("--endpoints", default="1,10,100")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--lag-samples", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0, metavar="DELIVERIES")
    parser.add_argument(
        "--prefetch",
        default="",
        help="also try the best pool with these --prefetch-multiplier values"
        " (an experiment; the app config sets 1)",
    )
    parser.add_argument("--serve-receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return 0
    thread_counts = [int(c) for c in args.concurrency.split(",")]
    endpoint_counts = [int(n) for n in args.endpoints.split(",")]
    with BenchServers("invex-bench-webhooks-", persistent_redis=True) as servers:
        database_url = servers.database_url
        redis, root = servers.redis, servers.root
        os.environ.update(
            INVEX_WEBHOOK_ALLOW_PRIVATE="1",
            INVEX_WEBHOOK_ALLOW_HTTP="1",
        )
        from common import db
        from common.config import get_settings
        from common.migrations import apply_migrations

        get_settings.cache_clear()
        apply_migrations(database_url)
        db.configure(database_url)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}

        receiver = ReceiverProcess()
        servers.stop_later(receiver.stop)
        receiver.start()

        postmaster = servers.postmaster_pid
        worker_ref: dict[str, WebhookWorker] = {}
        meter = CpuMeter(
            {
                "worker": lambda: tree(worker_ref["w"].process.pid),
                "postgres": lambda: tree(postmaster),
                "redis": lambda: [redis._process.pid],
                "receiver": lambda: [receiver.process.pid],
                "driver": None,
            }
        )

        tenants = {n: Tenant(f"Bench {n} endpoints", n, receiver.url) for n in endpoint_counts}
        warm = Tenant("Bench warm-up", 1, receiver.url)
        # The bare loop posts the same kind of bodies: events rendered by event_body.
        bare_tenant = Tenant("Bench bare bodies", 0, receiver.url)
        secret = tenants[endpoint_counts[0]].endpoints[0].secret
        payloads = signed_requests(bare_tenant.record(args.deliveries), secret)

        pools = [("threads", c) for c in thread_counts]
        with contextlib.suppress(ImportError):
            import gevent  # noqa: F401

            pools.append(("gevent", max(thread_counts)))

        print(f"Load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print(
            f"Machine: {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}, {platform.platform()})"
        )
        print(
            "PostgreSQL: private, fsync=off, synchronous_commit=off (as the tests);"
            " Redis: private, appendonly everysec"
        )
        print(f"Receiver: own process, asyncio HTTP/1.1 keep-alive, 200 at once ({receiver.url})")
        print(
            "Worker: celery -A workers.celery_app worker -Q webhooks -P <pool> -c <C>"
            " --without-gossip --without-mingle (Procfile: -P threads -c 16);"
            " prefetch multiplier 1, acks_late; db pool max_size 10 per process"
        )
        print(
            f"Pools compared: {', '.join(f'{p} -c {c}' for p, c in pools)}"
            + (f"; then --prefetch-multiplier {args.prefetch} on the best" if args.prefetch else "")
            + (
                ""
                if any(p == "gevent" for p, _ in pools)
                else " (gevent not installed: not compared)"
            )
        )
        print(
            f"Events: {EVENT_TYPE}, one transaction each (record_event -> fan_out ->"
            f" send_task after commit), ~{len(payloads[0][0])} byte bodies, a fresh object"
            f" id per event; {args.deliveries} deliveries per run"
        )
        print(
            "Bare: C threads, one httpx.Client (max_connections=C), same headers, HMAC"
            " signed per request, in the driver process"
        )

        def start_worker(pool: str, concurrency: int, prefetch: int | None) -> WebhookWorker:
            worker = WebhookWorker(env, pool, concurrency, root, prefetch)
            worker_ref["w"] = worker
            servers.stop_later(worker.stop)
            worker.start()
            receiver.reset()
            warm.record(100)  # imports, pools and connections of every thread
            receiver.wait_for(100, 60)
            return worker

        def stop_worker(worker: WebhookWorker) -> None:
            servers.stop_now(worker.stop)

        def drain_all(worker: WebhookWorker, label: str) -> dict[int, dict]:
            results = {}
            for count in endpoint_counts:
                results[count] = invex_drain(
                    worker, tenants[count], receiver, args.deliveries, meter
                )
                rows.append((f"Invex {label}, {count} endp.", results[count]))
            return results

        bare_results: dict[int, dict] = {}
        drains: dict[tuple[str, int, int | None], dict[int, dict]] = {}
        rows: list[tuple[str, dict]] = []
        for pool, concurrency in pools:
            worker = start_worker(pool, concurrency, None)
            # Bare before and after the drains: the machine may be shared, so its load drifts.
            bare_run(receiver, payloads[:200], secret, concurrency, None)  # warm-up
            before = bare_run(receiver, payloads, secret, concurrency, meter)
            rows.append((f"bare httpx, {concurrency} threads", before))
            drains[(pool, concurrency, None)] = drain_all(worker, f"{pool} -c {concurrency}")
            after = bare_run(receiver, payloads, secret, concurrency, meter)
            rows.append((f"bare httpx, {concurrency} threads, again", after))
            bare_results[concurrency] = {"rate": (before["rate"] + after["rate"]) / 2}
            stop_worker(worker)

        def best_of(keys) -> tuple[str, int, int | None]:
            return max(keys, key=lambda k: statistics.median(r["rate"] for r in drains[k].values()))

        best = best_of(list(drains))
        for prefetch in [int(p) for p in args.prefetch.split(",") if p]:
            worker = start_worker(best[0], best[1], prefetch)
            drains[(best[0], best[1], prefetch)] = drain_all(
                worker, f"{best[0]} -c {best[1]} prefetch x{prefetch}"
            )
            stop_worker(worker)
        print_rows("Throughput, backlog drain (consumer added -> last receipt):", rows)
        print(
            "(cores: average CPU in use during the run, from /proc; driver = this process,"
            " which runs the bare loop)"
        )

        print("\nInvex / bare at the same thread count (drain; bare = mean of its two runs):")
        print(
            f"{'worker':<30}"
            + "".join(f"{f'{n} endpoint(s)':>16}" for n in endpoint_counts)
            + f"{'median deliv/s':>16}"
        )
        for (pool, concurrency, prefetch), by_count in drains.items():
            bare_rate = bare_results[concurrency]["rate"]
            cells = "".join(f"{by_count[n]['rate'] / bare_rate:>15.2f}x" for n in endpoint_counts)
            median = statistics.median(r["rate"] for r in by_count.values())
            label = f"{pool} -c {concurrency}" + (f" prefetch x{prefetch}" if prefetch else "")
            print(f"{label:<30}{cells}{median:>16.0f}")
        print(
            f"Best as configured (prefetch x1) by median drain rate: -P {best[0]} -c {best[1]}"
            "  (goal >= 0.5x bare)"
        )

        worker = start_worker(best[0], best[1], None)
        live_rows = []
        for count in endpoint_counts:
            result = invex_live(tenants[count], receiver, args.deliveries, meter)
            live_rows.append((f"Invex live {best[0]} -c {best[1]}, {count} endp.", result))
        print_rows(
            "Throughput, live (events recorded while the worker consumes; first enqueue"
            " -> last receipt):",
            live_rows,
        )
        print(
            "event generation (one transaction per event, in the driver): "
            + ", ".join(
                f"{n} endp. {r['generate_rate']:.0f} events/s"
                for n, (_, r) in zip(endpoint_counts, live_rows, strict=True)
            )
        )

        lags = lag_phase(tenants.get(1, warm), receiver, args.lag_samples)
        print(
            f"\nIdle lag, 1 endpoint, {args.lag_samples} events one at a time"
            f" (-P {best[0]} -c {best[1]}):"
        )
        print(f"{'measured as':<52} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}")
        for label, values in lags.items():
            print(
                f"{label:<52} {percentile(values, 50):>7.1f} {percentile(values, 90):>7.1f}"
                f" {percentile(values, 99):>7.1f} {max(values):>7.1f}"
            )
        p50 = percentile(lags["event transaction start -> receipt"], 50)
        print(f"goal p50 < 50 ms: {'met' if p50 < 50 else 'NOT met'} ({p50:.1f} ms)")

        if args.profile:
            profile_phase(
                worker,
                tenants.get(1, warm),
                receiver,
                deliveries=args.profile,
                workdir=Path(tempfile.mkdtemp(prefix="invex-bench-profile-")),
                meter=meter,
            )
        return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
