"""Line items from a table: header columns, multi-line descriptions, totals ending it."""

import pytest

from workers.extraction.pdf_text import extract_pdf_text


def _items(pdf, pages):
    return extract_pdf_text(pdf(pages))["line_items"]


def test_rows_under_a_header_become_line_items_with_minor_unit_prices(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Description"),
                (300, 100, "Qty"),
                (360, 100, "Unit Price"),
                (480, 100, "Amount"),
                (50, 116, "Widget"),
                (305, 116, "3"),
                (365, 116, "12.50"),
                (480, 116, "37.50"),
                (50, 128, "Gadget"),
                (305, 128, "1"),
                (365, 128, "5.00"),
                (485, 128, "5.00"),
                (380, 160, "Total"),
                (480, 160, "42.50"),
            ]
        ],
    )
    assert [
        (i["description"], i["quantity"], i["unit_price"], i["total_price"]) for i in items
    ] == [("Widget", "3", 1250, 3750), ("Gadget", "1", 500, 500)]


def test_a_description_continues_on_the_lines_right_under_it(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Bezeichnung"),
                (300, 100, "Menge"),
                (360, 100, "Preis"),
                (480, 100, "Betrag"),
                (50, 116, "Mineralwasser"),
                (305, 116, "20"),
                (365, 116, "5,49"),
                (480, 116, "109,80"),
                (50, 128, "Medium 12 x 1,0l PET"),
                (50, 160, "Lieferung frei Haus"),
            ]
        ],
    )
    assert items[0]["description"] == "Mineralwasser Medium 12 x 1,0l PET"


def test_a_totals_row_ends_the_table(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Désignation"),
                (300, 100, "Quantité"),
                (480, 100, "Montant"),
                (50, 116, "Service"),
                (305, 116, "1"),
                (480, 116, "10,00"),
                (380, 140, "Total TTC"),
                (480, 140, "12,00"),
                (50, 170, "Remarque"),
                (480, 170, "99,00"),
            ]
        ],
    )
    assert [item["description"] for item in items] == ["Service"]


@pytest.mark.parametrize(
    "label", ["Warenwert:", "Bruttobetrag", "Umsatzsteuer 19 %:", "Base imponible", "GST 13%"]
)
def test_a_row_labelled_as_a_sum_ends_the_table(pdf, label):
    """Any label the header fields read a subtotal, tax or total by, standing alone where
    the description would be, closes the items, even in words no totals pattern lists."""
    items = _items(
        pdf,
        [
            [
                (50, 100, "Description"),
                (300, 100, "Qty"),
                (480, 100, "Amount"),
                (50, 116, "Service"),
                (305, 116, "1"),
                (480, 116, "10.00"),
                (50, 128, "Support"),
                (305, 128, "2"),
                (480, 128, "20.00"),
                (50, 150, label),
                (480, 150, "30.00"),
            ]
        ],
    )
    assert [(item["description"], item["total_price"]) for item in items] == [
        ("Service", 1000),
        ("Support", 2000),
    ]


def test_a_section_subtotal_does_not_end_the_table(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Omschrijving"),
                (300, 100, "Aantal"),
                (480, 100, "Bedrag"),
                (50, 116, "Koffie"),
                (305, 116, "2"),
                (480, 116, "8,00"),
                (380, 130, "Subtotaal"),
                (480, 130, "8,00"),
                (50, 146, "Thee"),
                (305, 146, "1"),
                (480, 146, "3,00"),
                (380, 170, "Totaal"),
                (480, 170, "11,00"),
            ]
        ],
    )
    assert [item["description"] for item in items] == ["Koffie", "Thee"]


def test_columns_left_of_the_description_are_not_part_of_it(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Pos"),
                (80, 100, "Art-Nr"),
                (160, 100, "Beschreibung"),
                (320, 100, "Menge"),
                (480, 100, "Betrag"),
                (50, 116, "1"),
                (80, 116, "KR3M"),
                (160, 116, "Kunstrasen"),
                (325, 116, "3"),
                (480, 116, "10,00"),
            ]
        ],
    )
    assert items[0]["description"] == "Kunstrasen"


def test_a_table_continues_on_the_next_page_without_a_new_header(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 700, "Descrizione"),
                (300, 700, "Quantità"),
                (480, 700, "Importo"),
                (50, 716, "Consulenza"),
                (305, 716, "1"),
                (480, 716, "100,00"),
            ],
            [
                (50, 60, "Trasferta"),
                (305, 60, "1"),
                (485, 60, "50,00"),
                (380, 100, "Totale"),
                (480, 100, "150,00"),
            ],
        ],
    )
    assert [item["total_price"] for item in items] == [10000, 5000]


def test_a_name_printed_just_above_its_numbers_belongs_to_the_item_below_it(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Pos"),
                (80, 100, "Beschreibung"),
                (300, 100, "Nettopreis"),
                (370, 100, "Menge"),
                (480, 100, "Nettobetrag"),
                (50, 130, "1"),
                (80, 130, "Trennblätter A4"),
                (300, 130, "9,9000"),
                (370, 130, "20"),
                (480, 139, "198,00"),
                (80, 160, "Bruttopreis : 9,9000"),
                (50, 190, "2"),
                (80, 190, "Joghurt Banane"),
                (300, 190, "5,5000"),
                (370, 190, "50"),
                (480, 199, "275,00"),
            ]
        ],
    )
    assert [
        (i["description"], i["quantity"], i["unit_price"], i["total_price"]) for i in items
    ] == [("Trennblätter A4", "20", 990, 19800), ("Joghurt Banane", "50", 550, 27500)]


def test_the_vat_breakdown_under_the_items_is_not_an_item(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Beschreibung"),
                (300, 100, "Menge"),
                (480, 100, "Betrag"),
                (50, 116, "Kaffee"),
                (305, 116, "2"),
                (480, 116, "8,00"),
                (50, 150, "Basisbetrag"),
                (250, 150, "Steuersatz"),
                (400, 150, "Steuerbetrag"),
                (50, 166, "8,00"),
                (250, 166, "19"),
                (400, 166, "1,52"),
            ]
        ],
    )
    assert [item["description"] for item in items] == ["Kaffee"]


def test_an_amount_column_before_the_product_counts_the_items(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Amount"),
                (110, 100, "Product"),
                (350, 100, "Price"),
                (480, 100, "Total"),
                (50, 116, "400.00"),
                (110, 116, "Balloons"),
                (350, 116, "0.79"),
                (480, 116, "316.00"),
            ]
        ],
    )
    assert [
        (i["description"], i["quantity"], i["unit_price"], i["total_price"]) for i in items
    ] == [("Balloons", "400", 79, 31600)]


def test_a_catalogue_code_before_the_name_and_a_tax_rate_are_not_the_description(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Description"),
                (300, 100, "VAT"),
                (360, 100, "Qty"),
                (480, 100, "Amount"),
                (50, 116, "KR3M55"),
                (100, 116, "Artificial turf"),
                (300, 116, "19%"),
                (365, 116, "3"),
                (480, 116, "12.00"),
            ]
        ],
    )
    assert items[0]["description"] == "Artificial turf"


def test_net_sums_under_the_items_are_not_items(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Bezeichnung"),
                (300, 100, "Menge"),
                (360, 100, "Preis"),
                (480, 100, "Gesamt"),
                (50, 116, "Druckerpapier A4"),
                (305, 116, "2"),
                (365, 116, "4,50"),
                (480, 116, "9,00"),
                (120, 150, "Positionen netto"),
                (480, 150, "9,00"),
                (120, 162, "Versandkosten netto"),
                (480, 162, "4,99"),
                (120, 174, "Endsumme"),
                (480, 174, "16,65"),
            ]
        ],
    )
    assert [(i["description"], i["total_price"]) for i in items] == [("Druckerpapier A4", 900)]


def test_a_header_printed_last_on_its_page_heads_the_rows_on_the_next_page(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Rechnung 4711"),
                (50, 800, "Beschreibung"),
                (300, 800, "Menge"),
                (360, 800, "Preis"),
                (480, 800, "Betrag"),
            ],
            [
                (50, 60, "Schrauben M4"),
                (305, 60, "2"),
                (365, 60, "3,50"),
                (485, 60, "7,00"),
                (50, 76, "Muttern M4"),
                (305, 76, "4"),
                (365, 76, "1,25"),
                (485, 76, "5,00"),
                (380, 120, "Summe"),
                (480, 120, "12,00"),
            ],
        ],
    )
    assert [(i["description"], i["total_price"]) for i in items] == [
        ("Schrauben M4", 700),
        ("Muttern M4", 500),
    ]


def test_a_rate_column_against_the_total_is_not_the_line_total(pdf):
    # The rate sits under the right edge of the amount header, the total further right.
    items = _items(
        pdf,
        [
            [
                (50, 100, "Description"),
                (250, 100, "Quantity"),
                (330, 100, "Unit Price"),
                (400, 100, "VAT %"),
                (452, 100, "Amount"),
                (50, 116, "Office chair"),
                (265, 116, "3"),
                (335, 116, "191.00"),
                (446, 116, "19"),
                (520, 116, "573.00"),
                (380, 160, "Total"),
                (520, 160, "573.00"),
            ]
        ],
    )
    assert [(i["description"], i["quantity"], i["total_price"]) for i in items] == [
        ("Office chair", "3", 57300)
    ]


def test_a_name_printed_just_above_replaces_a_detail_on_the_numbers_line(pdf):
    # Each item's name sits tight above its numbers; the numbers line carries a detail.
    items = _items(
        pdf,
        [
            [
                (50, 100, "Designation"),
                (300, 100, "Qte"),
                (360, 100, "Prix"),
                (480, 100, "Montant"),
                (50, 140, "MAINTENANCE ANNUELLE"),
                (50, 148, "Du 01/03/2024 au 31/03/2024"),
                (305, 148, "1"),
                (365, 148, "80,00"),
                (485, 148, "80,00"),
                (50, 166, "CABLES RESEAU"),
                (50, 174, "Reference : RJ45-CAT6"),
                (305, 174, "4"),
                (365, 174, "2,50"),
                (485, 174, "10,00"),
            ]
        ],
    )
    assert [(i["description"], i["total_price"]) for i in items] == [
        ("MAINTENANCE ANNUELLE", 8000),
        ("CABLES RESEAU", 1000),
    ]


def test_a_discount_under_the_items_is_not_an_item(pdf):
    items = _items(
        pdf,
        [
            [
                (50, 100, "Description"),
                (300, 100, "Qty"),
                (360, 100, "Price"),
                (480, 100, "Amount"),
                (50, 116, "Printer paper"),
                (305, 116, "10"),
                (365, 116, "4.00"),
                (480, 116, "40.00"),
                (50, 140, "Discount: loyal customer"),
                (485, 140, "-4.00"),
                (50, 156, "Surcharge : express delivery"),
                (485, 156, "6.00"),
            ]
        ],
    )
    assert [(i["description"], i["total_price"]) for i in items] == [("Printer paper", 4000)]
