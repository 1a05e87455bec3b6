"""Cut from Intuit's published XML schema of the QuickBooks Online API (the XSDs shipped in
intuit/QuickBooks-V3-Java-SDK, ipp-v3-java-data/src/main/xsd; Apache License 2.0:
LICENSE-QuickBooks-V3-Java-SDK beside this file) the types of the entities Invex creates
(Bill, Vendor, Attachable) and every type they reach, as element and attribute names by
type, into quickbooks_entities.json. The JSON API carries the same names (elements and
attributes alike become keys), so the QuickBooks double refuses any key the type lacks.

    python -m tests.doubles.vendor_quickbooks_xsd path/to/xsd/directory COMMIT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
FILES = ("Finance.xsd", "IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "SalesTax.xsd")
ROOTS = ("Bill", "Vendor", "Attachable")
OUT = Path(__file__).with_name("quickbooks_entities.json")


def _local(name: str | None) -> str | None:
    return name.split(":")[-1] if name else None


def read_types(directory: Path) -> dict[str, dict[str, Any]]:
    types: dict[str, dict[str, Any]] = {}
    for name in FILES:
        tree = etree.parse(str(directory / name))
        for complex_type in tree.getroot().iter(f"{XS}complexType"):
            type_name = complex_type.get("name")
            if not type_name:
                continue
            base = None
            for extension in complex_type.iter(f"{XS}extension", f"{XS}restriction"):
                base = _local(extension.get("base"))
                break
            elements = {
                element.get("name"): _local(element.get("type"))
                for element in complex_type.iter(f"{XS}element")
                if element.get("name")
            }
            attributes = sorted(
                a.get("name") for a in complex_type.iter(f"{XS}attribute") if a.get("name")
            )
            # a simple-content type (ReferenceType) carries its text as the JSON key `value`
            simple = complex_type.find(f"{XS}simpleContent") is not None
            if simple:
                attributes.append("value")
            types[type_name] = {"base": base, "elements": elements, "attributes": attributes}
    return types


def closure(types: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = {}
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        if name in kept or name not in types:
            continue
        kept[name] = types[name]
        pending.append(types[name]["base"] or "")
        pending.extend(t for t in types[name]["elements"].values() if t)
    return kept


if __name__ == "__main__":
    directory, commit = Path(sys.argv[1]), sys.argv[2]
    document = {
        "x-vendored-from": "https://github.com/intuit/QuickBooks-V3-Java-SDK/tree/"
        f"{commit}/ipp-v3-java-data/src/main/xsd",
        "x-licence": "Apache License 2.0 (LICENSE-QuickBooks-V3-Java-SDK)",
        "types": closure(read_types(directory)),
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {OUT} ({len(document['types'])} types)\n")
