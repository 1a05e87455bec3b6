"""Words an OCR engine ran together, cut apart again; and the field rules that read scans."""

from __future__ import annotations

import pytest

from workers.extraction.dates import find_dates
from workers.extraction.fields import parse_invoice_pages
from workers.extraction.layout import Page, Word
from workers.extraction.ocr_words import join_split_words, split_glued_text, split_glued_words


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("RechnungNr.AB4711vom02.01.2020", ["Rechnung", "Nr.", "AB4711", "vom", "02.01.2020"]),
        ("Nr.4711vom", ["Nr.", "4711", "vom"]),
        ("Invoice5551", ["Invoice", "5551"]),
        ("INVOICENO:123", ["INVOICE", "NO:", "123"]),
        ("DueDate", ["Due", "Date"]),
        ("Incl.VAT", ["Incl.", "VAT"]),
        ("Date07/08/2019", ["Date", "07/08/2019"]),
        ("07/08/201914:05", ["07/08/2019", "14:05"]),
        ("1.5from", ["1.5", "from"]),
        ("Date1", ["Date", "1"]),
    ],
)
def test_glued_words_are_cut_where_a_space_was_printed(text, pieces):
    assert split_glued_text(text) == pieces


@pytest.mark.parametrize(
    "text", ["RE2002", "GmbH", "McIntosh", "None", "CASINO:", "Kundennummer", "XY98765"]
)
def test_words_that_are_one_word_stay_whole(text):
    assert split_glued_text(text) == [text]


def test_the_pieces_of_a_cut_word_share_its_box():
    page = Page(0, 500, 500, (Word("Invoice5551", 10, 10, 120, 20, 0, 0.9),))

    first, second = split_glued_words(page).words

    assert (first.text, second.text) == ("Invoice", "5551")
    assert first.x0 == 10
    assert second.x1 <= 120
    assert first.x1 <= second.x0
    assert second.confidence == 0.9


def test_a_stray_dot_before_a_date_does_not_hide_it():
    (match,) = find_dates(".05.03.2019")
    assert match.value().isoformat() == "2019-03-05"


def page_of(*rows: tuple[float, float, str], width: float = 595, height: float = 842) -> Page:
    """A page of OCR-like words: each text at (x, y), words 5 points per character."""
    words = []
    for left, y, text in rows:
        x = left
        for part in text.split():
            words.append(Word(part, x, y, x + 5 * len(part), y + 10, 0, 0.95))
            x += 5 * len(part) + 3
    return Page(0, width, height, tuple(words))


def test_an_invoice_number_glued_to_its_label_and_date_is_read():
    # As page_of_boxes hands an OCR page to the parser: glued words cut first.
    page = split_glued_words(
        page_of((40, 60, "Acme Tools GmbH"), (40, 100, "RechnungNr.AB4711vom02.01.2020"))
    )
    fields = parse_invoice_pages([page], source="ocr")

    assert fields["invoice_number"] == "AB4711"
    assert fields["invoice_date"] == "2020-01-02"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I N V O I C E", ["INVOICE"]),
        ("TO TAL $14,750", ["TOTAL", "$14,750"]),
        ("D ate: 1 April 2026", ["Date:", "1", "April", "2026"]),
        ("Due Date", ["Due", "Date"]),  # two label words stay two
        ("sent to the customer", ["sent", "to", "the", "customer"]),
    ],
)
def test_words_printed_letter_spaced_are_joined_where_they_spell_a_label(text, words):
    assert [word.text for word in join_split_words(page_of((40, 60, text))).words] == words


def test_a_letter_spaced_total_on_a_fax_is_read():
    fields = parse_invoice_pages(
        [
            page_of(
                (40, 40, "Kite Labs Ltd"),
                (40, 60, "I N V O I C E"),
                (300, 400, "TO TAL $14,750.00"),
            )
        ],
        source="ocr",
    )
    assert fields["total_amount"] == 1475000
    assert fields["vendor_name"] == "Kite Labs Ltd"


def test_a_tax_identifier_label_is_not_a_tax_amount():
    fields = parse_invoice_pages(
        [
            page_of(
                (40, 60, "Acme Tools GmbH"),
                (40, 80, "USt-IdNr: DE 123 456 789 Abteilung: 8211"),
                (300, 400, "Nettobetrag"),
                (380, 400, "MwSt-Betrag"),
                (460, 400, "Endbetrag"),
                (300, 415, "100,00"),
                (380, 415, "19,00"),
                (460, 415, "119,00"),
            )
        ],
        source="ocr",
    )

    assert fields["subtotal_amount"] == 10000
    assert fields["tax_amount"] == 1900
    assert fields["total_amount"] == 11900
    assert fields["vendor_tax_id"] == "DE123456789"


def test_a_vat_number_printed_in_groups_is_one_identifier():
    fields = parse_invoice_pages(
        [page_of((40, 60, "Atelier Martin SARL"), (40, 80, "N° TVA : FR 40 303 265 045"))],
        source="ocr",
    )

    assert fields["vendor_tax_id"] == "FR40303265045"


def test_a_period_of_service_is_not_the_invoice_date():
    fields = parse_invoice_pages(
        [
            page_of(
                (40, 60, "Date début : 01/03/2021"),
                (300, 80, "Date :"),
                (360, 80, "31/03/2021"),
            )
        ],
        source="ocr",
    )

    assert fields["invoice_date"] == "2021-03-31"


def test_a_customer_number_is_not_the_customer_heading():
    fields = parse_invoice_pages(
        [
            page_of(
                (350, 60, "Nordlicht GmbH"),
                (350, 75, "Hafenweg 3"),
                (350, 90, "20095 Hamburg"),
                (60, 160, "Erika Beispiel"),
                (60, 175, "Lindenallee 7"),
                (60, 190, "50667 Köln"),
                (60, 260, "Customer: 4711"),
                (60, 275, "Your order AB12"),
            )
        ],
        source="ocr",
    )

    assert fields["customer_name"] == "Erika Beispiel"


def test_a_one_line_return_address_gives_only_the_senders_name():
    fields = parse_invoice_pages(
        [page_of((50, 40, "Kleinwerk | Am Markt 4 | 12345 Musterstadt"), (50, 200, "Rechnung 77"))],
        source="ocr",
    )

    assert fields["vendor_name"] == "Kleinwerk"


def test_a_symbol_in_a_line_ocr_could_hardly_read_does_not_set_the_currency():
    noise = Word("¥", 40, 100, 45, 110, 0, 0.3)
    words = (*page_of((40, 60, "Amount(RM)"), (40, 80, "TOTAL 12.50")).words, noise)
    fields = parse_invoice_pages([Page(0, 300, 400, words)], source="ocr")

    assert fields["currency"] == "MYR"
    assert fields["total_amount"] == 1250


def test_a_malaysian_company_is_a_company_and_a_spa_product_is_not():
    fields = parse_invoice_pages(
        [
            page_of(
                (40, 40, "KILAU BEAUTY SDN BHD (E1234-A)"),
                (40, 60, "TAX INVOICE"),
                (40, 120, "HYDRATING SPA MASK"),
                (40, 140, "TOTAL 12.50"),
            )
        ],
        source="ocr",
    )

    assert fields["vendor_name"] == "KILAU BEAUTY SDN BHD (E1234-A)"
