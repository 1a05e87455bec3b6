"""UN/CEFACT Cross Industry Invoice to invoice fields: ZUGFeRD 1.0 (`CrossIndustryDocument`)
and ZUGFeRD 2.x / Factur-X / XRechnung CII (`CrossIndustryInvoice`).

The two generations name the same business terms differently (ZUGFeRD 1.0 says
`HeaderExchangedDocument`, `ApplicableSupplyChainTradeAgreement`, ...; 2.x says
`ExchangedDocument`, `ApplicableHeaderTradeAgreement`, ...), so every lookup lists both
paths, the 2.x one first.
"""

from __future__ import annotations

from typing import Any

from common.xmltree import (
    Element,
    find,
    find_all,
    first,
    first_text,
    lines_of,
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


def parse_cii(root: Element) -> dict[str, Any]:
    fields = empty_fields("cii")
    warnings = fields["warnings"]

    document = first(root, "ExchangedDocument", "HeaderExchangedDocument")
    transaction = first(root, "SupplyChainTradeTransaction", "SpecifiedSupplyChainTradeTransaction")
    agreement = first(
        transaction, "ApplicableHeaderTradeAgreement", "ApplicableSupplyChainTradeAgreement"
    )
    settlement = first(
        transaction, "ApplicableHeaderTradeSettlement", "ApplicableSupplyChainTradeSettlement"
    )
    summation = first(
        settlement,
        "SpecifiedTradeSettlementHeaderMonetarySummation",
        "SpecifiedTradeSettlementMonetarySummation",
    )

    currency = first_text(settlement, "InvoiceCurrencyCode") or _currency_of_totals(summation)
    currency = currency.upper() if currency else None
    amounts = AmountReader(currency, warnings)
    payment_terms = find_all(settlement, "SpecifiedTradePaymentTerms")
    payment_means = find_all(settlement, "SpecifiedTradeSettlementPaymentMeans")

    fields.update(
        {
            "document_type": document_type_for_code(first_text(document, "TypeCode")),
            "invoice_number": first_text(document, "ID"),
            "invoice_date": _date(find(document, "IssueDateTime")),
            "due_date": next(
                filter(None, (_date(find(terms, "DueDateDateTime")) for terms in payment_terms)),
                None,
            ),
            "currency": currency,
            "purchase_order": first_text(
                agreement,
                "BuyerOrderReferencedDocument/IssuerAssignedID",
                "BuyerOrderReferencedDocument/ID",
            ),
            "payment_terms": join_lines(
                [lines_of(find(terms, "Description")) for terms in payment_terms]
            ),
            "payment_method": payment_method_for_code(
                next(filter(None, (first_text(means, "TypeCode") for means in payment_means)), None)
            ),
            "payment_reference": first_text(settlement, "PaymentReference"),
            "vendor_iban": next(
                filter(
                    None,
                    (
                        first_text(means, "PayeePartyCreditorFinancialAccount/IBANID")
                        for means in payment_means
                    ),
                ),
                None,
            ),
            "notes": join_lines(
                [lines_of(find(note, "Content")) for note in find_all(document, "IncludedNote")]
            ),
        }
    )
    fields.update(_party(find(agreement, "SellerTradeParty"), "vendor"))
    fields.update(_party(find(agreement, "BuyerTradeParty"), "customer"))

    fields["subtotal_amount"] = amounts.minor(
        first_text(summation, "TaxBasisTotalAmount"), "subtotal_amount"
    )
    fields["tax_amount"] = amounts.minor(_tax_total_in(summation, currency), "tax_amount")
    fields["total_amount"] = amounts.minor(
        first_text(summation, "GrandTotalAmount"), "total_amount"
    )
    fields["amount_due"] = amounts.minor(first_text(summation, "DuePayableAmount"), "amount_due")
    fields["discount_amount"] = amounts.minor(
        first_text(summation, "AllowanceTotalAmount"), "discount_amount"
    )
    # Not a contract field: what lets a check reconcile the lines with the subtotal.
    fields["charge_amount"] = amounts.minor(first_text(summation, "ChargeTotalAmount"))

    fields["tax_breakdown"] = [
        {
            "rate": rate_text(first_text(tax, "RateApplicablePercent", "ApplicablePercent")),
            "taxable_amount": amounts.minor(first_text(tax, "BasisAmount")),
            "tax_amount": amounts.minor(first_text(tax, "CalculatedAmount")),
            "category": first_text(tax, "CategoryCode"),
        }
        for tax in find_all(settlement, "ApplicableTradeTax")
    ]
    fields["tax_rate"] = single_rate(fields["tax_breakdown"])
    fields["discount_percent"] = _single_allowance_percent(
        find_all(settlement, "SpecifiedTradeAllowanceCharge")
    )
    fields["line_items"] = [
        _line(line, amounts)
        for line in find_all(transaction, "IncludedSupplyChainTradeLineItem")
        if _is_invoiced_line(line)
    ]
    return fields


def _date(date_time: Element | None) -> str | None:
    string = find(date_time, "DateTimeString")
    if string is None:
        return iso_date(text_of(date_time))
    return iso_date(text_of(string), string.get("format"))


def _currency_of_totals(summation: Element | None) -> str | None:
    amount = first(summation, "GrandTotalAmount", "DuePayableAmount")
    return None if amount is None else amount.get("currencyID")


def _tax_total_in(summation: Element | None, currency: str | None) -> str | None:
    """TaxTotalAmount in the invoice currency (BT-110). It repeats, with another currencyID,
    when VAT is also stated in the tax accounting currency (BT-111)."""
    totals = find_all(summation, "TaxTotalAmount")
    for total in totals:
        if (total.get("currencyID") or "").upper() in ("", currency):
            return text_of(total)
    return text_of(totals[0]) if totals else None


def _party(party: Element | None, role: str) -> dict[str, Any]:
    if party is None:
        return {}
    tax_ids = {
        (registration.get("schemeID") or "").strip().upper(): text_of(registration)
        for registration in reversed(find_all(party, "SpecifiedTaxRegistration/ID"))
    }
    # VAT number (VA) first; the local tax number (FC) only when there is no VAT number.
    tax_id = (
        tax_ids.get("VA")
        or tax_ids.get("FC")
        or next((value for value in tax_ids.values() if value), None)
    )
    electronic_addresses = find_all(party, "URIUniversalCommunication/URIID")
    email = first_text(party, "DefinedTradeContact/EmailURIUniversalCommunication/URIID")
    if email is None:
        email = next(
            (
                text_of(uri)
                for uri in electronic_addresses
                if (uri.get("schemeID") or "").upper() == "EM"
            ),
            None,
        )
    return {
        f"{role}_name": first_text(party, "Name", "SpecifiedLegalOrganization/TradingBusinessName"),
        f"{role}_email": email,
        f"{role}_phone": first_text(
            party, "DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber"
        ),
        f"{role}_tax_id": tax_id,
        f"{role}_address": _address(find(party, "PostalTradeAddress")),
    }


def _address(address: Element | None) -> str | None:
    if address is None:
        return None
    postal_city = " ".join(
        filter(None, [first_text(address, "PostcodeCode"), first_text(address, "CityName")])
    )
    return join_lines(
        [
            first_text(address, "LineOne"),
            first_text(address, "LineTwo"),
            first_text(address, "LineThree"),
            postal_city,
            first_text(address, "CountrySubDivisionName"),
            first_text(address, "CountryID"),
        ]
    )


def _single_allowance_percent(allowances: list[Element]) -> str | None:
    percents = [
        first_text(allowance, "CalculationPercent")
        for allowance in allowances
        if (first_text(allowance, "ChargeIndicator/Indicator") or "").lower() == "false"
    ]
    return rate_text(percents[0]) if len(percents) == 1 else None


def _is_invoiced_line(line: Element) -> bool:
    """False for lines that only carry a note (ZUGFeRD 1.0 uses them as headings) and for
    EXTENDED-profile group/information lines, whose amounts the detail lines already hold."""
    reason = first_text(line, "AssociatedDocumentLineDocument/LineStatusReasonCode")
    if reason and reason.upper() in ("GROUP", "INFORMATION"):
        return False
    has_product = find(line, "SpecifiedTradeProduct") is not None
    has_total = first_text(
        line,
        "SpecifiedLineTradeSettlement/"
        "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount",
        "SpecifiedSupplyChainTradeSettlement/"
        "SpecifiedTradeSettlementMonetarySummation/LineTotalAmount",
    )
    return has_product or has_total is not None


def _line(line: Element, amounts: AmountReader) -> dict[str, Any]:
    line_agreement = first(
        line, "SpecifiedLineTradeAgreement", "SpecifiedSupplyChainTradeAgreement"
    )
    line_delivery = first(line, "SpecifiedLineTradeDelivery", "SpecifiedSupplyChainTradeDelivery")
    line_settlement = first(
        line, "SpecifiedLineTradeSettlement", "SpecifiedSupplyChainTradeSettlement"
    )
    line_summation = first(
        line_settlement,
        "SpecifiedTradeSettlementLineMonetarySummation",
        "SpecifiedTradeSettlementMonetarySummation",
    )
    net_price = find(line_agreement, "NetPriceProductTradePrice")
    quantity = find(line_delivery, "BilledQuantity")
    allowances = [
        allowance
        for allowance in find_all(line_settlement, "SpecifiedTradeAllowanceCharge")
        if (first_text(allowance, "ChargeIndicator/Indicator") or "").lower() == "false"
    ]
    discount_amounts = [
        amounts.minor(first_text(allowance, "ActualAmount")) for allowance in allowances
    ]
    product = find(line, "SpecifiedTradeProduct")
    return line_item(
        amounts,
        description=first_text(product, "Name", "Description"),
        quantity=text_of(quantity),
        unit=None if quantity is None else quantity.get("unitCode"),
        unit_price=first_text(net_price, "ChargeAmount"),
        price_base_quantity=first_text(net_price, "BasisQuantity"),
        total_price=first_text(line_summation, "LineTotalAmount"),
        tax_rate=first_text(
            line_settlement,
            "ApplicableTradeTax/RateApplicablePercent",
            "ApplicableTradeTax/ApplicablePercent",
        ),
        tax_amount=first_text(line_summation, "TaxTotalAmount"),
        discount_percent=(
            first_text(allowances[0], "CalculationPercent") if len(allowances) == 1 else None
        ),
        discount_amount=(
            sum(a for a in discount_amounts if a is not None)
            if any(a is not None for a in discount_amounts)
            else None
        ),
    )
