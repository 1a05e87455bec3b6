"""Private PostgreSQL and Redis servers started from the machine's binaries (common.embedded)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from common import embedded
from common.embedded import EmbeddedServerError, MissingBinary, PrivatePostgres, PrivateRedis
from tests.support import private_root

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_root() -> Iterator[Path]:
    parent = private_root("invex-test-")
    yield parent / ".invex"
    # Only the servers this test started: the suite's own servers run in this process too.
    with embedded._running_lock:
        mine = [s for s in embedded._running if parent in Path(s.root).parents]
    for server in mine:
        server.stop()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def prepared_cluster() -> Iterator[Path]:
    """`<root>/postgres` of a cluster initdb made once (stopped), for the tests that start a
    server on an existing cluster: initdb is most of a first start."""
    parent = private_root("invex-test-cluster-")
    pg = PrivatePostgres(parent / ".invex", durable=False)
    pg.start()
    pg.stop()
    yield pg.pg_root
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def with_cluster(prepared_cluster) -> Callable[[Path], Path]:
    """`with_cluster(data_root)`: a copy of the prepared cluster (and its superuser password)
    under `data_root`, owned as initdb left it, without its port; returns `data_root`."""

    def copy(data_root: Path) -> Path:
        data_root.mkdir(parents=True, exist_ok=True)
        target = data_root / "postgres"
        target.mkdir()
        shutil.copystat(prepared_cluster, target)
        for name in ("data", "superuser-password"):
            # cp -a keeps the postgres user's ownership and modes (we may be root)
            subprocess.run(["cp", "-a", str(prepared_cluster / name), str(target)], check=True)
        owner = prepared_cluster.stat()
        os.chown(target, owner.st_uid, owner.st_gid)
        return data_root

    return copy


def redis_command(url: str, *words: str) -> bytes:
    """Send AUTH (when the URL has a password) and one command over a raw socket."""
    parts = urlsplit(url)
    commands = [["AUTH", parts.password]] if parts.password else []
    commands.append(list(words))
    payload = b"".join(
        f"*{len(c)}\r\n".encode() + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in c)
        for c in commands
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(payload)
        time.sleep(0.05)
        reply = conn.recv(65536)
    return reply.split(b"\r\n", 1)[1] if parts.password else reply


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n    {text}")  # noqa: T201 - a figure for the reader, past capture


def test_postgres_serves_the_invex_database(data_root, capsys):
    with PrivatePostgres(data_root, durable=False) as pg:
        report(capsys, f"postgres first start (initdb included): {pg.start_seconds:.2f} s")
        assert pg.url is not None
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("select current_database(), current_user").fetchone() == (
                "invex",
                "app",
            )


def test_durable_postgres_is_the_default_and_keeps_fsync_on(data_root, capsys):
    with PrivatePostgres(data_root) as pg:
        report(capsys, f"postgres first start, durable: {pg.start_seconds:.2f} s")
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("show fsync").fetchone() == ("on",)


def test_redis_answers_ping_over_a_raw_socket(data_root, capsys):
    with PrivateRedis(data_root) as redis:
        report(capsys, f"redis start: {redis.start_seconds:.2f} s")
        assert redis.url is not None
        assert redis_command(redis.url, "PING") == b"+PONG\r\n"


def test_redis_refuses_clients_without_the_password(data_root):
    with PrivateRedis(data_root, persistent=False) as redis:
        parts = urlsplit(redis.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            assert conn.recv(1024).startswith(b"-NOAUTH")


def test_postgres_keeps_data_and_address_across_stop_and_start(data_root, with_cluster, capsys):
    pg = PrivatePostgres(with_cluster(data_root), durable=False)
    url = pg.start()
    with psycopg.connect(url) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (42)")
    pg.stop()
    assert not pg.is_running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)

    assert pg.start() == url
    report(capsys, f"postgres restart (existing cluster): {pg.start_seconds:.2f} s")
    with psycopg.connect(url) as conn:
        assert conn.execute("select n from kept").fetchall() == [(42,)]
    pg.stop()


def test_a_new_object_on_the_same_data_root_keeps_the_address(data_root, with_cluster):
    first = PrivatePostgres(with_cluster(data_root), durable=False)
    url = first.start()
    first.stop()
    assert PrivatePostgres(data_root, durable=False).start() == url


def test_restart_keeps_the_postgres_address(data_root, with_cluster):
    pg = PrivatePostgres(with_cluster(data_root), durable=False)
    url = pg.start()
    assert pg.restart() == url
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_redis_keeps_queued_jobs_and_address_across_restart(data_root, capsys):
    redis = PrivateRedis(data_root)
    url = redis.start()
    assert redis_command(url, "LPUSH", "celery", "job-1") == b":1\r\n"
    redis.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", redis.port), timeout=1).close()

    assert redis.start() == url
    report(capsys, f"redis restart with append-only file: {redis.start_seconds:.2f} s")
    assert redis_command(url, "LRANGE", "celery", "0", "-1") == b"*1\r\n$5\r\njob-1\r\n"
    assert redis.restart() == url
    assert redis_command(url, "LLEN", "celery") == b":1\r\n"


def test_non_persistent_redis_starts_empty_after_restart(data_root):
    redis = PrivateRedis(data_root, persistent=False)
    url = redis.start()
    redis_command(url, "SET", "k", "v")
    assert redis.restart() == url
    assert redis_command(url, "EXISTS", "k") == b":0\r\n"


def test_two_instances_run_side_by_side(data_root, with_cluster):
    other_root = data_root.parent / "other"
    with_cluster(data_root)
    with_cluster(other_root)
    pgs = [PrivatePostgres(data_root, durable=False), PrivatePostgres(other_root, durable=False)]
    redises = [PrivateRedis(data_root), PrivateRedis(other_root)]
    pg_urls = [pg.start() for pg in pgs]
    redis_urls = [r.start() for r in redises]

    assert len(set(pg_urls)) == 2
    assert len({urlsplit(u).port for u in redis_urls}) == 2
    for number, url in enumerate(pg_urls):
        with psycopg.connect(url) as conn:
            conn.execute("create table which (n int)")
            conn.execute("insert into which values (%s)", (number,))
    for number, url in enumerate(pg_urls):
        with psycopg.connect(url) as conn:
            assert conn.execute("select n from which").fetchall() == [(number,)]
    for url in redis_urls:
        assert redis_command(url, "PING") == b"+PONG\r\n"


def _machine_postgres_started_at() -> object:
    try:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2
        ) as conn:
            return conn.execute("select pg_postmaster_start_time()").fetchone()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 to compare with")


def _machine_redis_run_id() -> bytes:
    try:
        info = redis_command("redis://127.0.0.1:6379/0", "INFO", "server")
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 to compare with")
    return next(line for line in info.split(b"\r\n") if line.startswith(b"run_id:"))


def test_servers_already_on_5432_and_6379_are_left_alone(data_root, with_cluster):
    pg_started, redis_run = _machine_postgres_started_at(), _machine_redis_run_id()

    pg = PrivatePostgres(with_cluster(data_root), durable=False, tcp=True)
    redis = PrivateRedis(data_root)
    pg_url, redis_url = pg.start(), redis.start()
    assert urlsplit(pg_url).port not in (5432, 6379)
    assert urlsplit(redis_url).port not in (5432, 6379)
    pg.restart()
    redis.restart()
    pg.stop()
    redis.stop()

    assert _machine_postgres_started_at() == pg_started
    assert _machine_redis_run_id() == redis_run


def test_tcp_postgres_requires_the_generated_password(data_root, with_cluster):
    url = PrivatePostgres(with_cluster(data_root), durable=False, tcp=True).start()
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(url.replace(f":{parts.password}@", ":wrong@"), connect_timeout=2)


def test_a_deep_data_root_gets_a_short_private_socket_dir(data_root, with_cluster):
    deep = data_root.parent / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    os.chmod(deep.parent, 0o755)
    pg = PrivatePostgres(with_cluster(deep / ".invex"), durable=False)
    url = pg.start()
    host = Path(dict(p.split("=") for p in urlsplit(url).query.split("&"))["host"])
    try:
        assert host.parent == Path("/tmp")
        assert stat.S_IMODE(host.stat().st_mode) == 0o700
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert pg.restart() == url
    finally:
        pg.stop()
        shutil.rmtree(host, ignore_errors=True)


def test_missing_postgres_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "POSTGRES_LIB_DIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinary, match="postgresql") as caught:
        embedded.find_postgres_bin()
    assert caught.value.package == "postgresql"


def test_missing_redis_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinary, match="redis-server"):
        embedded.find_redis_server()


def test_ensure_binaries_installed_is_a_no_op_when_both_are_present():
    embedded.ensure_binaries_installed()


@pytest.fixture
def apt_get_calls(tmp_path, monkeypatch) -> Path:
    """An apt-get first on PATH that only notes its arguments (the real one would install),
    and a lock of the test's own; the file it notes to."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-get"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(embedded, "_APT_LOCK", tmp_path / "apt.lock")
    return calls


@pytest.mark.skipif(os.geteuid() != 0, reason="only root installs")
def test_apt_install_leaves_installed_packages_alone_and_waits_for_the_lock(apt_get_calls):
    embedded.apt_install("dpkg")  # installed on every Debian
    assert not apt_get_calls.exists()
    embedded.apt_install("dpkg", "invex-not-a-package", recommends=False)
    wait = "-o DPkg::Lock::Timeout=600"
    assert apt_get_calls.read_text().splitlines() == [
        f"{wait} update",
        f"{wait} install -y --no-install-recommends invex-not-a-package",
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root installs")
def test_apt_install_refuses_a_link_planted_at_its_lock(apt_get_calls, tmp_path, monkeypatch):
    target = tmp_path / "not-yours"
    target.write_text("kept")
    monkeypatch.setattr(embedded, "_APT_LOCK", tmp_path / "planted.lock")
    (tmp_path / "planted.lock").symlink_to(target)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        embedded.apt_install("invex-not-a-package")
    assert target.read_text() == "kept"
    assert not apt_get_calls.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands files to the postgres user")
def test_as_root_only_the_postgres_subtree_belongs_to_the_postgres_user(data_root):
    data_root.mkdir()
    parent_before = data_root.parent.stat()
    root_before = data_root.stat()
    PrivatePostgres(data_root, durable=False).start()

    postgres_uid = embedded.pwd.getpwnam("postgres").pw_uid
    assert (data_root / "postgres").stat().st_uid == postgres_uid
    assert (data_root / "postgres" / "data" / "PG_VERSION").stat().st_uid == postgres_uid
    for path, before in ((data_root.parent, parent_before), (data_root, root_before)):
        after = path.stat()
        assert (after.st_uid, after.st_gid, after.st_mode) == (
            before.st_uid,
            before.st_gid,
            before.st_mode,
        )


@pytest.mark.skipif(os.geteuid() != 0, reason="root-only: the server runs as another user")
def test_as_root_an_unreachable_data_root_is_reported_and_left_alone(data_root):
    locked = data_root.parent / "locked"
    locked.mkdir(mode=0o700)
    with pytest.raises(EmbeddedServerError, match=f"{locked} is mode 700"):
        PrivatePostgres(locked / ".invex", durable=False).start()
    assert stat.S_IMODE(locked.stat().st_mode) == 0o700
    assert locked.stat().st_uid == 0


def _server_pids(root: Path) -> list[int]:
    """Processes whose working directory is under `root` (postmaster, its children, redis)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(Path(os.readlink(entry / "cwd"))).startswith(str(root)):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _start_in_child(root: Path) -> tuple[subprocess.Popen[str], list[str]]:
    # Python's own Ctrl-C handler, as in a terminal: a suite started with SIGINT ignored
    # (`make test &`, nohup) would pass the ignored disposition on to the child.
    script = textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from common.embedded import PrivatePostgres, PrivateRedis
        print(PrivatePostgres({str(root)!r}, durable=False).start(), flush=True)
        print(PrivateRedis({str(root)!r}).start(), flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert child.stdout is not None
    return child, [child.stdout.readline().strip(), child.stdout.readline().strip()]


def test_ctrl_c_of_the_parent_leaves_no_server_running(data_root, with_cluster):
    child, _ = _start_in_child(with_cluster(data_root))
    assert _server_pids(data_root)
    os.killpg(child.pid, signal.SIGINT)  # what the terminal sends to the foreground group
    child.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _server_pids(data_root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _server_pids(data_root) == []


def test_servers_left_by_a_killed_parent_are_taken_over(data_root, with_cluster):
    child, (pg_url, redis_url) = _start_in_child(with_cluster(data_root))
    redis_command(redis_url, "SET", "survivor", "1")
    os.kill(child.pid, signal.SIGKILL)  # no atexit: both servers are orphaned
    child.wait(timeout=30)

    pg, redis = PrivatePostgres(data_root, durable=False), PrivateRedis(data_root)
    assert pg.start() == pg_url
    assert redis.start() == redis_url
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert redis_command(redis_url, "GET", "survivor") == b"$1\r\n1\r\n"
    pg.stop()
    redis.stop()
    assert _server_pids(data_root) == []
