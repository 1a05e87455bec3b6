"""Parsing untrusted XML safely, and reading it by local element name.

E-invoices come from strangers, so the parser never resolves entities, never loads a DTD,
never touches the network, keeps lxml's limits on huge documents, and any document that
declares a DOCTYPE is refused outright: no UBL or CII schema uses one, and a DOCTYPE is how
external-entity (XXE) and entity-expansion ("billion laughs") attacks are delivered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypeAlias

from lxml import etree

# "<!DOCTYPE" in UTF-8/ASCII and in both UTF-16 byte orders.
_DOCTYPE_MARKERS = (
    re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE),
    re.compile("<!DOCTYPE".encode("utf-16-le"), re.IGNORECASE),
    re.compile("<!DOCTYPE".encode("utf-16-be"), re.IGNORECASE),
)
_ENTITY_MARKER = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)

Element: TypeAlias = etree._Element


class RefusedXml(ValueError):
    """Not well-formed, or declaring a DOCTYPE or entities. Each reader turns it into its
    own stable error (an invoice's `unprocessable_invoice`, a statement's)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def parse_untrusted_xml(data: bytes) -> Element:
    """The root element of `data`, or RefusedXml if it is not well-formed XML or declares a
    DOCTYPE or entities."""
    if any(marker.search(data) for marker in _DOCTYPE_MARKERS) or _ENTITY_MARKER.search(data):
        raise RefusedXml("XML documents with a DOCTYPE or entity declarations are refused.")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise RefusedXml(f"The XML is not well-formed: {exc}") from None
    # Belt and braces: the byte scan above could miss an exotic encoding.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise RefusedXml("XML documents with a DOCTYPE or entity declarations are refused.")
    return root


def local_name(element: Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _path(names: str) -> str:
    """ "A/B/C" -> "{*}A/{*}B/{*}C": UBL and CII versions differ in namespaces, not in the
    local names this package reads."""
    return "/".join("{*}" + part for part in names.split("/"))


def find(element: Element | None, names: str) -> Element | None:
    if element is None:
        return None
    return element.find(_path(names))


def find_all(element: Element | None, names: str) -> list[Element]:
    if element is None:
        return []
    return element.findall(_path(names))


def first(element: Element | None, *alternatives: str) -> Element | None:
    """The first element found along any of the alternative paths, in the order given."""
    for names in alternatives:
        found = find(element, names)
        if found is not None:
            return found
    return None


def text_of(element: Element | None) -> str | None:
    """The element's whole text with whitespace runs collapsed; None when empty."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def lines_of(element: Element | None) -> str | None:
    """The element's text keeping line breaks (notes, free-text addresses); None if empty."""
    if element is None:
        return None
    lines = [" ".join(line.split()) for line in "".join(element.itertext()).splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or None


def first_text(element: Element | None, *alternatives: str) -> str | None:
    for names in alternatives:
        for found in find_all(element, names):
            text = text_of(found)
            if text:
                return text
    return None


def iter_texts(element: Element | None, names: str) -> Iterator[str]:
    for found in find_all(element, names):
        text = text_of(found)
        if text:
            yield text
