"""Fields read from text-layer PDFs in several languages and number formats."""

import pymupdf

from workers.extraction.pdf_text import extract_pdf_text, page_has_text_layer, page_words

GERMAN_INVOICE = [
    [
        (50, 60, "Muster Handels GmbH"),
        (50, 72, "Hauptstraße 1, 10115 Berlin"),
        (50, 84, "USt-IdNr.: DE123456789"),
        (50, 140, "Rechnungsempfänger:"),
        (50, 152, "Beispiel AG"),
        (50, 164, "Kundenweg 5"),
        (350, 140, "Rechnungsnummer:"),
        (450, 140, "R-2024-0815"),
        (350, 152, "Rechnungsdatum:"),
        (450, 152, "05.03.2024"),
        (350, 164, "Fälligkeitsdatum:"),
        (450, 164, "04.04.2024"),
        (50, 240, "Pos"),
        (80, 240, "Beschreibung"),
        (300, 240, "Menge"),
        (360, 240, "Einzelpreis"),
        (480, 240, "Gesamt"),
        (50, 256, "1"),
        (80, 256, "Beratung vor Ort"),
        (305, 256, "10"),
        (370, 256, "120,00"),
        (480, 256, "1.200,00"),
        (80, 268, "inklusive Anfahrt"),
        (50, 284, "2"),
        (80, 284, "Reisekosten"),
        (305, 284, "1"),
        (370, 284, "85,50"),
        (485, 284, "85,50"),
        (360, 320, "Nettobetrag"),
        (480, 320, "1.285,50 EUR"),
        (360, 332, "MwSt. 19 %"),
        (485, 332, "244,25 EUR"),
        (360, 344, "Gesamtbetrag"),
        (480, 344, "1.529,75 EUR"),
    ]
]

FRENCH_INVOICE = [
    [
        (50, 60, "ATELIER DUPONT SARL"),
        (50, 72, "TVA intracommunautaire : FR40123456824"),
        (330, 110, "Client :"),
        (330, 122, "Boulangerie Martin"),
        (50, 160, "Facture N° F-2023-112"),
        (50, 172, "Date : 12/01/2023"),
        (60, 220, "Désignation"),
        (300, 220, "Quantité"),
        (380, 220, "P.U. HT"),
        (480, 220, "Montant HT"),
        (60, 236, "Réparation four"),
        (315, 236, "2"),
        (385, 236, "150,00 €"),
        (485, 236, "300,00 €"),
        (380, 280, "Total HT :"),
        (480, 280, "300,00 €"),
        (380, 292, "TVA 20 % :"),
        (485, 292, "60,00 €"),
        (380, 304, "Total TTC :"),
        (480, 304, "360,00 €"),
    ]
]

US_INVOICE = [
    [
        (50, 60, "Acme Supplies Inc."),
        (50, 72, "billing@acme.example"),
        (400, 60, "INVOICE"),
        (400, 72, "# 10-4471"),
        (50, 120, "Bill To:"),
        (50, 132, "Jane Roe"),
        (300, 120, "Invoice Date:"),
        (400, 120, "03/20/2023"),
        (300, 132, "Due Date:"),
        (400, 132, "04/19/2023"),
        (50, 200, "Description"),
        (300, 200, "Qty"),
        (360, 200, "Unit Price"),
        (480, 200, "Amount"),
        (50, 216, "Widget, large"),
        (305, 216, "3"),
        (365, 216, "$1,250.00"),
        (480, 216, "$3,750.00"),
        (380, 260, "Subtotal"),
        (480, 260, "$3,750.00"),
        (380, 272, "Tax (8%)"),
        (485, 272, "$300.00"),
        (380, 284, "Total"),
        (480, 284, "$4,050.00"),
    ]
]


def test_a_german_invoice_is_read_from_labels_beside_and_below(pdf):
    fields = extract_pdf_text(pdf(GERMAN_INVOICE))
    assert fields["invoice_number"] == "R-2024-0815"
    assert fields["invoice_date"] == "2024-03-05"
    assert fields["due_date"] == "2024-04-04"
    assert fields["currency"] == "EUR"
    assert (fields["subtotal_amount"], fields["tax_amount"], fields["total_amount"]) == (
        128550,
        24425,
        152975,
    )
    assert fields["tax_rate"] == "19.00"
    assert fields["vendor_tax_id"] == "DE123456789"
    assert fields["customer_name"] == "Beispiel AG"
    assert fields["source"] == "pdf_text"


def test_amounts_confirmed_by_their_sum_are_trusted_more_than_unconfirmed_ones(pdf):
    fields = extract_pdf_text(pdf(GERMAN_INVOICE))
    assert fields["field_confidence"]["total_amount"] >= 0.9
    assert fields["warnings"] == []


def test_a_french_invoice_reads_total_ttc_ht_and_tva(pdf):
    fields = extract_pdf_text(pdf(FRENCH_INVOICE))
    assert fields["invoice_number"] == "F-2023-112"
    assert fields["invoice_date"] == "2023-01-12"
    assert (fields["subtotal_amount"], fields["tax_amount"], fields["total_amount"]) == (
        30000,
        6000,
        36000,
    )
    assert fields["vendor_name"] == "ATELIER DUPONT SARL"
    assert fields["customer_name"] == "Boulangerie Martin"
    assert fields["vendor_tax_id"] == "FR40123456824"


def test_a_us_invoice_reads_month_first_dates_and_dollars(pdf):
    fields = extract_pdf_text(pdf(US_INVOICE))
    assert fields["invoice_number"] == "10-4471"
    assert fields["invoice_date"] == "2023-03-20"
    assert fields["due_date"] == "2023-04-19"
    assert fields["currency"] == "USD"
    assert fields["total_amount"] == 405000
    assert fields["vendor_name"] == "Acme Supplies Inc."
    assert fields["customer_name"] == "Jane Roe"
    assert fields["vendor_email"] == "billing@acme.example"


def test_the_tax_is_the_difference_when_only_the_sums_are_readable(pdf):
    pages = [
        [
            (50, 60, "Invoice No: 77"),
            (300, 100, "Net total"),
            (450, 100, "100.00"),
            (300, 112, "Total"),
            (450, 112, "107.00"),
        ]
    ]
    fields = extract_pdf_text(pdf(pages))
    assert fields["tax_amount"] == 700
    assert fields["field_confidence"]["tax_amount"] < 0.9


def test_a_page_with_an_image_and_almost_no_text_is_a_scan():
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(0, 0, 100, 100), stream=_tiny_png())
    page.insert_text((10, 10), "p. 1")
    text_page = doc.new_page()
    text_page.insert_text((50, 50), "Invoice No: 4711, a page with plenty of real text on it")
    assert [page_has_text_layer(page) for page in doc] == [False, True]


def _tiny_png() -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 4, 4), False)
    return pixmap.tobytes("png")


def test_the_addressee_in_the_envelope_window_is_the_customer_without_a_heading(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (400, 60, "Nordlicht Software GmbH"),
                    (400, 72, "Hafenweg 3"),
                    (400, 84, "20457 Hamburg"),
                    (70, 130, "Nordlicht Software GmbH • Hafenweg 3 • 20457 Hamburg"),
                    (70, 150, "Carla Beispiel"),
                    (70, 164, "Lindenallee 8"),
                    (70, 178, "50667 Köln"),
                    (70, 260, "Rechnung Nr. 2024-117 vom 12.02.2024"),
                    (70, 300, "Gesamtbetrag"),
                    (450, 300, "119,00 €"),
                    (70, 780, "Nordlicht Software GmbH, Geschäftsführer: Jan Meyer"),
                ]
            ]
        )
    )
    assert fields["customer_name"] == "Carla Beispiel"
    assert fields["field_confidence"]["customer_name"] < 0.9
    assert fields["vendor_name"] == "Nordlicht Software GmbH"


def test_the_due_date_is_read_from_a_transfer_request_and_a_delivery_date_is_ignored(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (70, 60, "Rechnung Nr. 2024-118"),
                    (70, 80, "Lieferdatum: 01.02.2024"),
                    (70, 92, "Rechnungsdatum: 05.02.2024"),
                    (70, 200, "Gesamtbetrag"),
                    (450, 200, "50,00 €"),
                    (70, 230, "Bitte überweisen Sie bis zum 26.02.2024:"),
                ]
            ]
        )
    )
    assert (fields["invoice_date"], fields["due_date"]) == ("2024-02-05", "2024-02-26")


def test_the_date_of_an_associated_earlier_invoice_is_not_the_invoice_date(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (300, 60, "FACTURE N° : F2024-9"),
                    (300, 72, "Date : 31/01/2024"),
                    (50, 150, "N° DE FACTURE ASSOCIÉE : F2023-77"),
                    (50, 162, "DATE DE FACTURE ASSOCIÉE : 30/11/2023"),
                    (50, 300, "TOTAL TTC"),
                    (450, 300, "120,00"),
                ]
            ]
        )
    )
    assert fields["invoice_date"] == "2024-01-31"


def test_a_software_version_date_is_not_the_invoice_date():
    from tests.support import make_text_pdf
    from workers.extraction.pdf_text import extract_pdf_text

    fields = extract_pdf_text(
        make_text_pdf(
            [
                "Stylesheet-Version: 2.0 vom 18.10.2018",
                "Lieferant GmbH, Lieferantenstraße 20, 80333 München",
                "Handelsrechnung Nr. 471102 vom 05.06.2018",
                "Gesamtbetrag 119,00 EUR",
            ]
        )
    )
    assert fields["invoice_date"] == "2018-06-05"


def test_sdn_bhd_is_a_company_suffix_not_bahraini_dinars():
    from tests.support import make_text_pdf
    from workers.extraction.pdf_text import extract_pdf_text

    fields = extract_pdf_text(
        make_text_pdf(
            [
                "KEDAI MAKAN MAJU SDN BHD",
                "Receipt 25/12/2018",
                "Nasi lemak 2 x 6.25",
                "Total Payable: 12.50",
            ]
        )
    )
    assert fields["currency"] != "BHD"
    assert fields["total_amount"] == 1250


def test_a_series_code_before_the_number_is_part_of_it(pdf):
    # Portuguese SAF-T numbers: document type and series, then the number
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Fatura"),
                    (50, 90, "Fatura n.º: FT 2026/177"),
                    (50, 105, "Data: 2026-03-14"),
                    (50, 140, "Total: 90,67 EUR"),
                ]
            ]
        )
    )
    assert fields["invoice_number"] == "FT 2026/177"


def test_a_currency_code_before_an_amount_is_no_series(pdf):
    fields = extract_pdf_text(
        pdf([[(50, 60, "Invoice"), (50, 90, "Invoice number: EUR 100"), (50, 140, "Total: 5.00")]])
    )
    assert fields["invoice_number"] != "EUR 100"


def test_the_buyers_order_number_is_read_and_the_po_of_a_value_is_no_label(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Rechnung"),
                    (50, 90, "Rechnungsnummer: R-2026-118"),
                    (50, 105, "Datum: 14.03.2026"),
                    (50, 120, "Ihre Bestellung: PO-13307"),
                    (50, 160, "Gesamtbetrag: 119,00 EUR"),
                ]
            ]
        )
    )
    assert fields["purchase_order"] == "PO-13307"
    assert fields["invoice_number"] == "R-2026-118"


def test_no_order_label_no_purchase_order(pdf):
    fields = extract_pdf_text(
        pdf([[(50, 60, "Invoice"), (50, 90, "Invoice no: 4711"), (50, 140, "Total: 5.00")]])
    )
    assert fields["purchase_order"] is None


def test_words_are_read_the_same_whatever_another_module_set_before():
    """The shipped models were trained on word boxes without MuPDF's ascender corrections;
    the switch is process-wide, so a module that flips it must not change what is read."""
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "Invoice 123", fontsize=12)
    pymupdf.TOOLS.unset_quad_corrections(False)

    page = page_words(doc[0])

    assert pymupdf.TOOLS.unset_quad_corrections() is True
    assert [word.text for word in page.words] == ["Invoice", "123"]
