"""The schema check of `make migrations-check`: the migrations applied to an empty database
must dump to migrations/schema.sql, and a dump that drifted fails with a diff."""

from __future__ import annotations

import pytest

from common import migrations
from common.migrations import SCHEMA_PATH, NotComparable, SchemaDump


@pytest.fixture(scope="module")
def dump(servers, settings) -> SchemaDump:
    return migrations.dump_migrated_schema(servers["server_url"])


def test_the_checked_in_schema_is_what_the_migrations_build(dump):
    assert migrations.compare(dump, SCHEMA_PATH.read_text()) == []


def test_the_command_passes_on_the_checked_in_schema(settings, capsys):
    assert migrations.main(["check-schema"]) == 0
    assert capsys.readouterr().err == ""


def test_a_column_missing_from_the_dump_fails_with_the_line(dump):
    drifted = SCHEMA_PATH.read_text().replace("    last_used_at timestamp with time zone,\n", "")
    assert drifted != SCHEMA_PATH.read_text()
    differences = migrations.compare(dump, drifted)
    assert "+    last_used_at timestamp with time zone," in differences


def test_a_table_the_migrations_do_not_build_fails(dump, servers, tmp_path):
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA_PATH.read_text() + "\nCREATE TABLE public.ghost (id text);\n")
    differences = migrations.check_schema(schema, server_url=servers["server_url"])
    assert "-CREATE TABLE public.ghost (id text);" in differences


def test_a_missing_schema_file_names_the_command(tmp_path):
    problems = migrations.check_schema(tmp_path / "schema.sql")
    assert problems == [
        f"{tmp_path / 'schema.sql'} is missing: run `python -m common.migrations dump-schema`"
    ]


def test_how_the_dump_was_made_is_not_compared(dump):
    noisy = "\n".join(
        [
            "--",
            "-- PostgreSQL database dump",
            "\\restrict AbC123",
            "SET statement_timeout = 0;",
            "SELECT pg_catalog.set_config('search_path', '', false);",
            "",
            "",
            SCHEMA_PATH.read_text(),
            "\\unrestrict AbC123",
        ]
    )
    assert migrations.compare(dump, noisy) == []


def test_a_dump_of_another_major_version_is_not_compared(dump):
    other = SchemaDump(dump.major + 1, dump.text)
    with pytest.raises(NotComparable, match=f"PostgreSQL {dump.major + 1}"):
        migrations.compare(other, SCHEMA_PATH.read_text())


def test_the_written_file_reads_back_as_the_same_schema(dump, tmp_path):
    text = migrations.schema_file_text(dump)
    assert text.startswith("-- The schema migrations/*.sql build")
    assert f"-- PostgreSQL major version: {dump.major}\n" in text
    assert migrations.compare(dump, text) == []


def test_an_unreachable_server_fails_with_its_reason(settings, capsys, monkeypatch):
    monkeypatch.setenv("INVEX_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    assert migrations.main(["check-schema"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("check-schema: ")
    assert "127.0.0.1" in err
