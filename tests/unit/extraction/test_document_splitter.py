"""The splitter on files made of several generated invoices (truth by construction)."""

import io

import pymupdf
import pytest
from PIL import Image

from tests.support import make_text_pdf
from training import synth
from workers.extraction import extract_document
from workers.extraction.layout import Page, Word, group_lines
from workers.extraction.splitting import _page_marker, split_pages


def _batch(seeds: list[int]) -> tuple[bytes, list[tuple[int, int]]]:
    """One PDF of the invoices of `seeds`, and where each one lies."""
    out = pymupdf.open()
    ranges = []
    for seed in seeds:
        with pymupdf.open(stream=synth.generate(seed).pdf, filetype="pdf") as part:
            first = out.page_count
            out.insert_pdf(part)
            ranges.append((first, out.page_count - 1))
    return out.tobytes(), ranges


def test_a_batch_of_text_invoices_comes_back_as_its_page_ranges():
    # seed 19 is three pages long, 4 and 7 two pages: continuation pages must stay put
    data, ranges = _batch([3, 19, 5, 4, 7, 12])
    result = extract_document(data, split=True)
    assert list(result.documents) == ranges
    assert result.fields == {}
    assert result.pages == ranges[-1][1] + 1


def test_one_multi_page_invoice_is_not_split_and_is_extracted_as_usual():
    invoice = synth.generate(19)
    result = extract_document(invoice.pdf, split=True)
    assert result.documents == ()
    assert result.fields == extract_document(invoice.pdf).fields
    assert result.fields["invoice_number"]


def test_without_split_a_batch_is_read_as_one_document():
    data, _ = _batch([3, 5])
    result = extract_document(data)
    assert result.documents == ()
    assert result.fields["invoice_number"] is not None


def _short_invoice(vendor: str, number: str, date: str, customer: str, total: str) -> bytes:
    """An A4 page with an invoice's header and total only: what OCR reads costs per line."""
    return make_text_pdf(
        [
            vendor,
            "Hauptstr. 1, 10115 Berlin",
            "",
            "Invoice",
            f"Invoice number: {number}",
            f"Invoice date: {date}",
            "",
            f"Bill to: {customer}",
            "",
            f"Total: {total} EUR",
        ]
    )


@pytest.mark.slow
def test_a_scanned_multi_page_tiff_is_split_by_what_ocr_reads():
    frames = []
    for invoice in (
        _short_invoice("ACME Supplies GmbH", "INV-2026-0042", "2026-03-14", "Buyer BV", "119.00"),
        _short_invoice("Kranich Bau AG", "RE-2025-0117", "2025-11-02", "Muster GmbH", "2,380.00"),
    ):
        with pymupdf.open(stream=invoice, filetype="pdf") as pdf:
            page = pdf[0]
            # a slip-sized scan of the printed part: OCR's cost grows with the pixels read,
            # and RapidOCR scales a short side below 736 px (353 pt at 150 dpi) up to it
            printed = max(max(word[3] for word in page.get_text("words")) + 40, 354)
            clip = pymupdf.Rect(0, 0, page.rect.width, printed)
            pixmap = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY, clip=clip)
            frames.append(Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], dpi=(150, 150))
    result = extract_document(buffer.getvalue(), split=True)
    assert list(result.documents) == [(0, 0), (1, 1)]


def _line(text: str, y: float) -> list:
    words = [Word(t, 50 + 40 * i, y, 80 + 40 * i, y + 10) for i, t in enumerate(text.split())]
    return group_lines(words)


@pytest.mark.parametrize(
    ("text", "y", "marker"),
    [
        ("Page 2 of 3", 400, (2, 3)),
        ("Seite 1 von 2", 400, (1, 2)),
        ("pagina 3 di 3", 400, (3, 3)),
        ("Page 2", 400, (2, None)),
        ("2/3", 820, (2, 3)),  # bare, in the bottom margin
        ("2/3", 400, None),  # bare mid-page: a quantity or a date, not a page marker
        ("Page 4 of 3", 400, None),
        ("p. 2 / 3", 400, None),  # short form only in a margin
        ("p. 2 / 3", 20, (2, 3)),
    ],
)
def test_page_markers(text, y, marker):
    assert _page_marker(_line(text, y), 842.0) == marker


def test_page_markers_decide_over_everything_else():
    def page(text: str) -> Page:
        words = [Word(t, 50 + 40 * i, 800, 80 + 40 * i, 810) for i, t in enumerate(text.split())]
        return Page(0, 595, 842, tuple(words))

    pages = [page("Page 1 of 2"), page("Page 2 of 2"), page("Page 1 of 1"), page("Page 1 of 3")]
    assert split_pages(pages) == [(0, 1), (2, 2), (3, 3)]
