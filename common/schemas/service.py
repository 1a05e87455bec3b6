"""Extraction schemas: the custom fields an organisation wants read from its invoices.
One schema per organisation and mode may be the default, given to an upload that names none
(and shown as its `schema_id`)."""

from __future__ import annotations

import re
from typing import Any

import re2

from common import db
from common.accounts.service import Principal
from common.errors import ResourceNotFound, ValidationFailed
from common.ids import new_id
from common.schemas import repository
from common.schemas.repository import ExtractionSchema

FIELD_TYPES = ("string", "number", "money", "date")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_FIELDS = 50


def check_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated custom field definitions; `param` names the offending one."""
    if len(fields) > MAX_FIELDS:
        raise ValidationFailed(f"At most {MAX_FIELDS} custom fields.", param="fields")
    seen: set[str] = set()
    checked = []
    for number, field in enumerate(fields):
        where = f"fields.{number}"
        name = field.get("name", "")
        if not NAME.match(name) or name in seen:
            raise ValidationFailed(
                "A name is unique, lowercase, starts with a letter: a-z, 0-9, _.",
                param=f"{where}.name",
            )
        seen.add(name)
        pattern = field.get("pattern")
        if pattern:
            try:
                # RE2 matches in linear time and refuses backreferences and look-arounds,
                # so no pattern a user saves can hang an extraction worker.
                re2.compile(pattern)
            except re2.error as exc:
                raise ValidationFailed(
                    f"The pattern is not supported: {exc}", param=f"{where}.pattern"
                ) from None
        checked.append(
            {
                "name": name,
                "type": field.get("type", "string"),
                "labels": list(field.get("labels") or []),
                "pattern": pattern or None,
            }
        )
    return checked


def create_schema(
    principal: Principal, *, name: str, fields: list[dict[str, Any]], is_default: bool
) -> ExtractionSchema:
    checked = check_fields(fields)
    with db.transaction() as conn:
        if is_default:
            repository.clear_default(conn, principal.org_id, principal.livemode)
        return repository.insert_schema(
            conn,
            id=new_id("sch"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            name=name,
            fields=checked,
            is_default=is_default,
        )


def get_schema(
    principal: Principal, schema_id: str, conn: db.Conn | None = None
) -> ExtractionSchema:
    if conn is None:
        with db.connection() as own:
            return get_schema(principal, schema_id, own)
    schema = repository.get_schema(conn, principal.org_id, principal.livemode, schema_id)
    if schema is None:
        raise ResourceNotFound(f"No schema {schema_id!r}.", param="schema_id")
    return schema


def list_schemas(principal: Principal) -> list[ExtractionSchema]:
    with db.connection() as conn:
        return repository.list_schemas(conn, principal.org_id, principal.livemode)


def update_schema(
    principal: Principal, schema_id: str, changes: dict[str, Any]
) -> ExtractionSchema:
    if "fields" in changes:
        changes = {**changes, "fields": check_fields(changes["fields"])}
    with db.transaction() as conn:
        schema = get_schema(principal, schema_id, conn)
        if changes.get("is_default"):
            repository.clear_default(conn, principal.org_id, principal.livemode)
        return repository.update_schema(conn, schema.id, changes) if changes else schema


def delete_schema(principal: Principal, schema_id: str) -> ExtractionSchema:
    with db.transaction() as conn:
        schema = get_schema(principal, schema_id, conn)
        repository.delete_schema(conn, schema.id)
    return schema


def custom_field_specs(
    conn: db.Conn, org_id: str, livemode: bool, schema_id: str | None
) -> list[dict[str, Any]]:
    """The custom fields to extract for an invoice: its own schema's. An upload naming none
    was given the default of its moment (common/invoices/repository.py UPLOAD), so a
    default set later, as the invoice waits in the queue, does not apply to it."""
    if schema_id is None:
        return []
    schema = repository.get_schema(conn, org_id, livemode, schema_id)
    return schema.fields if schema else []


def schema_resource(schema: ExtractionSchema) -> dict[str, Any]:
    return {
        "id": schema.id,
        "object": "extraction_schema",
        "livemode": schema.livemode,
        "name": schema.name,
        "fields": schema.fields,
        "is_default": schema.is_default,
        "created": int(schema.created_at.timestamp()),
        "updated": int(schema.updated_at.timestamp()),
    }
