"""Values under the cells of a header row, as e-invoice viewers and ERP forms print them:
labels side by side, each value right-aligned somewhere under its own cell."""

from workers.extraction.fields import parse_invoice_pages


def _rules(pdf, texts):
    import pymupdf

    from workers.extraction.pdf_text import page_words

    with pymupdf.open(stream=pdf([texts]), filetype="pdf") as doc:
        pages = [page_words(page) for page in doc]
    return parse_invoice_pages(pages, rank=False)


SUMMARY = [
    (40, 40, "Cedente/prestatore (fornitore)"),
    (46, 54, "Denominazione: ALPHA SRL"),
    (320, 40, "Cessionario/committente (cliente)"),
    (320, 54, "Codice fiscale: 09876543210"),
    (320, 66, "Denominazione: AMMINISTRAZIONE BETA"),
    (40, 130, "Tipologia documento"),
    (160, 130, "Numero documento"),
    (260, 130, "Data documento"),
    (380, 130, "Codice destinatario"),
    (40, 142, "TD01 fattura"),
    (160, 142, "123"),
    (260, 142, "18-01-2017"),
    (380, 142, "AAAAAA"),
    (63, 351, "esigibilità iva / riferimenti normativi"),
    (221, 351, "%IVA"),
    (324, 351, "Arr."),
    (381, 351, "Totale imponibile"),
    (502, 351, "Totale imposta"),
    (40, 364, "I (esigibilità immediata)"),
    (227, 364, "22,00"),
    (470, 364, "25,00"),
    (572, 364, "5,50"),
    (438, 376, "Totale documento"),
    (440, 388, "30,50"),
]


def test_number_and_date_under_their_cells_in_a_header_row(pdf):
    fields = _rules(pdf, SUMMARY)
    assert (fields["invoice_number"], fields["invoice_date"]) == ("123", "2017-01-18")


def test_totals_right_aligned_under_header_cells_and_not_the_rate_column(pdf):
    fields = _rules(pdf, SUMMARY)
    assert (fields["subtotal_amount"], fields["tax_amount"], fields["total_amount"]) == (
        2500,
        550,
        3050,
    )
