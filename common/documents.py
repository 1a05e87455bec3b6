"""Document formats, in one place for the API, the credits and the extraction engine:
what an upload is (sniffed from its first bytes, never its name or declared type), the
limits a document must keep, and how many pages it has (as credits count them, known
before the upload is accepted).

Sniffing uses the standard library only: the API runs it on every upload. The page count
reads headers only: PyMuPDF's page count for a PDF, Pillow's frame count for an image, 1
for an XML e-invoice (its parser decides in extraction). What is refused there is neither
charged nor stored: a PDF or image these cannot open (422 `unreadable_file`), and a
document longer than INVEX_MAX_PAGES (422 `too_many_pages`, naming its real count), which
extraction would only have failed after the credits were taken.
"""

from __future__ import annotations

import io
import re
import warnings

from common.errors import TooManyPages, UnreadableFile

# The CLI's page limit; the worker passes INVEX_MAX_PAGES, the setting the upload checks too.
DEFAULT_MAX_PAGES = 50
# About 60 megapixels: an A3 page scanned at 600 dpi is 70 MP, A4 at 300 dpi is 8.7 MP.
# Pillow raises DecompressionBombError above twice this, and extraction refuses anything
# above it before decoding, so a tiny file declaring a huge canvas costs nothing.
MAX_IMAGE_PIXELS = 60_000_000

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


IMAGES = frozenset({PNG, JPEG, TIFF, WEBP})


def _pdf_page_count(data: bytes) -> int:
    """MuPDF's own PDF calls (PyMuPDF's documented low-level binding): the page tree's
    count, without what `pymupdf.open` also does (reading the metadata, for one) and
    without `fz_open_document`'s asking every document handler whether the bytes are its
    own (they are a PDF: the sniffer said so). The `ll_` functions skip the binding's
    wrapper objects, so what they return is dropped here, each as soon as the next holds
    its own reference (the stream keeps the buffer, the document the stream). It runs on
    every upload, so it does only this (docs/performance.md has the figures)."""
    from pymupdf import mupdf  # noqa: PLC0415 - the upload path only, not every importer

    buffer = mupdf.ll_fz_new_buffer_from_copied_data(data)
    try:
        stream = mupdf.ll_fz_open_buffer(buffer)
    finally:
        mupdf.ll_fz_drop_buffer(buffer)
    try:
        document = mupdf.ll_pdf_open_document_with_stream(stream)
    finally:
        mupdf.ll_fz_drop_stream(stream)
    try:
        return mupdf.ll_pdf_count_pages(document)
    finally:
        mupdf.ll_pdf_drop_document(document)


def count_pages(data: bytes, content_type: str, max_pages: int) -> int:
    """The upload's pages, between 1 and `max_pages`; raises UnreadableFile or
    TooManyPages (common.errors) for what extraction could only fail."""
    from PIL import Image  # noqa: PLC0415 - as _pdf_page_count's import
    from pymupdf import mupdf  # noqa: PLC0415

    from common.mupdf_warnings import forget_mupdf_warnings  # noqa: PLC0415 - pymupdf too

    pages = 1
    if content_type == PDF:
        try:
            pages = _pdf_page_count(data)
        except (mupdf.FzErrorBase, RuntimeError, ValueError):  # MuPDF's errors: a damaged file
            raise UnreadableFile("The PDF is damaged and cannot be read.", param="file") from None
        finally:
            forget_mupdf_warnings()
        if pages < 1:  # what MuPDF's repair makes of bytes with no page tree left
            raise UnreadableFile("The PDF has no page that can be read.", param="file")
    elif content_type in IMAGES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    pages = getattr(image, "n_frames", 1)
        except Image.DecompressionBombError:
            pages = 1  # readable, only too large: extraction refuses it by its pixels
        except (OSError, ValueError, SyntaxError, EOFError):
            raise UnreadableFile("The image is damaged and cannot be read.", param="file") from None
    if pages > max_pages:
        raise TooManyPages(pages, max_pages)
    return max(pages, 1)


def page_range(data: bytes, content_type: str, first: int, last: int) -> bytes:
    """Pages `first`..`last` (0-based, inclusive) of a PDF or multi-page TIFF as a file of
    the same type: what a document split out of a larger file keeps as its own file."""
    if content_type == PDF:
        import pymupdf  # noqa: PLC0415 - as _pdf_page_count's import

        with pymupdf.open(stream=data, filetype="pdf") as source, pymupdf.open() as part:
            part.insert_pdf(source, from_page=first, to_page=last)
            # no timestamps in the file: the same pages of the same file give the same bytes
            part.set_metadata({})
            return part.tobytes(garbage=3, deflate=True, no_new_id=True)
    if content_type == TIFF:
        from PIL import Image, ImageSequence  # noqa: PLC0415

        with Image.open(io.BytesIO(data)) as image:
            frames = [f.copy() for f in ImageSequence.Iterator(image)][first : last + 1]
        out = io.BytesIO()
        frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
        return out.getvalue()
    raise ValueError(f"{content_type} files hold one page")
