"""SQL for extraction schemas. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from common.db import Conn

COLUMNS = "id, org_id, livemode, name, fields, is_default, created_at, updated_at"


@dataclass(frozen=True)
class ExtractionSchema:
    id: str
    org_id: str
    livemode: bool
    name: str
    fields: list[dict[str, Any]]
    is_default: bool
    created_at: datetime
    updated_at: datetime


def insert_schema(conn: Conn, **values: Any) -> ExtractionSchema:
    row = conn.execute(
        "insert into extraction_schemas (id, org_id, livemode, name, fields, is_default)"
        " values (%(id)s, %(org_id)s, %(livemode)s, %(name)s, %(fields)s, %(is_default)s)"
        f" returning {COLUMNS}",
        {**values, "fields": Jsonb(values["fields"])},
    ).fetchone()
    assert row is not None
    return ExtractionSchema(**row)


def get_schema(conn: Conn, org_id: str, livemode: bool, schema_id: str) -> ExtractionSchema | None:
    row = conn.execute(
        f"select {COLUMNS} from extraction_schemas where id = %(id)s and org_id = %(org)s"
        " and livemode = %(live)s",
        {"id": schema_id, "org": org_id, "live": livemode},
    ).fetchone()
    return ExtractionSchema(**row) if row else None


def list_schemas(conn: Conn, org_id: str, livemode: bool) -> list[ExtractionSchema]:
    rows = conn.execute(
        f"select {COLUMNS} from extraction_schemas where org_id = %(org)s"
        " and livemode = %(live)s order by id desc limit 100",
        {"org": org_id, "live": livemode},
    ).fetchall()
    return [ExtractionSchema(**row) for row in rows]


def clear_default(conn: Conn, org_id: str, livemode: bool) -> None:
    conn.execute(
        "update extraction_schemas set is_default = false, updated_at = now()"
        " where org_id = %(org)s and livemode = %(live)s and is_default",
        {"org": org_id, "live": livemode},
    )


def update_schema(conn: Conn, schema_id: str, changes: dict[str, Any]) -> ExtractionSchema:
    assert set(changes) <= {"name", "fields", "is_default"}
    values = {**changes, "id": schema_id}
    if "fields" in values:
        values["fields"] = Jsonb(values["fields"])
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"update extraction_schemas set {assignments}, updated_at = now() where id = %(id)s"
        f" returning {COLUMNS}",
        values,
    ).fetchone()
    assert row is not None
    return ExtractionSchema(**row)


def delete_schema(conn: Conn, schema_id: str) -> None:
    conn.execute("delete from extraction_schemas where id = %(id)s", {"id": schema_id})
