"""Payment fields read from the page: terms, the reference to quote, the amount still due
and the IBAN, in several languages; references and IBANs only when their check digits
hold."""

import pytest

from workers.extraction.pdf_text import extract_pdf_text


def _with_footer(pdf, *footer: tuple[float, float, str]) -> dict:
    return extract_pdf_text(
        pdf(
            [
                [
                    (50, 60, "Example Trading Ltd"),
                    (350, 60, "Invoice No. 2024-117"),
                    (350, 75, "Date: 2024-03-05"),
                    (380, 260, "Subtotal"),
                    (480, 260, "100.00"),
                    (380, 275, "VAT 20 %"),
                    (480, 275, "20.00"),
                    (380, 290, "Total"),
                    (480, 290, "120.00"),
                    *footer,
                ]
            ]
        )
    )


@pytest.mark.parametrize(
    ("label", "terms"),
    [
        ("Payment terms:", "30 days net"),
        ("Zahlungsbedingungen:", "14 Tage 2 % Skonto, 30 Tage netto"),
        ("Conditions de paiement :", "45 jours fin de mois"),
        ("Condiciones de pago:", "30 días"),
        ("Betalingsvoorwaarden:", "binnen 30 dagen"),
    ],
)
def test_payment_terms_are_the_text_after_their_label(pdf, label, terms):
    fields = _with_footer(pdf, (50, 400, label), (200, 400, terms))

    assert fields["payment_terms"] == terms


def test_payment_terms_under_a_heading_are_the_line_below_it(pdf):
    fields = _with_footer(pdf, (50, 400, "Zahlungsbedingungen"), (50, 412, "Sofort ohne Abzug"))

    assert fields["payment_terms"] == "Sofort ohne Abzug"


@pytest.mark.parametrize(
    "sentence",
    [
        "Payable within 30 days of the invoice date.",
        "Zahlbar innerhalb von 14 Tagen netto.",
        "Paiement à 30 jours date de facture.",
        "Pago a 60 días.",
        "Pagamento entro 30 giorni.",
    ],
)
def test_a_sentence_stating_the_terms_is_the_payment_terms(pdf, sentence):
    fields = _with_footer(pdf, (50, 400, "Thank you. " + sentence))

    assert fields["payment_terms"] == sentence


def test_no_terms_are_made_up_when_none_are_printed(pdf):
    assert _with_footer(pdf)["payment_terms"] is None


@pytest.mark.parametrize(
    ("line", "reference"),
    [
        ("Please quote RF18 5390 0754 7034 with your payment", "RF18539007547034"),
        ("Communication structurée : +++123/4567/89002+++", "+++123/4567/89002+++"),
        ("Verwendungszweck: RE-2024-117", "RE-2024-117"),
        ("Référence de paiement : F2024-117", "F2024-117"),
        ("Payment reference: INV 2024 117", "INV 2024 117"),
    ],
)
def test_the_payment_reference_is_read(pdf, line, reference):
    assert _with_footer(pdf, (50, 400, line))["payment_reference"] == reference


@pytest.mark.parametrize(
    "line",
    ["Please quote RF19 5390 0754 7034", "Mededeling: +++123/4567/89012+++"],
)
def test_a_reference_whose_check_digits_fail_is_not_taken(pdf, line):
    assert _with_footer(pdf, (50, 400, line))["payment_reference"] is None


@pytest.mark.parametrize(
    "label", ["Amount due", "Balance due", "Zu zahlen", "Montant dû", "Importe a pagar"]
)
def test_the_amount_due_is_read_where_it_is_printed(pdf, label):
    fields = _with_footer(
        pdf, (380, 320, "Paid"), (480, 320, "20.00"), (380, 335, label), (480, 335, "100.00")
    )

    assert fields["amount_due"] == 10000


def test_the_amount_due_is_not_the_total_when_it_is_not_printed(pdf):
    assert _with_footer(pdf)["amount_due"] is None


def test_an_iban_is_read_with_its_check_digits_valid(pdf):
    fields = _with_footer(pdf, (50, 400, "IBAN: GB82 WEST 1234 5698 7654 32   BIC: WESTGB2L"))

    assert fields["vendor_iban"] == "GB82WEST12345698765432"


def test_an_iban_with_a_wrong_check_digit_is_not_read(pdf):
    fields = _with_footer(pdf, (50, 400, "IBAN: GB83 WEST 1234 5698 7654 32"))

    assert fields["vendor_iban"] is None
