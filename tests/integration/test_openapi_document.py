"""The generated OpenAPI document: every property described, money said to be in minor
units, and the paths the contract does not have answered as unknown paths."""

from __future__ import annotations

import re

from tests.integration.test_api_contract import assert_contract_error

MONEY_NAME = re.compile(r"amount|price|total")


def properties(spec: dict):
    """(schema name, property path, property) for every property of every schema,
    nested inline objects and array items included."""

    def walk(name: str, path: str, schema: dict):
        for prop_name, prop in (schema.get("properties") or {}).items():
            where = f"{path}.{prop_name}" if path else prop_name
            yield name, where, prop
            yield from walk(name, where, prop)
            if isinstance(prop.get("items"), dict):
                yield from walk(name, f"{where}[]", prop["items"])

    for name, schema in spec["components"]["schemas"].items():
        yield from walk(name, "", schema)


def test_every_property_of_every_schema_has_a_description(client):
    spec = client.get("/v1/openapi.json").get_json()
    undescribed = [
        f"{name}.{path}" for name, path, prop in properties(spec) if not prop.get("description")
    ]
    assert undescribed == []


def test_every_money_property_says_it_is_in_minor_units_of_the_currency(client):
    spec = client.get("/v1/openapi.json").get_json()
    wrong = []
    for name, path, prop in properties(spec):
        if not MONEY_NAME.search(path.rsplit(".", 1)[-1]):
            continue
        description = (prop.get("description") or "").lower()
        types = prop.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types:  # a decimal string: exact, not minor units
            if "exact decimal" not in description:
                wrong.append(f"{name}.{path}")
        elif "integer" in types and "minor units" not in description:
            wrong.append(f"{name}.{path}")
    assert wrong == []


def test_a_post_to_a_path_the_api_does_not_have_is_not_found(client, tenant):
    response = client.post("/v1/invoices/extract", headers=tenant.headers)
    assert_contract_error(response, 404, "resource_not_found")
