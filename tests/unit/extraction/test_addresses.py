"""Vendor and customer addresses: the street, postcode-and-town and country lines under a
party's name, wherever the name stands (under a heading, in the envelope window, in the
letterhead), ending at contact details, tax ids and other blocks."""

from workers.extraction.addresses import address_from
from workers.extraction.pdf_text import extract_pdf_text

TOTALS = [(380, 400, "Total"), (480, 400, "100.00")]


def test_a_german_window_address_and_one_line_letterhead(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Nordwind Bürobedarf GmbH"),
                    (50, 80, "Hafenstraße 12, 20457 Hamburg  ·  USt-IdNr. DE136695976"),
                    (50, 130, "Kundin AG"),
                    (50, 145, "Ringweg 3, 80331 München"),
                    (360, 130, "Rechnung"),
                    (360, 155, "Rechnungsnummer:  RE-2026-1187"),
                    (380, 400, "Gesamtbetrag"),
                    (480, 400, "100,00 €"),
                ]
            ]
        )
    )

    assert (fields["customer_name"], fields["customer_address"], fields["vendor_address"]) == (
        "Kundin AG",
        "Ringweg 3, 80331 München",
        "Hafenstraße 12, 20457 Hamburg",
    )


def test_a_french_client_block_gives_the_customer_address_up_to_the_vat_number(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "ATELIER DUPONT SARL"),
                    (50, 72, "8, rue des Lilas"),
                    (50, 84, "69003 Lyon"),
                    (50, 96, "Tél. 04 78 00 00 00"),
                    (330, 110, "Client :"),
                    (330, 122, "Boulangerie Martin"),
                    (330, 134, "15 avenue Jean Jaurès"),
                    (330, 146, "75019 Paris"),
                    (330, 158, "France"),
                    (330, 170, "TVA : FR40123456824"),
                    (50, 220, "Facture N° F-2023-112"),
                    *TOTALS,
                ]
            ]
        )
    )

    assert fields["customer_address"] == "15 avenue Jean Jaurès\n75019 Paris\nFrance"
    assert fields["vendor_address"] == "8, rue des Lilas\n69003 Lyon"


def test_an_english_bill_to_block_with_a_us_address(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Acme Supplies Inc."),
                    (400, 60, "INVOICE"),
                    (50, 120, "Bill To:"),
                    (50, 132, "Jane Roe"),
                    (50, 144, "1600 Main Street"),
                    (50, 156, "Springfield, IL 62704"),
                    (50, 168, "jane@example.com"),
                    *TOTALS,
                ]
            ]
        )
    )

    assert fields["customer_address"] == "1600 Main Street\nSpringfield, IL 62704"


def test_a_spanish_customer_block(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Distribuciones Sol S.L."),
                    (50, 120, "Cliente:"),
                    (50, 132, "Hotel Mirador"),
                    (50, 144, "Calle Mayor 5"),
                    (50, 156, "28013 Madrid"),
                    (50, 168, "CIF: B12345678"),
                    (350, 60, "Factura N° 2024-7"),
                    *TOTALS,
                ]
            ]
        )
    )

    assert fields["customer_address"] == "Calle Mayor 5\n28013 Madrid"


def test_no_address_is_made_of_lines_that_are_no_address(pdf):
    fields = extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Example Trading Ltd"),
                    (50, 72, "Quality goods since 1990"),
                    (350, 60, "Invoice No. 2024-117"),
                    *TOTALS,
                ]
            ]
        )
    )

    assert (fields["vendor_address"], fields["customer_address"]) == (None, None)


def test_postcode_forms_of_several_countries_end_an_address():
    for lines, expected in [
        (["Keizersgracht 123", "1015 CJ Amsterdam"], "Keizersgracht 123\n1015 CJ Amsterdam"),
        (["Via Roma 10", "00184 Roma", "Italia"], "Via Roma 10\n00184 Roma\nItalia"),
        (["221B Baker Street", "London NW1 6XE"], "221B Baker Street\nLondon NW1 6XE"),
        (["12 MG Road", "Bengaluru 560001", "India"], "12 MG Road\nBengaluru 560001\nIndia"),
        (["Rua Augusta 100", "1100-053 Lisboa"], "Rua Augusta 100\n1100-053 Lisboa"),
    ]:
        assert address_from([*lines, "IBAN DE89 3704 0044 0532 0130 00"]) == expected
