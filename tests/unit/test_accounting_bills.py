"""An invoice's fields as a supplier bill's lines (common/integrations/bills.py)."""

from __future__ import annotations

from decimal import Decimal

from common.integrations.bills import bill_from_invoice

MAPPING = {"tax_codes": {"19.00": "INPUT2", "7.00": "INPUT7"}, "expense_account": "429"}


def test_an_invoice_without_line_items_is_one_line_of_its_net_amount():
    bill = bill_from_invoice(
        "inv_1",
        {
            "invoice_number": "A-1",
            "currency": "EUR",
            "total_amount": 11900,
            "tax_amount": 1900,
            "tax_rate": "19",
        },
        MAPPING,
    )
    [line] = bill.lines
    assert (line.description, line.line_amount, line.tax_code) == (
        "Invoice A-1",
        Decimal("100.00"),
        "INPUT2",
    )


def test_amounts_follow_the_currency_s_minor_unit():
    bill = bill_from_invoice("inv_1", {"currency": "JPY", "subtotal_amount": 1250}, MAPPING)
    assert bill.lines[0].line_amount == Decimal(1250)


def test_a_line_whose_unit_price_does_not_multiply_out_is_one_unit_of_its_total():
    bill = bill_from_invoice(
        "inv_1",
        {
            "currency": "EUR",
            "tax_rate": "7",
            "line_items": [
                {"description": "Bolts", "quantity": "3", "unit_price": 333, "total_price": 1000}
            ],
        },
        MAPPING,
    )
    [line] = bill.lines
    assert (line.quantity, line.unit_amount, line.line_amount) == (
        Decimal(1),
        Decimal("10.00"),
        Decimal("10.00"),
    )
    assert line.tax_code == "INPUT7"  # the invoice's rate, the line naming none


def test_a_rate_missing_from_the_mapping_leaves_the_provider_s_default():
    bill = bill_from_invoice(
        "inv_1",
        {"line_items": [{"description": "x", "total_price": 500, "tax_rate": "5.5"}]},
        MAPPING,
    )
    assert (bill.lines[0].tax_rate, bill.lines[0].tax_code) == ("5.50", None)
    assert bill.vendor_name == "Unknown supplier"


def test_a_line_without_an_amount_is_left_out():
    bill = bill_from_invoice(
        "inv_1",
        {"line_items": [{"description": "note only"}, {"description": "x", "unit_price": 200}]},
        MAPPING,
    )
    assert [line.description for line in bill.lines] == ["x"]
