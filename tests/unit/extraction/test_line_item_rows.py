"""Item rows as layouts print them: thousands grouped by spaces, details in small print, item
rows close under the header."""

import dataclasses

import pymupdf

from workers.extraction.fields import parse_invoice_pages
from workers.extraction.pdf_text import extract_pdf_text, page_words


def _read(pdf_bytes):
    return [
        (item["description"], item["quantity"], item["unit_price"], item["total_price"])
        for item in extract_pdf_text(pdf_bytes)["line_items"]
    ]


def _draw(texts):
    """A one-page PDF of (x, baseline y, text, font size)."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for x, y, text, size in texts:
        page.insert_text((x, y), text, fontsize=size, fontname="helv")
    return doc.tobytes()


def test_thousands_grouped_by_spaces_are_one_amount_where_the_rows_multiply_out(pdf):
    texts = [
        (50, 100, "Description"),
        (300, 100, "Qty"),
        (380, 100, "Price each"),
        (480, 100, "Net Amount"),
        (50, 118, "Consulting services"),
        (310, 118, "5"),
        (380, 118, "1 806.28"),
        (480, 118, "9 031.40"),
        (50, 134, "Delivery pallet"),
        (310, 134, "12"),
        (390, 134, "1.55"),
        (490, 134, "18.60"),
    ]
    assert _read(pdf([texts])) == [
        ("Consulting services", "5", 180628, 903140),
        ("Delivery pallet", "12", 155, 1860),
    ]


def test_a_quantity_set_one_space_before_the_price_stays_a_quantity(pdf):
    # "1 234.50" could be one amount, but the row multiplies out with the two apart.
    texts = [
        (50, 100, "Description"),
        (318, 100, "Qty"),
        (340, 100, "Price"),
        (480, 100, "Amount"),
        (50, 118, "Office chair"),
        (330, 118, "1"),
        (340, 118, "234.50"),
        (480, 118, "234.50"),
        (50, 134, "Desk lamp"),
        (330, 134, "2"),
        (340, 134, "145.00"),
        (480, 134, "290.00"),
    ]
    assert _read(pdf([texts])) == [
        ("Office chair", "1", 23450, 23450),
        ("Desk lamp", "2", 14500, 29000),
    ]


def test_an_item_row_close_under_the_header_names_no_column(pdf):
    # "services" is a header word too; in the first row it is part of the name.
    texts = [
        (40, 100, "Details"),
        (380, 100, "Quantity"),
        (450, 100, "Price each"),
        (520, 100, "Amount"),
        (40, 116, "Consulting services"),
        (400, 116, "5"),
        (460, 116, "80.00"),
        (520, 116, "400.00"),
        (40, 132, "Travel expenses"),
        (400, 132, "2"),
        (460, 132, "0.83"),
        (525, 132, "1.66"),
    ]
    assert [row[0] for row in _read(pdf([texts]))] == ["Consulting services", "Travel expenses"]


def test_details_in_smaller_print_under_an_item_are_not_its_name():
    texts = [
        (60, 100, "Description", 10),
        (330, 100, "Qty", 10),
        (400, 100, "Price", 10),
        (490, 100, "Amount", 10),
        (60, 118, "Steel bracket 40 mm", 10),
        (335, 118, "25", 10),
        (400, 118, "0.44", 10),
        (495, 118, "11.00", 10),
        (66, 129, "incl. setup and configuration at customer site", 8),
        (60, 144, "Software licence,", 10),
        (335, 144, "2", 10),
        (400, 144, "61.99", 10),
        (490, 144, "123.98", 10),
        (60, 156, "annual", 10),
    ]
    assert [row[0] for row in _read(_draw(texts))] == [
        "Steel bracket 40 mm",
        "Software licence, annual",
    ]


def test_two_header_words_joined_by_a_slash_head_one_description_column(pdf):
    texts = [
        (60, 100, "Product / Service"),
        (370, 100, "Quantity"),
        (420, 100, "Unit Cost"),
        (490, 100, "Net Amount"),
        (60, 118, "Software licence, annual"),
        (385, 118, "3"),
        (425, 118, "1,339.32"),
        (495, 118, "4,017.96"),
        (60, 134, "LED panel 60x60, period 01/2019, a4 copy paper"),
        (385, 134, "10"),
        (435, 134, "2.15"),
        (505, 134, "21.50"),
    ]
    assert [row[0] for row in _read(pdf([texts]))] == [
        "Software licence, annual",
        "LED panel 60x60, period 01/2019, a4 copy paper",
    ]


def _read_as_ocr(pdf_bytes):
    """The items of a PDF whose words are taken as an OCR pass gives them (confidence < 1)."""
    with pymupdf.open(stream=pdf_bytes, filetype="pdf") as doc:
        pages = [page_words(page) for page in doc]
    pages = [
        dataclasses.replace(
            page, words=tuple(dataclasses.replace(w, confidence=0.9) for w in page.words)
        )
        for page in pages
    ]
    return [
        (item["description"], item["total_price"])
        for item in parse_invoice_pages(pages, source="ocr")["line_items"]
    ]


def test_an_ocr_header_word_with_one_misread_letter_still_names_its_column(pdf):
    texts = [
        (80, 100, "Date"),
        (175, 100, "Deseription"),
        (293, 100, "Price"),
        (360, 100, "Q uan tity"),
        (510, 100, "Totai"),
        (70, 118, "April 1, 2026"),
        (164, 118, "Monthly design"),
        (296, 118, "$12,500"),
        (513, 118, "$12,500"),
        (164, 128, "retainer"),
    ]
    assert _read_as_ocr(pdf([texts])) == [("Monthly design retainer", 1250000)]


def test_items_go_on_after_a_total_carried_to_the_next_page(pdf):
    header = [
        (40, 60, "Description"),
        (330, 60, "Qty"),
        (400, 60, "Price"),
        (480, 60, "Amount"),
    ]
    first = [
        *header,
        (40, 78, "Support hours"),
        (335, 78, "10"),
        (400, 78, "39.60"),
        (480, 78, "396.00"),
        (40, 96, "Subtotal carried forward"),
        (480, 96, "396.00"),
    ]
    second = [
        *header,
        (40, 78, "Balance brought forward"),
        (480, 78, "396.00"),
        (40, 96, "Travel expenses"),
        (335, 96, "2"),
        (400, 96, "25.00"),
        (480, 96, "50.00"),
        (380, 130, "Total"),
        (480, 130, "446.00"),
    ]
    items = extract_pdf_text(pdf([first, second]))["line_items"]
    assert [(item["description"], item["total_price"]) for item in items] == [
        ("Support hours", 39600),
        ("Travel expenses", 5000),
    ]


def test_a_product_of_numbers_by_chance_does_not_keep_spaced_groups_apart(pdf):
    # Apart, "4  1 289.39  10 %  4 641.80" holds 4 × 1 = 4: no sign that "1 289.39" is two.
    texts = [
        (40, 100, "Description"),
        (300, 100, "Qty"),
        (360, 100, "Price"),
        (430, 100, "Disc."),
        (500, 100, "Amount"),
        (40, 118, "Consulting services"),
        (305, 118, "4"),
        (360, 118, "1 289.39"),
        (435, 118, "10 %"),
        (500, 118, "4 641.80"),
        (40, 134, "Steel bracket"),
        (305, 134, "3"),
        (360, 134, "1 402.29"),
        (500, 134, "4 206.87"),
    ]
    assert [row[3] for row in _read(pdf([texts]))] == [464180, 420687]


def test_header_words_a_column_gap_apart_name_two_columns(pdf):
    # "Montant" (net) and "TVA" (rate) apart: not one "Montant TVA" (VAT amount) header.
    texts = [
        (45, 100, "Désignation"),
        (306, 100, "Qté."),
        (336, 100, "P.U. HT"),
        (383, 100, "Montant"),
        (434, 100, "TVA"),
        (478, 100, "TVA"),
        (509, 100, "Total TTC"),
        (45, 118, "Nettoyage des locaux"),
        (319, 118, "2"),
        (340, 118, "12,46"),
        (390, 118, "24,92"),
        (430, 118, "20 %"),
        (478, 118, "4,98"),
        (516, 118, "29,90"),
        (45, 134, "Gestion de projet"),
        (319, 134, "1"),
        (334, 134, "1896,50"),
        (384, 134, "1896,50"),
        (430, 134, "10 %"),
        (473, 134, "189,65"),
        (516, 134, "2086,15"),
    ]
    assert [row[3] for row in _read(pdf([texts]))] == [2492, 189650]


def test_a_quantity_header_set_close_before_beschrijving_leaves_the_names_their_column(pdf):
    texts = [
        (52, 100, "Hoeveelheid"),
        (114, 100, "Beschrijving"),
        (457, 100, "Stukprijs"),
        (520, 100, "Totaal"),
        (102, 118, "3"),
        (114, 118, "Stalen hoekbeugel 40 mm"),
        (460, 118, "1.784,71"),
        (510, 118, "5.354,13"),
        (102, 134, "4"),
        (114, 134, "Webhostingpakket"),
        (474, 134, "15,93"),
        (525, 134, "63,72"),
    ]
    assert [row[0] for row in _read(pdf([texts]))] == [
        "Stalen hoekbeugel 40 mm",
        "Webhostingpakket",
    ]
