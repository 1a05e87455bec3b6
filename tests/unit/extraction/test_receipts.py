"""Receipt fields re-read from OCR words: built by hand here, no OCR needed."""

from __future__ import annotations

from decimal import Decimal

from workers.extraction.fields import parse_invoice_pages
from workers.extraction.layout import Page, Word
from workers.extraction.ocr_words import split_glued_words
from workers.extraction.receipts import refine_receipt_fields


def slip(*rows: str | tuple[str, str]) -> list[Page]:
    """A till slip: one row per line, 12 points apart; a (left, right) pair puts the
    second text in a right-hand column, as amounts are printed."""
    words = []
    for number, row in enumerate(rows):
        left, right = (row, "") if isinstance(row, str) else row
        y0 = 20 + 12 * number
        for column_x, text in ((10, left), (160, right)):
            x = column_x
            for part in text.split():
                words.append(Word(part, x, y0, x + 6 * len(part), y0 + 9, 0, 0.9))
                x += 6 * len(part) + 4
    return [Page(number=0, width=230, height=40 + 12 * len(rows), words=tuple(words))]


def read(pages: list[Page]) -> dict:
    """The fields of slip pages as OCR hands them on (glued words cut, as page_of_boxes
    does), read as a receipt."""
    pages = [split_glued_words(page) for page in pages]
    return refine_receipt_fields(parse_invoice_pages(pages, source="ocr"), pages)


def test_the_seller_is_the_company_line_at_the_top_without_its_registration_number():
    fields = read(
        slip(
            "WELCOME",
            "KEDAI RUNCIT MAJU SDN BHD (123456-X)",
            "NO 5 JALAN BESAR",
            "TEL 03-1234 5678",
            ("TOTAL", "12.50"),
            ("CASH", "20.00"),
            ("CHANGE", "7.50"),
        )
    )

    assert fields["vendor_name"] == "KEDAI RUNCIT MAJU SDN BHD"
    assert fields["document_type"] == "receipt"


def test_a_legal_form_alone_on_its_line_joins_the_name_above_it():
    fields = read(
        slip(
            "SYARIKAT ABC HARDWARE",
            "SDN BHD",
            "LOT 12 TAMAN MAJU",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["vendor_name"] == "SYARIKAT ABC HARDWARE SDN BHD"


def test_the_rounded_total_wins_over_the_total_before_rounding():
    fields = read(
        slip(
            "ACME MART SDN BHD",
            ("SUB TOTAL", "30.00"),
            ("TOTAL QTY", "3.00"),
            ("TOTAL INCL GST", "31.82"),
            ("ROUNDING ADJ", "0.03"),
            ("ROUNDED TOTAL (RM)", "31.85"),
            ("CASH", "50.00"),
            ("CHANGE", "18.15"),
        )
    )

    assert fields["total_amount"] == 3185


def test_cash_minus_change_picks_the_total_that_was_paid():
    fields = read(
        slip(
            "ACME MART SDN BHD",
            ("TOTAL", "31.82"),
            ("TOTAL", "31.80"),
            ("CASH", "40.00"),
            ("CHANGE", "8.18"),
        )
    )

    assert fields["total_amount"] == 3182


def test_a_total_split_by_ocr_spacing_is_still_read():
    fields = read(
        slip("ACME MART SDN BHD", ("NET TOTAL", "85 , 20"), ("CASH", "100.00"), ("CHANGE", "14.80"))
    )

    assert fields["total_amount"] == 8520


def test_receipt_dates_are_day_first_when_nothing_says_otherwise():
    fields = read(
        slip(
            "ACME MART SDN BHD",
            "DATE: 04/12/2017 10:15",
            ("TOTAL", "5.00"),
            ("CASH", "5.00"),
            ("CHANGE", "0.00"),
        )
    )

    assert fields["invoice_date"] == "2017-12-04"


def test_berhad_in_a_company_name_is_not_read_as_bahraini_dinars():
    fields = read(
        slip(
            "ACME MART SDN BHD", ("TOTAL", "RM 12.30"), ("CASH", "RM 20.00"), ("CHANGE", "RM 7.70")
        )
    )

    assert fields["currency"] != "BHD"
    assert fields["total_amount"] == 1230


def test_an_invoice_is_left_as_the_parser_read_it():
    pages = slip(
        "Example GmbH", "Rechnung Nr 4711", "Datum 05.03.2018", ("Gesamtbetrag EUR", "119,00")
    )
    parsed = parse_invoice_pages(pages, source="ocr")

    assert refine_receipt_fields(parsed, pages) == parsed


def test_a_bare_total_after_the_rounding_line_is_the_rounded_total():
    fields = read(
        slip(
            "ACME MART SDN BHD",
            ("TOTAL (INCLUSIVE OF GST)", "31.02"),
            ("ROUNDING ADJ", "-0.02"),
            ("TOTAL", "31.00"),
            ("CASH", "31.00"),
        )
    )

    assert fields["total_amount"] == 3100


def test_an_unreadable_total_is_taken_from_cash_minus_change():
    fields = read(
        slip("ACME MART SDN BHD", ("TOTAL", "Y8,80"), ("CASH", "50.00"), ("CHANGE", "31.20"))
    )

    assert fields["total_amount"] == 1880


def test_a_total_before_tax_is_not_the_amount_paid():
    fields = read(
        slip(
            "ACME MART SDN BHD",
            ("TOTAL:", "43.90"),
            ("TOTAL (EXC LUDING GST)", "41.42"),
            ("CASH", "100.00"),
            ("CHANGE", "56.10"),
        )
    )

    assert fields["total_amount"] == 4390


def test_a_name_that_runs_on_to_the_next_line_is_read_whole():
    fields = read(
        slip(
            "MAJU JAYA HARDWARE",
            "TRADING",
            "123456-T",
            "NO 5 JALAN BESAR",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["vendor_name"] == "MAJU JAYA HARDWARE TRADING"


def test_the_owner_company_after_owned_by_is_not_the_shop():
    fields = read(
        slip(
            "KEDAI BUKU CERIA",
            "NO 5 JALAN BESAR",
            "OWNED BY :",
            "CERIA HOLDINGS SDN BHD (998877-K)",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["vendor_name"] == "KEDAI BUKU CERIA"


def test_ocr_slips_in_the_sellers_name_are_undone():
    fields = read(
        slip(
            "BINTANG 1DEA S7B519537-X)",
            "NO 5 JALAN BESAR",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["vendor_name"] == "BINTANG IDEA S/B"


def test_two_labels_on_one_line_each_keep_their_own_amount():
    fields = read(
        slip(
            "KEDAI MAJU SDN BHD",
            ("Total with GST @ 6%", "6.83"),
            ("ROUNDING", "0.02"),
            ("TOTAL SAVING: 0.00", "TOTAL 6.85"),
            ("CASH", "20.00"),
        )
    )

    assert fields["total_amount"] == 685


def test_a_misread_total_label_and_ringgit_sign_still_give_the_total():
    fields = read(
        slip(
            "KEDAI MAJU SDN BHD",
            ("Sub Total", "RM 68.87"),
            ("GST 6%", "RM 4.13"),
            ("TOTL, :", "RM 73.00"),
            ("CASH", "RMO73.00"),
            ("CHANGE", "RMO.00"),
        )
    )

    assert fields["total_amount"] == 7300


def test_a_compact_date_after_a_date_label_is_the_receipt_date():
    fields = read(
        slip(
            "KEDAI MAJU SDN BHD",
            "Date/Time 11.22 20180428/191204",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["invoice_date"] == "2018-04-28"


def test_a_date_glued_to_its_time_is_read():
    fields = read(
        slip(
            "KEDAI MAJU SDN BHD",
            "Date 03/02/201815:28",
            ("TOTAL", "8.00"),
            ("CASH", "10.00"),
            ("CHANGE", "2.00"),
        )
    )

    assert fields["invoice_date"] == "2018-02-03"


def test_french_till_words_make_a_receipt():
    fields = read(
        slip(
            "CAFE DU PORT",
            "CAISSIER 1",
            ("Total", "56.00"),
            ("ESPECES", "60.00"),
            ("RENDU", "4.00"),
            "Merci de votre visite",
        )
    )

    assert fields["document_type"] == "receipt"
    assert fields["total_amount"] == 5600


def test_the_bench_scores_what_the_receipt_reading_puts_over_the_ranker():
    from training.ranker import receipt_values

    pages = [
        split_glued_words(page)
        for page in slip(
            "KEDAI RUNCIT MAJU SDN BHD (123456-X)",
            "NO 5 JALAN BESAR",
            ("TOTAL", "12.50"),
            ("CASH", "20.00"),
            ("CHANGE", "7.50"),
        )
    ]
    fields = parse_invoice_pages(pages, source="ocr", rank=False)

    found = receipt_values(fields, pages, "ocr")
    assert found["vendor_name"][0] == "KEDAI RUNCIT MAJU SDN BHD"
    assert found["total_amount"][0] == Decimal("12.50")
    assert receipt_values(fields, pages, "pdf_text") == {}
