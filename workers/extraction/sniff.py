"""Recognise an upload by its first bytes, never by its name or declared type.

The API imports this module on every upload, so it uses the standard library only.
"""

from __future__ import annotations

import re

SNIFF_BYTES = 4096

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
WEBP = "image/webp"
XML = "application/xml"

_EINVOICE_ROOTS = ("Invoice", "CreditNote", "CrossIndustryInvoice", "CrossIndustryDocument")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PROCESSING_INSTRUCTION = re.compile(r"<\?.*?\?>", re.DOTALL)
# A DOCTYPE with its internal subset; the parser refuses these, the sniffer skips them to
# see which root element follows.
_DOCTYPE = re.compile(r"<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>", re.DOTALL)
_FIRST_ELEMENT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a document from its first bytes (about 4 KB), or None when it
    is none of the accepted kinds: PDF, PNG, JPEG, TIFF, WebP, UBL or CII XML."""
    head = head[:SNIFF_BYTES]
    if head.startswith(b"%PDF-"):  # most uploads: no XML decoding of a binary head
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    text = _decode_xml_head(head)
    if text is not None:
        return XML if _looks_like_einvoice(text) else None
    # Readers accept a PDF header anywhere in the first kilobyte (some generators prefix junk).
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def _decode_xml_head(head: bytes) -> str | None:
    """The head as text if it starts like an XML document (after an optional byte order
    mark and whitespace), else None."""
    if head.startswith(b"\xef\xbb\xbf"):
        text = head[3:].decode("utf-8", errors="ignore")
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    elif head.startswith(b"<\x00"):
        text = head.decode("utf-16-le", errors="ignore")
    elif head.startswith(b"\x00<"):
        text = head.decode("utf-16-be", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff \t\r\n")
    return text if text.startswith("<") else None


def _looks_like_einvoice(text: str) -> bool:
    """True when the root element is an e-invoice root, or when the head ends before the
    root element appears (a long licence comment): the XML parser then decides."""
    body = _PROCESSING_INSTRUCTION.sub("", _COMMENT.sub("", text))
    if "<!--" in body:
        return True  # the head ends inside a comment
    # An e-invoice root after a DOCTYPE goes on to the parser, which refuses the DOCTYPE
    # with a clearer error than "unsupported file type".
    body = _DOCTYPE.sub("", body)
    if "<!DOCTYPE" in body:
        return True  # the head ends inside the DOCTYPE
    match = _FIRST_ELEMENT.search(body)
    if match is None:
        return True  # only prolog so far
    return match.group(1) in _EINVOICE_ROOTS
