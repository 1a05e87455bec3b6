"""The migration files CI checks before anything runs: names, numbering, landed checksums."""

import shutil
from pathlib import Path

import pytest

from common.migrations import (
    MIGRATIONS_DIR,
    check_migration_files,
    migration_paths,
    record_checksums,
)


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the repository's migrations, to break."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy)
    return copy


def next_number(migrations: Path) -> int:
    return max(int(path.name[:4]) for path in migration_paths(migrations)) + 1


def test_the_repository_migrations_pass():
    assert check_migration_files() == []


def test_an_edited_landed_migration_fails(migrations):
    path = migrations / "0001_create_core_tables.sql"
    path.write_text(path.read_text() + "\n-- an afterthought\n")
    assert check_migration_files(migrations) == [
        (
            "0001_create_core_tables.sql changed after it landed; add a new migration instead "
            "of editing it"
        )
    ]


def test_a_gap_in_the_numbers_fails(migrations):
    number = next_number(migrations) + 1
    (migrations / f"{number:04d}_add_something.sql").write_text("select 1;\n")
    record_checksums(migrations)
    assert check_migration_files(migrations) == [
        f"no migration numbered {number - 1:04d}: numbers run without gaps"
    ]


def test_two_migrations_with_one_number_fail(migrations):
    (migrations / "0002_add_other_thing.sql").write_text("select 1;\n")
    record_checksums(migrations)
    assert check_migration_files(migrations) == ["two migrations share the number 0002"]


def test_a_name_without_verb_and_object_fails(migrations):
    name = f"{next_number(migrations):04d}_Indexes.sql"
    (migrations / name).write_text("select 1;\n")
    record_checksums(migrations)
    assert check_migration_files(migrations) == [
        f"{name}: migration names are NNNN_verb_object.sql"
    ]


def test_a_new_migration_must_be_recorded(migrations):
    name = f"{next_number(migrations):04d}_add_column.sql"
    (migrations / name).write_text("select 1;\n")
    assert check_migration_files(migrations) == [
        f"{name} is not in CHECKSUMS: run `python -m common.migrations record`"
    ]


def test_recording_never_rewrites_a_landed_checksum(migrations):
    path = migrations / "0002_create_webhooks.sql"
    path.write_text(path.read_text() + "\n-- edited\n")
    assert record_checksums(migrations) == []
    assert any("0002_create_webhooks.sql changed" in p for p in check_migration_files(migrations))
