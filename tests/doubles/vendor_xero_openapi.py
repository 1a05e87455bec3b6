"""Cut from Xero's published OpenAPI document (XeroAPI/Xero-OpenAPI, xero_accounting.yaml,
MIT licence: LICENSE-Xero-OpenAPI beside this file) the operations Invex calls and every
schema and parameter they reference, into xero_accounting_subset.json, which the Xero
double validates each request against.

    python -m tests.doubles.vendor_xero_openapi path/to/xero_accounting.yaml COMMIT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

OPERATIONS = {
    "/Contacts": ("get", "put"),
    "/Invoices": ("put",),
    "/Invoices/{InvoiceID}/Attachments/{FileName}": ("put",),
}
OUT = Path(__file__).with_name("xero_accounting_subset.json")


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def cut(document: dict[str, Any], source: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = document["paths"][path]
        paths[path] = {k: v for k, v in item.items() if k in (*methods, "parameters")}
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        target = document["components"][kind][name]
        components.setdefault(kind, {})[name] = target
        pending |= _refs(target)
    return {
        "x-vendored-from": source,
        "x-licence": "MIT, Copyright (c) 2017 Xero Developer API (LICENSE-Xero-OpenAPI)",
        "openapi": document["openapi"],
        "info": document["info"],
        "paths": paths,
        "components": components,
    }


if __name__ == "__main__":
    spec_path, commit = sys.argv[1], sys.argv[2]
    document = yaml.safe_load(Path(spec_path).read_text())
    source = f"https://github.com/XeroAPI/Xero-OpenAPI/blob/{commit}/xero_accounting.yaml"
    OUT.write_text(json.dumps(cut(document, source), indent=1, sort_keys=True, default=str) + "\n")
    sys.stdout.write(f"wrote {OUT}\n")
