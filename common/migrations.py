"""Apply the numbered SQL files in migrations/ that have not run yet, and check the files.

Each file runs in its own transaction and is recorded with its checksum. A session-level
advisory lock makes concurrent runs (two releases starting at once) take turns: the second
finds everything applied and does nothing.

`python -m common.migrations check` (`make migrations-check`, run by CI) checks the files
without a database: names are NNNN_verb_object.sql, numbers run 0001, 0002, ... with no gap
or duplicate, and every landed migration still has the checksum recorded in
migrations/CHECKSUMS, so an edited one fails CI rather than a deploy.
`python -m common.migrations record` appends the checksum of each new file and never
rewrites a recorded one.

`python -m common.migrations check-schema` applies every migration to a new, empty
database and compares its `pg_dump --schema-only` with migrations/schema.sql, so a
migration that builds something other than what review saw, or a dump nobody regenerated,
fails CI; `dump-schema` rewrites that file. The server is INVEX_DATABASE_URL's (a scratch
database on it, dropped after), else a private one started from the machine's binaries, as
the test suite does. pg_dump's text differs between PostgreSQL major versions, so
schema.sql records the major version that wrote it, and a server of another major version
is reported rather than compared.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from common.embedded import EmbeddedServerError, PrivatePostgres, find_postgres_bin

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ADVISORY_LOCK_KEY = 0x1A7E_0001  # any constant unique to Invex
NAME_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A verb and an object at least: lowercase words joined by single underscores.
STRICT_NAME_PATTERN = re.compile(r"^\d{4}_[a-z][a-z0-9]*(_[a-z0-9]+)+\.sql$")
CHECKSUMS_FILE = "CHECKSUMS"
# The schema the migrations build, for the schema check (check_schema); not a migration.
SCHEMA_FILE = "schema.sql"


def migration_paths(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.sql") if path.name != SCHEMA_FILE)


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in migration_paths(directory):
        match = NAME_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration names are NNNN_verb_object.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a number")
    return found


def apply_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations in order; return the names applied by this call."""
    migrations = load_migrations(directory)
    applied_now = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(
                "create table if not exists schema_migrations ("
                " version integer primary key, name text not null, checksum text not null,"
                " applied_at timestamptz not null default now())"
            )
            done = {
                row[0]: row[1]
                for row in conn.execute("select version, checksum from schema_migrations")
            }
            for migration in migrations:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"{migration.name} changed after it was applied; "
                            "add a new migration instead of editing a landed one"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into schema_migrations (version, name, checksum)"
                        " values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.name)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def read_checksums(directory: Path = MIGRATIONS_DIR) -> dict[str, str]:
    """name -> checksum, from the `checksum  name` lines of migrations/CHECKSUMS."""
    path = directory / CHECKSUMS_FILE
    if not path.exists():
        return {}
    recorded = {}
    for line in path.read_text().splitlines():
        if line.strip():
            checksum, name = line.split()
            recorded[name] = checksum
    return recorded


def check_migration_files(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Every problem with the migration files, one sentence each; empty when all is well."""
    problems = []
    names = [path.name for path in migration_paths(directory)]
    numbers = []
    for name in names:
        if not STRICT_NAME_PATTERN.match(name):
            problems.append(f"{name}: migration names are NNNN_verb_object.sql")
        if name[:4].isdigit():
            numbers.append(int(name[:4]))
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(f"two migrations share the number {number:04d}")
    missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
    problems.extend(
        f"no migration numbered {number:04d}: numbers run without gaps" for number in missing
    )
    recorded = read_checksums(directory)
    for name, checksum in recorded.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} is in {CHECKSUMS_FILE} but gone: landed migrations stay")
        elif Migration(0, name, path.read_text()).checksum != checksum:
            problems.append(
                f"{name} changed after it landed; add a new migration instead of editing it"
            )
    problems.extend(
        f"{name} is not in {CHECKSUMS_FILE}: run `python -m common.migrations record`"
        for name in names
        if name not in recorded
    )
    return problems


def record_checksums(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Append the checksum of each migration not yet in CHECKSUMS; return their names."""
    recorded = read_checksums(directory)
    new = [
        Migration(0, path.name, path.read_text())
        for path in migration_paths(directory)
        if path.name not in recorded
    ]
    with (directory / CHECKSUMS_FILE).open("a") as out:
        for migration in new:
            out.write(f"{migration.checksum}  {migration.name}\n")
    return [migration.name for migration in new]


# --- the schema check ---------------------------------------------------------------------

SCHEMA_PATH = MIGRATIONS_DIR / SCHEMA_FILE
VERSION_LINE = re.compile(r"^-- PostgreSQL major version: (\d+)$", re.MULTILINE)
HEADER = (
    "-- The schema migrations/*.sql build: `python -m common.migrations dump-schema` writes\n"
    "-- this file, `python -m common.migrations check-schema` (make migrations-check) compares.\n"
    "-- PostgreSQL major version: {major}\n"
)
# Lines that say how the dump was made, not what the schema is: comments, session
# settings, and the \restrict guard newer pg_dump releases write with a random key.
NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config\(|\\restrict |\\unrestrict )")


class SchemaCheckError(MigrationError):
    pass


class NotComparable(Exception):
    """schema.sql was dumped by another PostgreSQL major version than this server's."""


@dataclass(frozen=True)
class SchemaDump:
    major: int
    text: str  # the dump without its noise; statements apart, for people to read


def without_noise(dump: str) -> str:
    """The dump's statements, one blank line apart."""
    kept = [line.rstrip() for line in dump.splitlines() if not NOISE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n") + "\n"


def normalise(dump: str) -> str:
    """What is compared: the statements, blank lines dropped too."""
    return "\n".join(line for line in without_noise(dump).splitlines() if line) + "\n"


def _database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _pg_dump() -> str:
    """The pg_dump of the newest installed server (pg_dump refuses a newer server than
    itself), else the one on PATH."""
    with contextlib.suppress(EmbeddedServerError):
        candidate = find_postgres_bin() / "pg_dump"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("pg_dump")
    if found is None:
        raise SchemaCheckError("pg_dump is not installed (Debian package postgresql-client)")
    return found


@contextlib.contextmanager
def _server_url() -> Iterator[str]:
    """INVEX_DATABASE_URL when set, else a private server for the length of the block."""
    configured = os.environ.get("INVEX_DATABASE_URL")
    if configured:
        yield configured
        return
    # Not under a 0700 directory: as root, the server runs as `postgres`, who must enter it.
    root = Path(tempfile.mkdtemp(prefix="invex-schema-", dir="/tmp"))
    root.chmod(0o755)
    server = PrivatePostgres(root, durable=False)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def dump_migrated_schema(server_url: str) -> SchemaDump:
    """Every migration applied to a new empty database on this server, then its schema."""
    name = f"invex_schema_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        row = conn.execute("select current_setting('server_version_num')::int").fetchone()
        assert row is not None
        major = row[0] // 10000
        conn.execute(f'create database "{name}" template template0')
    url = _database_url(server_url, name)
    try:
        apply_migrations(url)
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [_pg_dump(), "--schema-only", "--no-owner", "--no-privileges", "--dbname", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise SchemaCheckError(f"pg_dump failed: {done.stderr.strip()}")
        return SchemaDump(major, without_noise(done.stdout))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def schema_file_text(dump: SchemaDump) -> str:
    return HEADER.format(major=dump.major) + "\n" + dump.text


def compare(dump: SchemaDump, checked_in: str) -> list[str]:
    """The differences as a unified diff (checked-in first); empty when they match. A dump
    of another major version raises NotComparable: its text differs whatever the schema."""
    recorded = VERSION_LINE.search(checked_in)
    if recorded and int(recorded.group(1)) != dump.major:
        raise NotComparable(
            f"migrations/schema.sql was dumped by PostgreSQL {recorded.group(1)} and this"
            f" server is PostgreSQL {dump.major}: not compared"
        )
    return list(
        difflib.unified_diff(
            normalise(checked_in).splitlines(),
            normalise(dump.text).splitlines(),
            "migrations/schema.sql",
            "the migrations applied",
            lineterm="",
        )
    )


def check_schema(schema_file: Path = SCHEMA_PATH, server_url: str | None = None) -> list[str]:
    """What differs between the migrations' schema and schema_file; empty when nothing."""
    if not schema_file.exists():
        return [f"{schema_file} is missing: run `python -m common.migrations dump-schema`"]
    if server_url is None:
        with _server_url() as url:
            dump = dump_migrated_schema(url)
    else:
        dump = dump_migrated_schema(server_url)
    return compare(dump, schema_file.read_text())


def write_schema(schema_file: Path = SCHEMA_PATH) -> None:
    with _server_url() as url:
        dump = dump_migrated_schema(url)
    schema_file.write_text(schema_file_text(dump))


def main(argv: list[str]) -> int:
    if argv == ["check"]:
        problems = check_migration_files()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if argv == ["record"]:
        for name in record_checksums():
            print(f"recorded {name}")
        return 0
    if argv in (["check-schema"], ["dump-schema"]):
        try:
            return _schema_command(argv[0])
        except (MigrationError, psycopg.Error) as exc:
            print(f"{argv[0]}: {exc}", file=sys.stderr)
            return 1
    print(
        "usage: python -m common.migrations check|record|check-schema|dump-schema",
        file=sys.stderr,
    )
    return 2


def _schema_command(command: str) -> int:
    if command == "dump-schema":
        write_schema()
        print(f"wrote {SCHEMA_PATH.relative_to(MIGRATIONS_DIR.parent)}")
        return 0
    try:
        differences = check_schema()
    except NotComparable as exc:
        print(f"note: {exc}", file=sys.stderr)
        return 0
    for line in differences:
        print(line, file=sys.stderr)
    if differences:
        print(
            "the migrations build another schema than migrations/schema.sql: if the"
            " migrations are right, run `python -m common.migrations dump-schema`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
