"""Checks flag what does not add up; page-read values that fail them lose confidence."""

from __future__ import annotations

from workers.extraction.checks import apply_checks
from workers.extraction.invoice_fields import empty_fields


def invoice(source="pdf_text", **values):
    fields = empty_fields(source)
    fields.update(
        {
            "currency": "EUR",
            "subtotal_amount": 10000,
            "tax_amount": 1900,
            "total_amount": 11900,
            "extraction_confidence": 0.8,
        }
    )
    fields.update(values)
    fields.setdefault("field_confidence", {})
    fields["field_confidence"] = {
        "subtotal_amount": 0.7,
        "tax_amount": 0.7,
        "total_amount": 0.7,
        "vendor_tax_id": 0.8,
        **fields["field_confidence"],
    }
    return fields


def codes(fields):
    return [(w["code"], w["field"]) for w in fields["warnings"]]


def test_consistent_invoice_has_no_warnings():
    assert codes(apply_checks(invoice(tax_rate="19.00"))) == []


def test_totals_that_do_not_add_up_are_flagged():
    checked = apply_checks(invoice(total_amount=12000))

    assert codes(checked) == [("totals_mismatch", "total_amount")]


def test_read_amounts_that_add_up_become_more_confident():
    checked = apply_checks(invoice())

    assert checked["field_confidence"]["total_amount"] == 0.9


def test_a_read_total_that_contradicts_the_sum_loses_confidence():
    checked = apply_checks(invoice(total_amount=12000))

    assert checked["field_confidence"]["total_amount"] == 0.4
    assert checked["extraction_confidence"] <= 0.4


def test_xml_values_keep_full_confidence_even_when_they_do_not_add_up():
    fields = invoice(source="cii", total_amount=12000, field_confidence={"total_amount": 1.0})

    checked = apply_checks(fields)

    assert checked["field_confidence"]["total_amount"] == 1.0
    assert codes(checked) == [("totals_mismatch", "total_amount")]


def test_vat_number_with_bad_check_digits_is_flagged():
    assert codes(apply_checks(invoice(vendor_tax_id="DE136695977"))) == [
        ("invalid_tax_id", "vendor_tax_id")
    ]


def test_valid_vat_numbers_and_local_tax_numbers_pass():
    assert codes(apply_checks(invoice(vendor_tax_id="DE 136 695 976"))) == []
    assert codes(apply_checks(invoice(vendor_tax_id="201/113/40209"))) == []


def test_a_bad_check_digit_lowers_confidence_only_when_the_value_was_ocr_read():
    from_text = apply_checks(invoice(vendor_tax_id="DE136695977"))
    from_ocr = apply_checks(invoice(source="ocr", vendor_tax_id="DE136695977"))

    assert from_text["field_confidence"]["vendor_tax_id"] == 0.8
    assert from_ocr["field_confidence"]["vendor_tax_id"] == 0.4


def test_invalid_iban_is_flagged():
    assert codes(apply_checks(invoice(vendor_iban="DE89370400440532013001"))) == [
        ("invalid_iban", "vendor_iban")
    ]


def test_lines_must_explain_the_subtotal_after_allowances_and_charges():
    lines = [{"total_price": 6000}, {"total_price": 5000}]

    explained = apply_checks(invoice(line_items=lines, discount_amount=1500, charge_amount=500))
    unexplained = apply_checks(invoice(line_items=lines))

    assert codes(explained) == []
    assert codes(unexplained) == [("line_total_mismatch", "line_items")]


def test_tax_that_is_not_rate_times_base_is_flagged():
    breakdown = [{"rate": "19.00", "taxable_amount": 10000, "tax_amount": 1800}]

    checked = apply_checks(invoice(tax_amount=1800, total_amount=11800, tax_breakdown=breakdown))

    assert codes(checked) == [("tax_mismatch", "tax_rate")]


def test_tax_per_rate_that_does_not_add_up_to_the_tax_total_is_flagged():
    breakdown = [{"rate": "19.00", "taxable_amount": 10000, "tax_amount": 1900}]

    checked = apply_checks(invoice(tax_amount=1800, total_amount=11800, tax_breakdown=breakdown))

    assert codes(checked) == [("tax_mismatch", "tax_amount")]
    assert checked["field_confidence"]["tax_amount"] == 0.4


def test_due_date_before_invoice_date_is_flagged():
    checked = apply_checks(invoice(invoice_date="2024-03-01", due_date="2024-02-01"))

    assert codes(checked) == [("due_date_before_invoice_date", "due_date")]


def test_checking_twice_changes_nothing_more():
    once = apply_checks(invoice(total_amount=12000, vendor_iban="XX00"))

    assert apply_checks(once) == once


def test_warnings_from_other_steps_are_kept():
    fields = invoice(warnings=[{"code": "visual_mismatch", "message": "m", "field": None}])

    assert codes(apply_checks(fields)) == [("visual_mismatch", None)]
