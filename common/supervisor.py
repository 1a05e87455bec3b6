"""`invex up`: the whole service in one process tree.

Starts private PostgreSQL and Redis when no URLs are configured, applies migrations, then
runs the API (gunicorn), an extraction worker, a webhook worker and beat as children. The
first Ctrl-C (or SIGTERM) stops every child, then the private servers.

A child that dies on its own is started again after 1 s, doubling to 30 s while it keeps
dying, and the others go on: work a dead worker held is in PostgreSQL and is picked up again
(an extraction or a delivery whose lease ran out). Only a crash loop (more than
INVEX_RESTART_LIMIT restarts of one child in INVEX_RESTART_WINDOW seconds) stops everything,
with exit status 1, so a service that cannot run never pretends to be up.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import running_stacks, secretbox
from common.config import Settings

STOP_GRACE_SECONDS = 15
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    crashes: list[float] = field(default_factory=list)  # monotonic times, recent ones only
    restart_at: float | None = None  # set while a crashed child waits for its restart
    env: dict[str, str] = field(default_factory=dict)  # on top of the service's environment


def _metrics_env(settings: Settings, data_dir: Path, name: str, offset: int) -> dict[str, str]:
    """A process type's own multiprocess metrics directory (common/metrics.py) and, for a
    worker when INVEX_METRICS_PORT is set, its own port: that port plus `offset`."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics" / name)}
    if offset >= 0:
        env["INVEX_METRICS_PORT"] = str(
            settings.metrics_port + offset if settings.metrics_port else 0
        )
    return env


def process_commands(settings: Settings, data_dir: Path) -> list[Child]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "workers.celery_app"]
    # JSON lines come from the API itself (they carry the IDs); gunicorn's text access log
    # would interleave another format.
    access_log = ["--access-logfile", "-"] if settings.log_format == "text" else []
    return [
        Child(
            "api",
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                "python:api.gunicorn_config",
                "api.wsgi:app",
                "--bind",
                f"{settings.host}:{settings.port}",
                "--workers",
                str(settings.web_concurrency),
                "--worker-class",
                "gthread",
                "--threads",
                "8",
                *access_log,
                "--graceful-timeout",
                "10",
            ],
            env=_metrics_env(settings, data_dir, "api", -1),
        ),
        Child(
            "worker",
            [
                *celery,
                "worker",
                "-Q",
                "extract",
                "-n",
                "extract@%h",
                "-c",
                str(settings.extract_concurrency),
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "worker", 0),
        ),
        Child(
            "webhooks",
            [
                *celery,
                "worker",
                "-Q",
                "webhooks",
                "-n",
                "webhooks@%h",
                "-P",
                "threads",
                "-c",
                "16",
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "webhooks", 1),
        ),
        Child(
            "exports",
            [
                *celery,
                "worker",
                "-Q",
                "exports",
                "-n",
                "exports@%h",
                "-c",
                "1",
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "exports", 2),
        ),
        Child(
            "bank",
            [
                *celery,
                "worker",
                "-Q",
                "bank",
                "-n",
                "bank@%h",
                "-c",
                "1",
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "bank", 4),
        ),
        Child(
            "publish",
            [
                *celery,
                "worker",
                "-Q",
                "publish",
                "-n",
                "publish@%h",
                "-P",
                "threads",
                "-c",
                "4",
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "publish", 5),
        ),
        Child(
            "mail",
            [
                *celery,
                "worker",
                "-Q",
                "mail",
                "-n",
                "mail@%h",
                "-P",
                "threads",
                "-c",
                "4",
                "--loglevel",
                "INFO",
            ],
            env=_metrics_env(settings, data_dir, "mail", 3),
        ),
        Child(
            "beat",
            [*celery, "beat", "--loglevel", "INFO", "--schedule", str(data_dir / "beat-schedule")],
        ),
    ]


def _start_embedded(settings: Settings, data_dir: Path) -> tuple[str, str, list]:
    from common.embedded import PrivatePostgres, PrivateRedis, ensure_binaries_installed

    started: list[PrivatePostgres | PrivateRedis] = []
    database_url, redis_url = settings.database_url, settings.redis_url
    if not (database_url and redis_url):
        ensure_binaries_installed()
    if not database_url:
        postgres = PrivatePostgres(data_dir)
        database_url = postgres.start()
        started.append(postgres)
        print(f"invex: PostgreSQL running under {data_dir / 'postgres'}", flush=True)
    if not redis_url:
        redis = PrivateRedis(data_dir)
        redis_url = redis.start()
        started.append(redis)
        print(f"invex: Redis running under {data_dir / 'redis'}", flush=True)
    return database_url, redis_url, started


def _start(child: Child, env: dict[str, str]) -> None:
    # Children ignore the terminal's Ctrl-C (own process group); we stop them in order.
    if "PROMETHEUS_MULTIPROC_DIR" in child.env:
        from common.metrics_dir import prepare_multiprocess_dir

        # emptied at each (re)start, as multiprocess mode requires (not in os.environ: ours)
        prepare_multiprocess_dir(child.env["PROMETHEUS_MULTIPROC_DIR"], export=False)
    child.process = subprocess.Popen(child.argv, env={**env, **child.env}, start_new_session=True)
    child.restart_at = None


def _schedule_restart(child: Child, code: int, now: float, settings: Settings) -> bool:
    """Plan the restart of a child that exited on its own; False if it is crash-looping."""
    limit, window = settings.restart_limit, settings.restart_window
    child.crashes = [at for at in child.crashes if now - at < window]
    if len(child.crashes) >= limit:
        _error(
            f"{child.name} exited with {code}; crashed {len(child.crashes) + 1} times"
            f" in {window} s; stopping everything"
        )
        return False
    # Its own workers may outlive it (a SIGKILLed gunicorn master's still hold the port).
    if child.process is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
    delay = min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** len(child.crashes))
    child.crashes.append(now)
    child.restart_at = now + delay
    _error(
        f"{child.name} exited with {code}; restarting in {delay:g} s"
        f" (restart {len(child.crashes)} of {limit} in {window} s)"
    )
    return True


def _write_state(state: Path, database_url: str, redis_url: str, children: list[Child]) -> None:
    """servers.json: how `invex` commands reach the servers, and (`invex status`) which
    process runs each child now."""
    processes = {child.name: child.process.pid for child in children if child.process}
    temporary = state.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {
                "database_url": database_url,
                "redis_url": redis_url,
                "supervisor": os.getpid(),
                "processes": processes,
            }
        )
    )
    temporary.chmod(0o600)
    temporary.replace(state)  # whole or not at all, for a reader in another terminal


def _error(message: str) -> None:
    print(f"invex: ERROR: {message}", file=sys.stderr, flush=True)


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def service_environment(database_url: str, redis_url: str, *, dev: bool) -> dict[str, str]:
    """The children's environment. Webhooks to this machine or a private network (and over
    plain http) only when the operator asks: `--dev`, or the variables set explicitly."""
    env = {
        **os.environ,
        "INVEX_DATABASE_URL": database_url,
        "INVEX_REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    if dev:
        env.setdefault("INVEX_WEBHOOK_ALLOW_PRIVATE", "1")
        env.setdefault("INVEX_WEBHOOK_ALLOW_HTTP", "1")
    return env


def webhook_warning(env: dict[str, str]) -> str | None:
    """The line `invex up` prints when webhook targets are opened up, else None."""
    settings = Settings.from_env(env)
    allowed = []
    if settings.webhook_allow_private:
        allowed.append("to loopback and private addresses (INVEX_WEBHOOK_ALLOW_PRIVATE=1)")
    if settings.webhook_allow_http:
        allowed.append("over plain http (INVEX_WEBHOOK_ALLOW_HTTP=1)")
    if not allowed:
        return None
    return (
        f"invex: WARNING: webhooks may be sent {' and '.join(allowed)}; for development"
        " only (link-local and cloud metadata addresses stay refused)"
    )


def run_service(settings: Settings, *, dev: bool = False) -> int:
    from common.migrations import apply_migrations

    data_dir = Path(settings.data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url, redis_url, servers = _start_embedded(settings, data_dir)
    state = data_dir / "servers.json"
    children: list[Child] = []
    announced: Path | None = None
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        applied = apply_migrations(database_url)
        print(f"invex: migrations applied: {', '.join(applied) or 'none pending'}", flush=True)
        env = service_environment(database_url, redis_url, dev=dev)
        if not env.get("INVEX_SECRET_KEY"):
            env["INVEX_SECRET_KEY"] = secretbox.embedded_key(data_dir)
        warning = webhook_warning(env)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        _write_state(state, database_url, redis_url, children)
        announced = running_stacks.register(
            running_stacks.RunningStack(os.getpid(), str(data_dir), database_url, redis_url)
        )
        children = process_commands(settings, data_dir)
        for child in children:
            _start(child, env)
        _write_state(state, database_url, redis_url, children)
        url = f"http://{settings.host}:{settings.port}"
        print(
            f"\ninvex: up at {url}  (API docs: {url}/docs)\n"
            "invex: next, in another terminal: create an organisation and a key:\n"
            '    .venv/bin/invex orgs create "My Company" --json\n'
            "    .venv/bin/invex keys create --org org_... --json\n"
            "invex: Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        print(f"invex: starting {child.name} again", file=sys.stderr, flush=True)
                        _start(child, env)
                        _write_state(state, database_url, redis_url, children)
                    continue
                code = child.process.poll() if child.process else None
                if code is not None and not _schedule_restart(child, code, now, settings):
                    return 1
            time.sleep(0.2)
        print("\ninvex: stopping...", flush=True)
        return 0
    finally:
        _stop(children)
        state.unlink(missing_ok=True)
        if announced is not None:
            announced.unlink(missing_ok=True)
        for server in reversed(servers):
            server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print("invex: stopped.", flush=True)
