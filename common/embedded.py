"""Private PostgreSQL and Redis servers, started from the machine's own binaries.

`invex up` and the integration tests use these when no server URL is configured. Everything
lives under one data root (INVEX_DATA_DIR, `.invex` by default):

    <root>/postgres/data        the cluster (initdb runs only when it is empty)
    <root>/postgres/run         the unix socket directory (short /tmp fallback, see below)
    <root>/postgres/port        the port, so a later start keeps the same address
    <root>/redis/               redis.conf, redis.pid, redis.log, the append-only files

PostgreSQL refuses to run as root. When we are root, initdb, pg_ctl and the server run as the
`postgres` system user, and only `<root>/postgres` (plus a socket directory we create) is
handed to that user. Nothing outside the data root is ever chmod-ed or chown-ed, so the data
root's parents must already be searchable by `postgres` (pytest's tmp_path under
/tmp/pytest-of-root is not); start() says which directory is in the way.

PostgreSQL listens on a unix socket only, in a 0700 directory (trust authentication there is
safe because only the server's user and root can reach the socket); `tcp=True` adds a
loopback port that requires the generated password. Redis listens on a free loopback port and
requires a generated password, since the server runs as our user (root, possibly).

Stdlib only: the module must import on a machine that has nothing installed yet.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = [
    "EmbeddedServerError",
    "MissingBinary",
    "PrivatePostgres",
    "PrivateRedis",
    "ensure_binaries_installed",
    "find_postgres_bin",
    "find_redis_server",
]

# Module attributes (not constants inside functions) so tests can point them elsewhere.
POSTGRES_LIB_DIR = Path("/usr/lib/postgresql")
POSTGRES_SYSTEM_USER = "postgres"
DATABASE = "invex"
SUPERUSER = "app"

# sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_START_TIMEOUT = 60


class EmbeddedServerError(RuntimeError):
    """A private server could not be set up, started or stopped; the message says why."""


class MissingBinary(EmbeddedServerError):
    """A server binary is not installed; the message names the Debian package(s) to install."""

    def __init__(self, *packages: str, detail: str = "") -> None:
        self.packages = packages
        self.package = packages[0]
        names = " ".join(packages)
        message = (
            f"{detail + ': ' if detail else ''}install the Debian package"
            f"{'s' if len(packages) > 1 else ''} {', '.join(repr(p) for p in packages)}"
            f" (apt-get install -y {names})"
        )
        super().__init__(message)


class CannotInstall(MissingBinary):
    """Missing, and this process cannot install it (not root, or no apt-get)."""


# --- finding and installing binaries ------------------------------------------------------


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (-1,)


def find_postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, else their PATH dir."""
    candidates = sorted(
        POSTGRES_LIB_DIR.glob("*/bin"), key=lambda p: _version_key(p.parent), reverse=True
    )
    for bin_dir in candidates:
        if all(os.access(bin_dir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        # Debian links /usr/local/bin/pg_ctl -> /usr/lib/postgresql/N/bin/pg_ctl; the real
        # directory also holds postgres and initdb of the same version.
        bin_dir = Path(pg_ctl).resolve().parent
        if os.access(bin_dir / "initdb", os.X_OK):
            return bin_dir
    raise MissingBinary(
        "postgresql", detail="PostgreSQL server binaries (initdb, pg_ctl) not found"
    )


def find_redis_server() -> Path:
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise MissingBinary("redis-server", detail="redis-server not found")


def missing_server_packages() -> list[str]:
    """The Debian packages of the servers (postgresql, redis-server) not installed here."""
    missing = []
    for finder, package in ((find_postgres_bin, "postgresql"), (find_redis_server, "redis-server")):
        try:
            finder()
        except MissingBinary:
            missing.append(package)
    return missing


def ensure_binaries_installed() -> None:
    """Install postgresql and redis-server with apt-get when missing and we are root.

    Otherwise raise MissingBinary naming what to install. Installing takes seconds to a
    minute; nothing is installed when both are present.
    """
    missing = missing_server_packages()
    if not missing:
        return
    apt_install(*missing)
    find_postgres_bin()
    find_redis_server()


# Our own processes (pytest-xdist workers installing dovecot and chromium at once) take turns
# on this lock; apt's own lock timeout waits for any other apt-get on the machine.
_APT_LOCK = Path(tempfile.gettempdir()) / "invex-apt-get.lock"
_DPKG_LOCK_TIMEOUT = "600"


def _installed(package: str) -> bool:
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["dpkg-query", "-W", "-f=${Status}", package],  # noqa: S607
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.endswith(" installed")


def apt_install(*packages: str, recommends: bool = True) -> None:
    """Install Debian packages with apt-get when we are root, one installer at a time.

    Raises CannotInstall naming them when nothing can be installed here, MissingBinary when
    apt-get fails. Packages another process installed while this one waited for the lock
    are not installed again.
    """
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or apt_get is None:
        why = "not root" if os.geteuid() != 0 else "apt-get is not available"
        raise CannotInstall(*packages, detail=f"cannot install automatically ({why})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={_DPKG_LOCK_TIMEOUT}"]
    extra = [] if recommends else ["--no-install-recommends"]
    # O_NOFOLLOW: root must not be led through a link planted at a path in /tmp
    lock = os.open(_APT_LOCK, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(lock, "w"):
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [package for package in packages if not _installed(package)]
        if not missing:
            return
        for args in (
            [apt_get, *wait, "update"],
            [apt_get, *wait, "install", "-y", *extra, *missing],
        ):
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                args,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise MissingBinary(
                    *missing,
                    detail=f"{' '.join(args)} failed:\n{done.stderr.strip()[-2000:]}",
                )


# --- shared plumbing ----------------------------------------------------------------------

# Servers started by this process, stopped at interpreter exit (normal exit, sys.exit and an
# unhandled KeyboardInterrupt all run atexit). A SIGKILLed parent leaves them running; the
# next start() on the same data root adopts or replaces them.
_running: set[PrivatePostgres | PrivateRedis] = set()
_running_lock = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _running_lock:
        servers = list(_running)
    for server in servers:
        # Best effort at exit: whatever is left, the next start() on the data root cleans up.
        with contextlib.suppress(Exception):
            server.stop()


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _write_private(path: Path, text: str, owner: pwd.struct_passwd | None = None) -> None:
    """Write a file only its owner can read (passwords, config holding passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _clean_env() -> dict[str, str]:
    # PGDATA, PGHOST, PGPORT... in the caller's environment would redirect our tools.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _pid_cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


# --- PostgreSQL ---------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of our own under `<data_dir>/postgres`.

    start() returns a libpq URL for the `invex` database (superuser `app`); stop() and
    start() again, or restart(), keep the same URL. `durable=False` skips fsync (tests only:
    a machine crash can corrupt the cluster). `tcp=True` also listens on a free loopback port
    and returns a password URL for it.
    """

    def __init__(self, data_dir: Path | str, *, durable: bool = True, tcp: bool = False) -> None:
        self.root = Path(data_dir).absolute()
        self.durable = durable
        self.tcp = tcp
        self.pg_root = self.root / "postgres"
        self.data = self.pg_root / "data"
        self.log_path = self.pg_root / "server.log"
        self._port: int | None = None
        self._sockdir: Path | None = None
        self._bin: Path | None = None
        self._owner: pwd.struct_passwd | None = None
        self.url: str | None = None
        self.start_seconds: float | None = None  # of the last start(), initdb included

    # public -------------------------------------------------------------------------------

    def start(self) -> str:
        began = time.monotonic()
        self._bin = find_postgres_bin()
        self._owner = self._server_user()
        self._prepare_dirs()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        if self._port is None:
            self._port = self._choose_port()
        if self._sockdir is None:
            self._sockdir = self._socket_dir(self._port)
        if not self._adopt_running():
            self._pg_ctl_start()
        self._create_database()
        self.url = self._url()
        with _running_lock:
            _running.add(self)
        self.start_seconds = time.monotonic() - began
        return self.url

    def stop(self) -> None:
        """Fast shutdown (running transactions are rolled back); a no-op when not running."""
        with _running_lock:
            _running.discard(self)
        if self._bin is None:
            self._bin = find_postgres_bin()
            self._owner = self._server_user()
        if self._postmaster() is None:
            return
        done = self._run_as_server(
            [
                str(self._bin / "pg_ctl"),
                "stop",
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                str(_START_TIMEOUT),
            ]
        )
        if done.returncode != 0 and self._postmaster() is not None:
            raise EmbeddedServerError(f"pg_ctl stop failed: {done.stdout}{done.stderr}")

    def restart(self) -> str:
        self.stop()
        return self.start()

    def is_running(self) -> bool:
        return self._postmaster() is not None

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # setup --------------------------------------------------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        """The user the server runs as when we are root; None means ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(POSTGRES_SYSTEM_USER)
        except KeyError:
            raise MissingBinary(
                "postgresql",
                detail="running as root, PostgreSQL must run as "
                f"the '{POSTGRES_SYSTEM_USER}' system user, which does not "
                "exist",
            ) from None

    def _own(self, path: Path) -> None:
        """Hand one path we created to the server user (root only; never outside the root)."""
        if self._owner is None:
            return
        st = path.lstat()
        if (st.st_uid, st.st_gid) != (self._owner.pw_uid, self._owner.pw_gid):
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid, follow_symlinks=False)

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.pg_root.mkdir(mode=0o700, exist_ok=True)
        self._own(self.pg_root)
        if self._owner is not None:
            self._check_reachable()

    def _check_reachable(self) -> None:
        probe = self._run_as_server(["test", "-w", str(self.pg_root)])
        if probe.returncode == 0:
            return
        assert self._owner is not None
        blocking = next(
            (d for d in reversed(self.pg_root.parents) if not _searchable_by(d, self._owner)),
            self.pg_root,
        )
        raise EmbeddedServerError(
            f"PostgreSQL runs as the '{self._owner.pw_name}' user (initdb refuses root), which "
            f"cannot reach {self.pg_root}: {blocking} is mode "
            f"{stat.S_IMODE(blocking.stat().st_mode):o}, owner uid {blocking.stat().st_uid}. "
            "Permissions outside the data root are left alone on purpose: choose a data root "
            "whose parent directories others may enter (e.g. under /srv, /var/lib or a 0755 "
            "directory under /tmp)."
        )

    def _initdb(self) -> None:
        assert self._bin is not None
        if self.data.exists() and any(self.data.iterdir()):
            raise EmbeddedServerError(
                f"{self.data} is not empty and holds no cluster "
                "(no PG_VERSION); move it away to start afresh"
            )
        password_file = self.pg_root / "superuser-password"
        if _read_text(password_file) is None:
            _write_private(password_file, secrets.token_urlsafe(24), self._owner)
        locale = "C.UTF-8" if _has_c_utf8() else "C"
        args = [
            str(self._bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "-E",
            "UTF8",
            f"--locale={locale}",
        ]
        if not self.durable:
            # Throwaway clusters (tests): 1 MB WAL segments instead of 16 make each cluster a
            # third the size to create and to copy.
            args += ["--no-sync", "--wal-segsize=1"]
        done = self._run_as_server(args)
        if done.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{done.stdout}{done.stderr}")

    def _choose_port(self) -> int:
        port_file = self.pg_root / "port"
        saved = _read_text(port_file)
        # A new object reuses the saved port unless someone else took it meanwhile; the same
        # object always reuses its port (restart keeps the address).
        if (
            saved
            and saved.isdigit()
            and (not self.tcp or _port_is_free(int(saved)) or self._postmaster() is not None)
        ):
            return int(saved)
        port = _free_loopback_port()
        port_file.write_text(f"{port}\n")
        return port

    def _socket_dir(self, port: int) -> Path:
        preferred = self.pg_root / "run"
        if len(os.fsencode(f"{preferred}/.s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
            preferred.mkdir(mode=0o700, exist_ok=True)
            self._own(preferred)
            return preferred
        # The data root is too deep for a unix socket path: use a short directory under /tmp,
        # named after the data root so every start of it gets the same address.
        digest = hashlib.sha256(os.fsencode(str(self.pg_root))).hexdigest()[:12]
        short = Path("/tmp") / f"invex-pg-{os.geteuid()}-{digest}"  # noqa: S108 - checked below
        try:
            short.mkdir(mode=0o700)
            self._own(short)
        except FileExistsError:
            pass
        # Someone else may have created the name first: use it only if it is ours and private.
        st = short.lstat()
        uid = self._owner.pw_uid if self._owner else os.geteuid()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
            raise EmbeddedServerError(
                f"{short} exists but is not a private directory of uid {uid}; remove it"
            )
        return short

    # running ------------------------------------------------------------------------------

    def _server_options(self) -> str:
        assert self._sockdir is not None
        options = [
            "-p",
            str(self._port),
            "-k",
            str(self._sockdir),
            "-c",
            f"listen_addresses={'127.0.0.1' if self.tcp else ''}",
        ]
        if not self.durable:
            options += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        # pg_ctl hands -o to /bin/sh, so every word is quoted for the shell.
        return " ".join(shlex.quote(o) for o in options)

    def _pg_ctl_start(self) -> None:
        assert self._bin is not None
        done = self._run_as_server(
            [
                str(self._bin / "pg_ctl"),
                "start",
                "-D",
                str(self.data),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(_START_TIMEOUT),
                "-o",
                self._server_options(),
            ]
        )
        if done.returncode != 0:
            raise EmbeddedServerError(
                f"pg_ctl start failed ({done.stderr.strip()}); "
                f"server log:\n{_log_tail(self.log_path)}"
            )

    def _postmaster(self) -> list[str] | None:
        """Lines of postmaster.pid when a server of this data dir is alive, else None."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        # The pid file outlives a crash and its pid can be reused: the live postmaster is the
        # process whose working directory is this data dir.
        cwd = _pid_cwd(pid)
        if cwd is None or cwd != self.data.resolve():
            return None
        return lines

    def _adopt_running(self) -> bool:
        """Reuse a server left running on this data dir (a killed parent) if it matches."""
        lines = self._postmaster()
        if lines is None:
            return False
        # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shm, status
        matches = (
            len(lines) >= 8
            and lines[3] == str(self._port)
            and lines[4] == str(self._sockdir)
            and lines[5] == ("127.0.0.1" if self.tcp else "")
            and lines[7].strip() == "ready"
        )
        if matches:
            return True
        self.stop()
        return False

    def _create_database(self) -> None:
        assert self._bin is not None
        # Idempotent, so a crash between initdb and here heals on the next start.
        script = (
            f"SELECT 'CREATE DATABASE {DATABASE}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
        )
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                str(self._bin / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self._sockdir),
                "-p",
                str(self._port),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
            ],
            input=script,
            capture_output=True,
            text=True,
            env=_clean_env(),
            check=False,
        )
        if done.returncode != 0:
            raise EmbeddedServerError(f"creating database {DATABASE} failed: {done.stderr}")

    def _url(self) -> str:
        if self.tcp:
            password = _read_text(self.pg_root / "superuser-password") or ""
            return (
                f"postgresql://{SUPERUSER}:{quote(password, safe='')}@127.0.0.1:"
                f"{self._port}/{DATABASE}"
            )
        return (
            f"postgresql://{SUPERUSER}@/{DATABASE}?host={quote(str(self._sockdir))}"
            f"&port={self._port}"
        )

    def _run_as_server(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        env = _clean_env()
        if self._owner is not None:
            # Explicit groups: otherwise the child keeps root's supplementary groups.
            kwargs = {
                "user": self._owner.pw_uid,
                "group": self._owner.pw_gid,
                "extra_groups": os.getgrouplist(self._owner.pw_name, self._owner.pw_gid),
            }
            env.update(
                HOME=self._owner.pw_dir, USER=self._owner.pw_name, LOGNAME=self._owner.pw_name
            )
        # cwd: the server user may not be able to enter ours (/root), and initdb needs one.
        return subprocess.run(  # noqa: S603 - argv built in this module, no shell
            args,
            cwd=self.pg_root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )


def _searchable_by(directory: Path, user: pwd.struct_passwd) -> bool:
    """Approximate (mode bits only) check that `user` may enter `directory`, for messages."""
    st = directory.stat()
    if st.st_uid == user.pw_uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in os.getgrouplist(user.pw_name, user.pw_gid):
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _has_c_utf8() -> bool:
    # glibc 2.35+ builds C.UTF-8 in; older systems may have it compiled under /usr/lib/locale.
    version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    match = re.search(r"(\d+)\.(\d+)", version)
    if match and (int(match[1]), int(match[2])) >= (2, 35):
        return True
    return any(Path("/usr/lib/locale", name).exists() for name in ("C.utf8", "C.UTF-8"))


# --- Redis --------------------------------------------------------------------------------


class PrivateRedis:
    """A Redis server of our own under `<data_dir>/redis`, on a free loopback port.

    start() returns `redis://:<password>@127.0.0.1:<port>/0`; restart() and stop() then
    start() keep it. With `persistent=True` (the default) the append-only file keeps queued
    jobs across restarts; `persistent=False` is a plain in-memory server.
    """

    def __init__(self, data_dir: Path | str, *, persistent: bool = True) -> None:
        self.root = Path(data_dir).absolute()
        self.persistent = persistent
        self.redis_root = self.root / "redis"
        self.log_path = self.redis_root / "redis.log"
        self.pid_path = self.redis_root / "redis.pid"
        self.port: int | None = None
        self.password: str | None = None
        self.url: str | None = None
        self.start_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        began = time.monotonic()
        if self.is_running():
            assert self.url is not None
            return self.url
        server = find_redis_server()
        self.root.mkdir(parents=True, exist_ok=True)
        self.redis_root.mkdir(mode=0o700, exist_ok=True)
        self._stop_leftover()
        self.password = self._password()
        fixed = self.port is not None  # a restart must come back on the same address
        for _ in range(3):
            if not fixed:
                self.port = self._choose_port()
            assert self.port is not None
            if self._launch(server, self.port):
                break
            if fixed or "Address already in use" not in _log_tail(self.log_path, 5):
                raise EmbeddedServerError(
                    f"redis-server did not start on port {self.port}; "
                    f"log:\n{_log_tail(self.log_path)}"
                )
            # Another process took the probed port between probe and bind: probe again.
        else:
            raise EmbeddedServerError("redis-server found no free port after 3 attempts")
        (self.redis_root / "port").write_text(f"{self.port}\n")
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0"
        with _running_lock:
            _running.add(self)
        self.start_seconds = time.monotonic() - began
        return self.url

    def stop(self) -> None:
        """SIGTERM: Redis flushes the append-only file and exits; a no-op when not running."""
        with _running_lock:
            _running.discard(self)
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> str:
        self.stop()
        return self.start()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # internals ----------------------------------------------------------------------------

    def _password(self) -> str:
        path = self.redis_root / "password"
        saved = _read_text(path)
        if saved:
            return saved
        password = secrets.token_urlsafe(24)
        _write_private(path, password)
        return password

    def _choose_port(self) -> int:
        saved = _read_text(self.redis_root / "port")
        if saved and saved.isdigit() and _port_is_free(int(saved)):
            return int(saved)
        return _free_loopback_port()

    def _config(self, port: int) -> str:
        def q(value: object) -> str:  # Redis config strings: double quotes, backslash escapes
            return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

        lines = [
            "bind 127.0.0.1",
            f"port {port}",
            "protected-mode yes",
            "daemonize no",
            f"dir {q(self.redis_root)}",
            f"pidfile {q(self.pid_path)}",
            f"logfile {q(self.log_path)}",
            f"requirepass {q(self.password)}",
            'save ""',
        ]
        if self.persistent:
            lines += ["appendonly yes", "appendfsync everysec"]
        else:
            lines += ["appendonly no"]
        return "\n".join(lines) + "\n"

    def _launch(self, server: Path, port: int) -> bool:
        # The password is in a 0600 file, not on the command line where `ps` shows it.
        conf = self.redis_root / "redis.conf"
        _write_private(conf, self._config(port))
        self.log_path.unlink(missing_ok=True)
        # Same process group as ours: Ctrl-C in the terminal reaches Redis too, which saves
        # and exits on SIGINT, so an interrupted parent leaves no server behind.
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(server), str(conf)],
            cwd=self.redis_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if _redis_ready(port, self.password or ""):
                return True
            time.sleep(0.01)
        self.stop()
        raise EmbeddedServerError(
            f"redis-server not ready after {_START_TIMEOUT} s; log:\n{_log_tail(self.log_path)}"
        )

    def _stop_leftover(self) -> None:
        """Stop a server a killed parent left running on this data dir (it holds the files)."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        # Redis chdirs to its `dir`: a live pid elsewhere is a reused number, not our server.
        if _pid_cwd(pid) != self.redis_root.resolve():
            return
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, 30):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)


def _redis_ready(port: int, password: str) -> bool:
    """AUTH then PING over a raw socket; False while refused or still loading its data."""
    request = (
        f"*2\r\n$4\r\nAUTH\r\n${len(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(request)
            reply = b""
            while reply.count(b"\r\n") < 2:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return False
    return reply.endswith(b"+PONG\r\n")
