"""Vendor and customer names the rules read from party blocks they were not written for."""

from workers.extraction.fields import parse_invoice_pages
from workers.extraction.labels import sender_line_name


def _rules(pdf, texts):
    import pymupdf

    from workers.extraction.pdf_text import page_words

    with pymupdf.open(stream=pdf([texts]), filetype="pdf") as doc:
        pages = [page_words(page) for page in doc]
    return parse_invoice_pages(pages, rank=False)


def test_a_heading_with_two_names_and_a_denominazione_line(pdf):
    # the Italian e-invoice viewer: "Cedente/prestatore (fornitore)" over labelled lines
    fields = _rules(
        pdf,
        [
            (40, 40, "Cedente/prestatore (fornitore)"),
            (320, 40, "Cessionario/committente (cliente)"),
            (46, 54, "Identificativo fiscale ai fini IVA: IT01234567890"),
            (320, 54, "Codice fiscale: 09876543210"),
            (46, 66, "Denominazione: ALPHA SRL"),
            (320, 66, "Denominazione: AMMINISTRAZIONE BETA"),
            (46, 78, "Indirizzo: VIALE ROMA 543"),
            (320, 78, "Indirizzo: VIA TORINO 38-B"),
            (40, 140, "Fattura 123 del 18-01-2017"),
            (380, 300, "Totale documento 15,00"),
        ],
    )
    assert (fields["vendor_name"], fields["customer_name"]) == ("ALPHA SRL", "AMMINISTRAZIONE BETA")


def test_to_and_from_blocks_set_a_little_apart_from_their_headings(pdf):
    fields = _rules(
        pdf,
        [
            (68, 203, "TO"),
            (429, 203, "FROM"),
            (68, 228, "Client, Inc."),
            (429, 228, "Company, LLC"),
            (68, 250, "123 Main St., City"),
            (429, 250, "9 Side St., Town"),
            (69, 66, "INVOICE"),
            (380, 400, "TOTAL $14,005.38"),
        ],
    )
    assert (fields["vendor_name"], fields["customer_name"]) == ("Company, LLC", "Client, Inc.")


def test_the_bank_above_iban_and_bic_is_not_the_vendor(pdf):
    fields = _rules(
        pdf,
        [
            (50, 40, "RECHNUNG"),
            (50, 120, "Max Mustermann · Musterstraße 123 · 12345 Musterstadt"),
            (50, 140, "Beispiel Kunde"),
            (365, 100, "Rechnungsnummer: RE-000001"),
            (353, 416, "Rechnungsbetrag: 1.710,00 €"),
            (50, 773, "Max Mustermann"),
            (410, 773, "Beispielbank AG"),
            (410, 783, "IBAN: DE89370400440532013000"),
            (410, 793, "BIC: COBADEFFXXX"),
        ],
    )
    assert fields["vendor_name"] != "Beispielbank AG"


def test_side_by_side_blocks_give_each_party_its_own_tax_id(pdf):
    fields = _rules(
        pdf,
        [
            (40, 40, "Cedente/prestatore (fornitore)"),
            (320, 40, "Cessionario/committente (cliente)"),
            (46, 54, "Partita IVA: IT01234567890"),
            (320, 54, "Partita IVA: IT09876543210"),
            (46, 66, "Denominazione: ALPHA SRL"),
            (320, 66, "Denominazione: BETA SPA"),
            (40, 140, "Fattura 123 del 18-01-2017"),
        ],
    )
    assert (fields["vendor_tax_id"], fields["customer_tax_id"]) == (
        "IT01234567890",
        "IT09876543210",
    )


def test_a_return_address_whose_separators_cling_to_the_words_before(pdf):
    # OCR reads "NAME · STREET" as "NAME· STREET": the sender is still the name alone
    fields = _rules(
        pdf,
        [
            (50, 40, "RECHNUNG"),
            (50, 120, "MAX MUSTERMANN· MUSTERSTRASSE 37• 12345 MUSTERSTADT"),
            (50, 140, "Erika Beispiel"),
            (50, 152, "Hauptweg 4"),
            (50, 164, "54321 Beispielstadt"),
            (365, 100, "Rechnungsnummer: RE-000001"),
            (353, 416, "Rechnungsbetrag: 1.710,00 €"),
        ],
    )
    assert fields["vendor_name"] == "MAX MUSTERMANN"


def test_a_return_address_whose_hyphens_lost_their_spaces(pdf):
    # OCR reads "Name - Street 1 - 12345 Town" without the spaces; the addressee is not it
    fields = _rules(
        pdf,
        [
            (50, 40, "RECHNUNG"),
            (50, 120, "Max Mustermann-Musterstraße123-12345 Musterstadt"),
            (50, 140, "Erika Beispiel"),
            (50, 152, "Hauptweg 4"),
            (50, 164, "54321 Beispielstadt"),
            (365, 100, "Rechnungsnummer: RE-000001"),
            (353, 416, "Rechnungsbetrag: 1.710,00 €"),
        ],
    )
    assert (fields["vendor_name"], fields["customer_name"]) == ("Max Mustermann", "Erika Beispiel")


def test_a_hyphenated_name_is_no_sender_line():
    assert sender_line_name("Müller-Lüdenscheidt GmbH") is None
    assert sender_line_name("Jean-Pierre Dupont, Rue 5-7, 12345 Ville") is None
    assert sender_line_name("ACME · Hauptstr. 1 · Berlin") == "ACME"
