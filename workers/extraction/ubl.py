"""UBL 2.1 Invoice and CreditNote (EN 16931, Peppol BIS 3, XRechnung UBL) to invoice fields."""

from __future__ import annotations

from typing import Any

from common.xmltree import (
    Element,
    find,
    find_all,
    first_text,
    iter_texts,
    lines_of,
    local_name,
    text_of,
)
from workers.extraction.invoice_fields import (
    AmountReader,
    document_type_for_code,
    empty_fields,
    iso_date,
    join_lines,
    line_item,
    payment_method_for_code,
    rate_text,
    single_rate,
)


def parse_ubl(root: Element) -> dict[str, Any]:
    is_credit_note = local_name(root) == "CreditNote"
    fields = empty_fields("ubl")
    warnings = fields["warnings"]

    currency = first_text(root, "DocumentCurrencyCode") or _currency_of_totals(root)
    currency = currency.upper() if currency else None
    amounts = AmountReader(currency, warnings)
    type_code = first_text(root, "CreditNoteTypeCode" if is_credit_note else "InvoiceTypeCode")

    fields.update(
        {
            "document_type": document_type_for_code(
                type_code, default="credit_note" if is_credit_note else "invoice"
            ),
            "invoice_number": first_text(root, "ID"),
            "invoice_date": iso_date(first_text(root, "IssueDate")),
            # Credit notes have no DueDate element; EN 16931 puts their due date on the means.
            "due_date": iso_date(
                first_text(
                    root, "DueDate", "PaymentMeans/PaymentDueDate", "PaymentTerms/PaymentDueDate"
                )
            ),
            "currency": currency,
            "purchase_order": first_text(root, "OrderReference/ID"),
            "payment_terms": join_lines(list(iter_texts(root, "PaymentTerms/Note"))),
            "payment_method": payment_method_for_code(
                first_text(root, "PaymentMeans/PaymentMeansCode")
            ),
            "payment_reference": first_text(root, "PaymentMeans/PaymentID"),
            "vendor_iban": first_text(root, "PaymentMeans/PayeeFinancialAccount/ID"),
            "notes": join_lines([lines_of(note) for note in find_all(root, "Note")]),
        }
    )
    fields.update(_party(find(root, "AccountingSupplierParty/Party"), "vendor"))
    fields.update(_party(find(root, "AccountingCustomerParty/Party"), "customer"))

    totals = find(root, "LegalMonetaryTotal")
    fields["subtotal_amount"] = amounts.minor(
        first_text(totals, "TaxExclusiveAmount"), "subtotal_amount"
    )
    fields["total_amount"] = amounts.minor(first_text(totals, "TaxInclusiveAmount"), "total_amount")
    fields["amount_due"] = amounts.minor(first_text(totals, "PayableAmount"), "amount_due")
    fields["discount_amount"] = amounts.minor(
        first_text(totals, "AllowanceTotalAmount"), "discount_amount"
    )
    # Not a contract field: what lets a check reconcile the lines with the subtotal.
    fields["charge_amount"] = amounts.minor(first_text(totals, "ChargeTotalAmount"))

    tax_total = _tax_total_in(root, currency)
    if tax_total is not None:
        fields["tax_amount"] = amounts.minor(first_text(tax_total, "TaxAmount"), "tax_amount")
        fields["tax_breakdown"] = [
            {
                "rate": rate_text(first_text(subtotal, "TaxCategory/Percent")),
                "taxable_amount": amounts.minor(first_text(subtotal, "TaxableAmount")),
                "tax_amount": amounts.minor(first_text(subtotal, "TaxAmount")),
                "category": first_text(subtotal, "TaxCategory/ID"),
            }
            for subtotal in find_all(tax_total, "TaxSubtotal")
        ]
    fields["tax_rate"] = single_rate(fields["tax_breakdown"])
    fields["discount_percent"] = _single_allowance_percent(find_all(root, "AllowanceCharge"))

    line_tag = "CreditNoteLine" if is_credit_note else "InvoiceLine"
    quantity_tag = "CreditedQuantity" if is_credit_note else "InvoicedQuantity"
    fields["line_items"] = [_line(line, quantity_tag, amounts) for line in find_all(root, line_tag)]
    return fields


def _currency_of_totals(root: Element) -> str | None:
    amount = find(root, "LegalMonetaryTotal/PayableAmount")
    return None if amount is None else amount.get("currencyID")


def _tax_total_in(root: Element, currency: str | None) -> Element | None:
    """The TaxTotal in the document currency. A second TaxTotal may state the VAT in the
    tax accounting currency (BT-111); it never carries subtotals."""
    tax_totals = find_all(root, "TaxTotal")
    for tax_total in tax_totals:
        amount = find(tax_total, "TaxAmount")
        if amount is not None and (amount.get("currencyID") or "").upper() in ("", currency):
            return tax_total
    return tax_totals[0] if tax_totals else None


def _party(party: Element | None, role: str) -> dict[str, Any]:
    if party is None:
        return {}
    tax_id = None
    for scheme in find_all(party, "PartyTaxScheme"):
        company_id = first_text(scheme, "CompanyID")
        if company_id and (first_text(scheme, "TaxScheme/ID") or "").upper() == "VAT":
            tax_id = company_id
            break
        tax_id = tax_id or company_id
    return {
        # The legal name (BT-27) before the trading name: it is what tax IDs belong to.
        f"{role}_name": first_text(party, "PartyLegalEntity/RegistrationName", "PartyName/Name"),
        f"{role}_email": first_text(party, "Contact/ElectronicMail"),
        f"{role}_phone": first_text(party, "Contact/Telephone"),
        f"{role}_tax_id": tax_id,
        f"{role}_address": _address(find(party, "PostalAddress")),
    }


def _address(address: Element | None) -> str | None:
    if address is None:
        return None
    postal_city = " ".join(
        filter(None, [first_text(address, "PostalZone"), first_text(address, "CityName")])
    )
    return join_lines(
        [
            first_text(address, "StreetName"),
            first_text(address, "AdditionalStreetName"),
            *iter_texts(address, "AddressLine/Line"),
            postal_city,
            first_text(address, "CountrySubentity"),
            first_text(address, "Country/IdentificationCode"),
        ]
    )


def _single_allowance_percent(allowances: list[Element]) -> str | None:
    """The document discount as a percentage when exactly one allowance states one."""
    percents = [
        first_text(allowance, "MultiplierFactorNumeric")
        for allowance in allowances
        if (first_text(allowance, "ChargeIndicator") or "").lower() == "false"
    ]
    return rate_text(percents[0]) if len(percents) == 1 else None


def _line(line: Element, quantity_tag: str, amounts: AmountReader) -> dict[str, Any]:
    quantity = find(line, quantity_tag)
    allowances = [
        allowance
        for allowance in find_all(line, "AllowanceCharge")
        if (first_text(allowance, "ChargeIndicator") or "").lower() == "false"
    ]
    discount_amounts = [amounts.minor(first_text(allowance, "Amount")) for allowance in allowances]
    return line_item(
        amounts,
        description=first_text(line, "Item/Name", "Item/Description"),
        quantity=text_of(quantity),
        unit=None if quantity is None else quantity.get("unitCode"),
        unit_price=first_text(line, "Price/PriceAmount"),
        price_base_quantity=first_text(line, "Price/BaseQuantity"),
        total_price=first_text(line, "LineExtensionAmount"),
        tax_rate=first_text(line, "Item/ClassifiedTaxCategory/Percent"),
        tax_amount=first_text(line, "TaxTotal/TaxAmount"),
        discount_percent=(
            first_text(allowances[0], "MultiplierFactorNumeric") if len(allowances) == 1 else None
        ),
        discount_amount=(
            sum(a for a in discount_amounts if a is not None)
            if any(a is not None for a in discount_amounts)
            else None
        ),
    )
