"""Which payments pay which invoices: one behaviour of the matcher each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from common.bank.matching import BankTransaction, OpenInvoice, propose, ref_key

IBAN = "DE89370400440532013000"


def inv(number: str = "INV-2026-0042", amount: int = 11900, **kw) -> OpenInvoice:
    defaults = {
        "id": f"inv_{number}",
        "number": number,
        "payment_reference": None,
        "amount": amount,
        "currency": "EUR",
        "vendor_name": "ACME Supplies GmbH",
        "vendor_iban": IBAN,
        "invoice_date": date(2026, 3, 1),
        "due_date": date(2026, 3, 31),
    }
    return OpenInvoice(**{**defaults, **kw})


def tx(amount: int = -11900, text: str | None = "INV-2026-0042", **kw) -> BankTransaction:
    defaults = {
        "id": "btx_1",
        "amount": amount,
        "currency": "EUR",
        "booking_date": date(2026, 3, 20),
        "counterparty_name": "ACME Supplies GmbH",
        "counterparty_iban": IBAN,
        "remittance_text": text,
    }
    return BankTransaction(**{**defaults, **kw})


def only(proposals):
    assert len(proposals) == 1, proposals
    return proposals[0]


def test_ocr_confusions_spacing_and_punctuation_make_the_same_key():
    assert ref_key("INV-2026/0042") == ref_key("inv 2O26 OO42") == ref_key("INV2026.OO42")
    assert ref_key("RE 1S1") == ref_key("RE-151")


def test_reference_and_amount_are_applied():
    match = only(propose([tx()], [inv()]))
    assert match.applied
    assert match.allocations == [("inv_INV-2026-0042", 11900, True)]
    assert {"reference", "amount", "iban", "name", "date"} <= set(match.reasons)


def test_a_reference_with_ocr_confusions_and_spacing_still_matches():
    match = only(propose([tx(text="Rechnung lNV 2O26 OO42")], [inv()]))
    assert "reference" in match.reasons
    assert match.applied


def test_a_typo_in_the_reference_is_a_fuzzy_reference():
    match = only(propose([tx(text="Invoice INV-2026-0043 thanks")], [inv()]))
    assert "reference_fuzzy" in match.reasons


def test_the_structured_creditor_reference_matches_the_payment_reference():
    invoice = inv(payment_reference="RF18539007547034")
    payment = tx(text=None, structured_reference="RF18 5390 0754 7034")
    match = only(propose([payment], [invoice]))
    assert "structured_reference" in match.reasons
    assert match.applied


def test_an_amount_alone_is_a_suggestion_never_applied():
    payment = tx(text="Zahlung", counterparty_iban=None, counterparty_name="Somebody")
    match = only(propose([payment], [inv(vendor_iban=None)]))
    assert match.reasons == ["amount", "date"]
    assert not match.applied


def test_iban_and_amount_without_reference_are_a_suggestion():
    match = only(propose([tx(text="Zahlung")], [inv()]))
    assert {"amount", "iban"} <= set(match.reasons)
    assert not match.applied


def test_one_payment_for_several_invoices_named_in_its_text():
    invoices = [inv("INV-1001", 5000), inv("INV-1002", 7000)]
    match = only(propose([tx(-12000, "INV-1001 INV-1002")], invoices))
    assert "combined" in match.reasons
    assert match.applied
    assert sorted(match.allocations) == [("inv_INV-1001", 5000, True), ("inv_INV-1002", 7000, True)]


def test_one_payment_for_several_invoices_of_the_vendor_without_names_is_suggested():
    invoices = [inv("INV-1001", 5000), inv("INV-1002", 7000), inv("INV-1003", 9100)]
    match = only(propose([tx(-12000, "Sammelzahlung")], invoices))
    assert "combined" in match.reasons
    assert not match.applied
    assert {a[0] for a in match.allocations} == {"inv_INV-1001", "inv_INV-1002"}


def test_a_part_payment_does_not_settle_and_the_rest_does():
    first = tx(-4000, "INV-2026-0042 part", id="btx_1", booking_date=date(2026, 3, 10))
    rest = tx(-7900, "INV-2026-0042 rest", id="btx_2", booking_date=date(2026, 3, 20))
    one, two = propose([first, rest], [inv()])
    assert "partial" in one.reasons
    assert one.applied
    assert one.allocations == [("inv_INV-2026-0042", 4000, False)]
    assert two.applied
    assert two.allocations == [("inv_INV-2026-0042", 7900, True)]


def test_a_bank_fee_taken_from_the_payment_still_settles():
    match = only(propose([tx(-11900 + 750)], [inv()]))
    assert "fee" in match.reasons
    assert match.applied
    assert match.allocations[0][2] is True


def test_a_stated_skonto_settles():
    invoice = inv(discount_percent=Decimal(2))
    match = only(propose([tx(-11662)], [invoice]))
    assert "discount" in match.reasons
    assert match.applied


def test_a_payment_in_another_currency_matches_by_reference():
    match = only(propose([tx(-12850, currency="USD")], [inv()]))
    assert "foreign_currency" in match.reasons
    assert match.applied


def test_a_credit_note_is_settled_by_incoming_money_and_an_invoice_is_not():
    note = inv("CN-0007", 2500, credit_note=True)
    refund = only(propose([tx(2500, "Gutschrift CN-0007")], [note]))
    assert refund.applied
    assert propose([tx(11900)], [inv()]) == []


def test_a_payment_booked_before_the_invoice_was_issued_is_not_its_payment():
    assert propose([tx(booking_date=date(2026, 1, 2))], [inv()]) == []


def test_two_equally_good_invoices_are_left_to_a_person():
    twins = [
        inv("INV-7", 5000, id="inv_a", vendor_iban=None),
        inv("INV-7", 5000, id="inv_b", vendor_iban=None),
    ]
    proposals = propose([tx(-5000, "INV-7", counterparty_iban=None)], twins)
    assert proposals
    assert not any(p.applied for p in proposals)


def test_an_invoice_settled_by_one_payment_takes_no_second_one():
    first = tx(id="btx_1", booking_date=date(2026, 3, 10))
    second = tx(id="btx_2", booking_date=date(2026, 3, 20))
    proposals = propose([first, second], [inv()])
    assert [p.transaction_id for p in proposals if p.applied] == ["btx_1"]
