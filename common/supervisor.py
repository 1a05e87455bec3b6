"""`invex up`: the whole service in one process tree.

Starts private PostgreSQL and Redis when no URLs are configured, applies migrations, then
runs the API (gunicorn), an extraction worker, a webhook worker and beat as children. The
first Ctrl-C (or SIGTERM) stops every child, then the private servers; a child that dies on
its own takes the others down too, so a half-running service never pretends to be up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common.config import Settings

STOP_GRACE_SECONDS = 15


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None


def process_commands(settings: Settings, data_dir: Path) -> list[Child]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "workers.celery_app"]
    return [
        Child(
            "api",
            [
                python,
                "-m",
                "gunicorn",
                "api.wsgi:app",
                "--bind",
                f"{settings.host}:{settings.port}",
                "--workers",
                str(settings.web_concurrency),
                "--worker-class",
                "gthread",
                "--threads",
                "8",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
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
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        applied = apply_migrations(database_url)
        print(f"invex: migrations applied: {', '.join(applied) or 'none pending'}", flush=True)
        env = service_environment(database_url, redis_url, dev=dev)
        warning = webhook_warning(env)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        state.write_text(json.dumps({"database_url": database_url, "redis_url": redis_url}))
        state.chmod(0o600)
        children = process_commands(settings, data_dir)
        for child in children:
            # Children ignore the terminal's Ctrl-C (own process group); we stop them in order.
            child.process = subprocess.Popen(child.argv, env=env, start_new_session=True)
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
            dead = [c for c in children if c.process and c.process.poll() is not None]
            if dead:
                code = dead[0].process.returncode if dead[0].process else None
                print(
                    f"invex: {dead[0].name} exited with {code}; stopping",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            time.sleep(0.5)
        print("\ninvex: stopping...", flush=True)
        return 0
    finally:
        _stop(children)
        state.unlink(missing_ok=True)
        for server in reversed(servers):
            server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print("invex: stopped.", flush=True)
