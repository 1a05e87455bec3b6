"""A small, realistic invoice PDF for the README walkthrough (`invex demo-invoice FILE`)."""

from __future__ import annotations

DEMO_LINES = (
    (50, 60, "Nordwind Bürobedarf GmbH", 16),
    (50, 80, "Hafenstraße 12, 20457 Hamburg  ·  USt-IdNr. DE136695976", 9),
    (50, 130, "Kundin AG", 11),
    (50, 145, "Ringweg 3, 80331 München", 11),
    (360, 130, "Rechnung", 18),
    (360, 155, "Rechnungsnummer:  RE-2026-1187", 10),
    (360, 170, "Rechnungsdatum:  14.03.2026", 10),
    (360, 185, "Fällig am:  13.04.2026", 10),
    (50, 240, "Beschreibung", 10),
    (300, 240, "Menge", 10),
    (380, 240, "Einzelpreis", 10),
    (480, 240, "Betrag", 10),
    (50, 260, "Druckerpapier A4, 500 Blatt", 10),
    (300, 260, "10", 10),
    (380, 260, "4,90 €", 10),
    (480, 260, "49,00 €", 10),
    (50, 278, "Toner schwarz XL", 10),
    (300, 278, "2", 10),
    (380, 278, "75,50 €", 10),
    (480, 278, "151,00 €", 10),
    (380, 320, "Nettobetrag", 10),
    (480, 320, "200,00 €", 10),
    (380, 336, "MwSt. 19 %", 10),
    (480, 336, "38,00 €", 10),
    (380, 352, "Gesamtbetrag", 10),
    (480, 352, "238,00 €", 10),
    (50, 420, "Zahlbar innerhalb von 30 Tagen ohne Abzug.", 9),
    (50, 434, "IBAN DE89 3704 0044 0532 0130 00  ·  BIC COBADEFFXXX", 9),
)


def demo_invoice_pdf() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for x, y, text, size in DEMO_LINES:
        page.insert_text((x, y), text, fontsize=size, fontname="helv")
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data
