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
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ADVISORY_LOCK_KEY = 0x1A7E_0001  # any constant unique to Invex
NAME_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A verb and an object at least: lowercase words joined by single underscores.
STRICT_NAME_PATTERN = re.compile(r"^\d{4}_[a-z][a-z0-9]*(_[a-z0-9]+)+\.sql$")
CHECKSUMS_FILE = "CHECKSUMS"


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
    for path in sorted(directory.glob("*.sql")):
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
    names = sorted(path.name for path in directory.glob("*.sql"))
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
        for path in sorted(directory.glob("*.sql"))
        if path.name not in recorded
    ]
    with (directory / CHECKSUMS_FILE).open("a") as out:
        for migration in new:
            out.write(f"{migration.checksum}  {migration.name}\n")
    return [migration.name for migration in new]


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
    print("usage: python -m common.migrations check|record", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
