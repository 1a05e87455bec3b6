"""Item tables whose header words are unknown or mislead: column roles from the values."""

import pymupdf

from workers.extraction.pdf_text import extract_pdf_text


def _read(pdf, texts):
    return [
        (item["description"], item["quantity"], item["unit_price"], item["total_price"])
        for item in extract_pdf_text(pdf([texts]))["line_items"]
    ]


def test_a_header_of_unknown_words_over_aligned_numbers_heads_the_items(pdf):
    texts = [
        (50, 100, "Designação"),
        (300, 100, "Quantidade"),
        (390, 100, "P. unit."),
        (480, 100, "Montante"),
        (50, 118, "Cadeira de escritório"),
        (330, 118, "3"),
        (395, 118, "120,50"),
        (485, 118, "361,50"),
        (50, 134, "Licença de software"),
        (330, 134, "1"),
        (395, 134, "980,00"),
        (485, 134, "980,00"),
        (380, 170, "Total"),
        (480, 170, "1.341,50"),
    ]
    assert _read(pdf, texts) == [
        ("Cadeira de escritório", "3", 12050, 36150),
        ("Licença de software", "1", 98000, 98000),
    ]


def test_the_column_whose_values_multiply_out_is_the_line_total_whatever_its_header(pdf):
    texts = [
        (50, 100, "Product Description"),
        (280, 100, "Unit Price"),
        (380, 100, "Quantity"),
        (480, 100, "Price"),
        (50, 118, "Ceramic mug"),
        (285, 118, "4.50"),
        (395, 118, "12"),
        (485, 118, "54.00"),
        (50, 134, "Tea towel"),
        (285, 134, "3.25"),
        (395, 134, "2"),
        (490, 134, "6.50"),
    ]
    assert _read(pdf, texts) == [
        ("Ceramic mug", "12", 450, 5400),
        ("Tea towel", "2", 325, 650),
    ]


def test_a_date_column_is_never_part_of_the_description(pdf):
    texts = [
        (50, 100, "Date"),
        (160, 100, "Description"),
        (480, 100, "Amount"),
        (50, 118, "April 1, 2026"),
        (160, 118, "Monthly design retainer"),
        (480, 118, "$12,500"),
        (50, 134, "April 15, 2026"),
        (160, 134, "Brand workshop"),
        (486, 134, "$3,000"),
    ]
    assert _read(pdf, texts) == [
        ("Monthly design retainer", None, None, 1250000),
        ("Brand workshop", None, None, 300000),
    ]


def test_an_item_and_price_table_in_whole_dollars_has_a_total_per_line(pdf):
    texts = [
        (50, 100, "Item"),
        (480, 100, "Price"),
        (50, 118, "Website design"),
        (480, 118, "$1,300"),
        (50, 134, "Hosting (3 months)"),
        (491, 134, "$75"),
    ]
    assert _read(pdf, texts) == [
        ("Website design", None, None, 130000),
        ("Hosting (3 months)", None, None, 7500),
    ]


def test_names_printed_from_under_an_item_header_keep_their_first_word(pdf):
    texts = [
        (40, 100, "ITEM"),
        (66, 100, "DESCRIPTION"),
        (400, 100, "UNITS"),
        (445, 100, "PRICE EACH"),
        (510, 100, "NET"),
        (40, 118, "Project management"),
        (410, 118, "8"),
        (450, 118, "2.50"),
        (510, 118, "20.00"),
        (40, 134, "Travel expenses"),
        (410, 134, "2"),
        (450, 134, "0.83"),
        (515, 134, "1.66"),
    ]
    assert [row[0] for row in _read(pdf, texts)] == ["Project management", "Travel expenses"]


def test_a_vat_amount_column_beside_names_and_quantities_still_heads_items(pdf):
    texts = [
        (40, 100, "Désignation"),
        (200, 100, "Qté"),
        (250, 100, "Prix"),
        (330, 100, "Total HT"),
        (410, 100, "Montant TVA"),
        (500, 100, "Total TTC"),
        (40, 118, "Contrat de maintenance"),
        (205, 118, "2"),
        (250, 118, "826,85"),
        (330, 118, "1653,70"),
        (415, 118, "330,74"),
        (500, 118, "1984,44"),
    ]
    assert _read(pdf, texts) == [("Contrat de maintenance", "2", 82685, 165370)]


def test_two_numbers_under_one_total_header_take_the_rightmost_as_the_total():
    # "VAT %" and "Line Amount" close enough to read as one header phrase: the rate and the
    # line total both fall under it, and the total is the one printed last.
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    for x, y, text in [
        (50, 60, "Nordhaus Möbel GmbH"),
        (350, 60, "Invoice 55012"),
        (60, 200, "Description"),
        (280, 200, "Quantity"),
        (400, 200, "VAT"),
        (456, 200, "VAT % Line Amount"),
        (60, 216, "Office chair, blue"),
        (307, 216, "3"),
        (388, 216, "191.00"),
        (473, 216, "19"),
        (530, 216, "573.00"),
        (380, 260, "Subtotal"),
        (530, 260, "573.00"),
    ]:
        page.insert_text((x, y), text, fontsize=9)
    items = extract_pdf_text(pdf.tobytes())["line_items"]
    assert [item["total_price"] for item in items] == [57300]


def test_descriptions_under_a_right_aligned_header_keep_their_first_word(pdf):
    # "#  Date  Description" with the names starting left of the "Description" header
    texts = [
        (60, 100, "#"),
        (110, 100, "Date"),
        (200, 100, "Description"),
        (300, 100, "Price"),
        (370, 100, "Qty"),
        (480, 100, "Total"),
        (62, 118, "1"),
        (100, 118, "September"),
        (188, 118, "Website Design"),
        (300, 118, "500.00"),
        (375, 118, "2"),
        (480, 118, "1,000.00"),
        (62, 134, "2"),
        (100, 134, "October"),
        (188, 134, "Hardware"),
        (300, 134, "80.00"),
        (375, 134, "1"),
        (480, 134, "80.00"),
    ]
    assert [row[0] for row in _read(pdf, texts)] == ["Website Design", "Hardware"]


def test_a_position_column_set_close_to_unknown_header_words_is_not_the_name(pdf):
    texts = [
        (40, 100, "#"),
        (52, 100, "Beschrijving"),
        (300, 100, "Aant."),
        (380, 100, "Prijs per stuk"),
        (480, 100, "Subtotaal"),
        (40, 118, "1"),
        (52, 118, "Webhostingpakket"),
        (305, 118, "3"),
        (395, 118, "12,00"),
        (485, 118, "36,00"),
        (40, 134, "2"),
        (52, 134, "Adviesdiensten"),
        (305, 134, "2"),
        (395, 134, "50,00"),
        (485, 134, "100,00"),
    ]
    assert [row[0] for row in _read(pdf, texts)] == ["Webhostingpakket", "Adviesdiensten"]


def test_the_lines_vat_beside_the_net_total_is_not_the_total(pdf):
    texts = [
        (50, 100, "Descrizione"),
        (200, 100, "Quantità"),
        (260, 100, "Pr. unit."),
        (330, 100, "Imponibile"),
        (400, 100, "Aliquota"),
        (460, 100, "Importo IVA"),
        (530, 100, "Lordo"),
        (50, 118, "Revisioni grafiche"),
        (210, 118, "20"),
        (265, 118, "21,20"),
        (335, 118, "424,00"),
        (405, 118, "10 %"),
        (465, 118, "42,40"),
        (530, 118, "466,40"),
        (50, 134, "Hosting web"),
        (210, 134, "5"),
        (265, 134, "8,24"),
        (335, 134, "41,20"),
        (405, 134, "4 %"),
        (465, 134, "1,65"),
        (530, 134, "42,85"),
    ]
    assert _read(pdf, texts) == [
        ("Revisioni grafiche", "20", 2120, 42400),
        ("Hosting web", "5", 824, 4120),
    ]


def test_a_wide_table_naming_the_lines_vat_is_an_item_table(pdf):
    texts = [
        (45, 100, "Detalle"),
        (180, 100, "Cantidad"),
        (240, 100, "Importe unit."),
        (315, 100, "Importe neto"),
        (390, 100, "IVA %"),
        (430, 100, "Cuota IVA"),
        (490, 100, "Importe bruto"),
        (45, 118, "Panel LED 60x60"),
        (200, 118, "1"),
        (260, 118, "1,31"),
        (335, 118, "1,31"),
        (395, 118, "4 %"),
        (445, 118, "0,05"),
        (510, 118, "1,36"),
        (45, 134, "Horas de soporte"),
        (200, 134, "20"),
        (255, 134, "1.805,61"),
        (325, 134, "36.112,20"),
        (395, 134, "21 %"),
        (440, 134, "7.583,56"),
        (500, 134, "43.695,76"),
    ]
    assert _read(pdf, texts) == [
        ("Panel LED 60x60", "1", 131, 131),
        ("Horas de soporte", "20", 180561, 3611220),
    ]


def test_spanish_abbreviated_headers_with_a_discount_column(pdf):
    texts = [
        (45, 100, "ARTÍCULO"),
        (345, 100, "UDS."),
        (395, 100, "IMPORTE UNIT."),
        (470, 100, "DTO."),
        (520, 100, "BASE"),
        (45, 118, "Mano de obra instalación"),
        (360, 118, "1"),
        (410, 118, "32,09"),
        (472, 118, "20 %"),
        (522, 118, "25,67"),
        (45, 134, "Servicio de limpieza"),
        (360, 134, "4"),
        (410, 134, "3,2500"),
        (522, 134, "13,00"),
    ]
    assert _read(pdf, texts) == [
        ("Mano de obra instalación", "1", 3209, 2567),
        ("Servicio de limpieza", "4", 325, 1300),
    ]
