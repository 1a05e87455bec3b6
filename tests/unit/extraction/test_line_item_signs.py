"""A minus OCR read into a line total where the page printed none, put right by the sum."""

from decimal import Decimal

import pytest

from workers.extraction.fields import parse_invoice_pages
from workers.extraction.layout import Page, Word


def _page(rows: list[tuple[str, str]], subtotal: str, tax: str, total: str) -> Page:
    """An invoice page as OCR words: a header, the rows (description, total), the totals."""
    lines: list[list[tuple[float, str]]] = [
        [(50, "INVOICE"), (90, "#2015-11-04")],
        [(50, "Description"), (450, "Amount")],
        *[[(50, description), (450, amount)] for description, amount in rows],
        [(350, "Subtotal:"), (450, subtotal)],
        [(350, "VAT"), (372, "20%:"), (450, tax)],
        [(350, "Total:"), (450, total)],
    ]
    words = []
    for number, line in enumerate(lines):
        y = 100 + 16 * number + (24 if number >= 2 + len(rows) else 0)
        for x, text in line:
            for offset, part in enumerate(text.split()):
                left = x + 30 * offset
                words.append(Word(part, left, y, left + 6 * len(part), y + 10, 0, 0.95))
    return Page(0, 595, 842, tuple(words))


def _totals(rows, subtotal, tax, total, source="ocr"):
    fields = parse_invoice_pages([_page(rows, subtotal, tax, total)], source, rank=False)
    return [item["total_price"] for item in fields["line_items"]]


SERVICES = [("First service", "-320.00"), ("Second service", "245.00"), ("Last service", "65.00")]


def test_a_minus_the_subtotal_denies_is_dropped_from_an_ocr_line():
    assert _totals(SERVICES, "630.00", "126.00", "756.00") == [32000, 24500, 6500]


def test_a_printed_minus_in_a_text_layer_is_kept():
    assert _totals(SERVICES, "630.00", "126.00", "756.00", source="pdf_text") == [
        -32000,
        24500,
        6500,
    ]


@pytest.mark.parametrize(
    ("rows", "subtotal", "expected"),
    [
        # A credit line the subtotal confirms.
        ([("Licence", "300.00"), ("Loyalty credit", "-50.00")], "250.00", [30000, -5000]),
        # Two negatives, either of which would explain the sum: no guess.
        ([("A", "100.00"), ("B", "-20.00"), ("C", "-20.00")], "100.00", [10000, -2000, -2000]),
        # A sum no turned sign explains.
        ([("A", "100.00"), ("B", "-20.00")], "500.00", [10000, -2000]),
    ],
)
def test_a_minus_is_kept_unless_exactly_one_choice_explains_the_subtotal(rows, subtotal, expected):
    tax = Decimal(subtotal) / 5
    assert _totals(rows, subtotal, f"{tax:.2f}", f"{Decimal(subtotal) + tax:.2f}") == expected
