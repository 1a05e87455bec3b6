"""The files a PDF carries: Factur-X, ZUGFeRD 1.0/2.x and XRechnung attach their e-invoice
XML (CII, rarely UBL) to the PDF. PyMuPDF only, so the API can hand out the attached XML
without the extraction engine, which reads the same attachments in the same order
(workers/extraction/facturx.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pymupdf

from common.documents import XML, sniff_content_type

# The names the standards prescribe, most specific first; any other attached XML is tried
# after these.
KNOWN_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")
# An attachment claiming to be larger is not an invoice; it is not even decompressed.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_OBJECT_REFERENCE = re.compile(r"(\d+)\s+0\s+R")
# What PyMuPDF raises on damaged objects and streams (MuPDF errors do not all derive from
# RuntimeError).
PDF_ERRORS = (RuntimeError, ValueError, KeyError, pymupdf.mupdf.FzErrorBase)


@dataclass(frozen=True)
class EmbeddedXml:
    name: str
    data: bytes


def embedded_xml_candidates(doc: pymupdf.Document) -> list[EmbeddedXml]:
    """Attached files that may be the e-invoice, best candidates first: the embedded-files
    name tree, then the catalog's associated files (/AF, PDF/A-3), then file attachment
    annotations."""
    found: dict[str, EmbeddedXml] = {}
    for source in (_named_embedded_files, _associated_files, _attachment_annotations):
        try:
            attachments = source(doc)
        except PDF_ERRORS:
            continue  # a damaged attachment list; the others may still hold the invoice
        for attachment in attachments:
            found.setdefault(attachment.name, attachment)
    return sorted(found.values(), key=_candidate_rank)


def _named_embedded_files(doc: pymupdf.Document) -> list[EmbeddedXml]:
    attachments = []
    for name in doc.embfile_names():
        info = doc.embfile_info(name)
        if (info.get("size") or 0) > MAX_ATTACHMENT_BYTES:
            continue
        file_name = info.get("ufilename") or info.get("filename") or name
        attachments.append(EmbeddedXml(file_name, doc.embfile_get(name)))
    return attachments


def _attachment_annotations(doc: pymupdf.Document) -> list[EmbeddedXml]:
    attachments = []
    for page in doc.pages():
        for annot in page.annots(types=[pymupdf.mupdf.PDF_ANNOT_FILE_ATTACHMENT]):
            info = annot.file_info
            if (info.get("size") or 0) <= MAX_ATTACHMENT_BYTES:
                file_name = info.get("filename") or f"attachment-{annot.xref}"
                attachments.append(EmbeddedXml(file_name, annot.get_file()))
    return attachments


def _candidate_rank(candidate: EmbeddedXml) -> tuple[int, str]:
    name = candidate.name.lower()
    if name in KNOWN_XML_NAMES:
        return (KNOWN_XML_NAMES.index(name), name)
    if name.endswith(".xml"):
        return (len(KNOWN_XML_NAMES), name)
    return (len(KNOWN_XML_NAMES) + 1, name)


def _associated_files(doc: pymupdf.Document) -> list[EmbeddedXml]:
    catalog = doc.pdf_catalog()
    kind, value = doc.xref_get_key(catalog, "AF")
    if kind == "xref":
        value = doc.xref_object(int(value.split()[0]), compressed=True)
    elif kind != "array":
        return []
    attachments = []
    for reference in _OBJECT_REFERENCE.findall(value):
        filespec = int(reference)
        stream_kind, stream_ref = doc.xref_get_key(filespec, "EF/F")
        if stream_kind != "xref":
            continue
        stream_xref = int(stream_ref.split()[0])
        length_kind, length = doc.xref_get_key(stream_xref, "Params/Size")
        if length_kind == "int" and int(length) > MAX_ATTACHMENT_BYTES:
            continue
        name = next(
            (
                doc.xref_get_key(filespec, key)[1]
                for key in ("UF", "F")
                if doc.xref_get_key(filespec, key)[0] == "string"
            ),
            f"af-{filespec}",
        )
        data = doc.xref_stream(stream_xref)
        if data:
            attachments.append(EmbeddedXml(name, data))
    return attachments


def embedded_einvoice_xml(pdf_bytes: bytes) -> bytes | None:
    """The bytes of the e-invoice XML a PDF carries (for downloading it), or None: the first
    attachment, best candidates first, whose root element is an e-invoice's as the upload
    sniffer reads it."""
    try:
        doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    except PDF_ERRORS:
        return None
    with doc:
        for candidate in embedded_xml_candidates(doc):
            if sniff_content_type(candidate.data) == XML:
                return candidate.data
    return None
