"""The `ubl` and `facturx` exports: ZIPs of e-invoices, one per invoice, each checked before
it goes in; an invoice that cannot be written or fails its check is named in `errors.txt`
instead of failing the whole export.

Factur-X needs Cross Industry Invoice (CII D16B) XML. It is translated here from the UBL 2.1
that common/invoices/ubl_export.py builds, element by element, so both formats carry the same
figures (that module reconciles lines, VAT breakdown and totals once) and the CII follows
the EN 16931 semantic model the UBL already passed.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from common.exports.formats import Options, ZipWriter
from common.invoices.repository import Invoice
from common.invoices.ubl_export import invoice_to_ubl
from common.invoices.ubl_validation import validate_ubl
from common.invoices.ubl_validation_process import ValidationProcess, validation_processes


def _not_exportable(invoice: Invoice) -> str | None:
    if invoice.status != "succeeded":
        return f"extraction {invoice.status}: no fields to build an e-invoice from"
    return None


# Documents sent ahead to one validation process; more only grows memory, fewer lets the
# process run dry while this one builds.
SENT_AHEAD = 8
# Bytes of documents built and not yet written: past this the writer waits for the oldest,
# which bounds memory while a validation process is slow to get a core.
BUILT_AHEAD_BYTES = 4 * 1024 * 1024


@dataclass
class _Built:
    invoice: Invoice
    xml: bytes | None
    error: str | None = None
    checker: ValidationProcess | None = None  # answers for this document, in its turn


class UblZipWriter(ZipWriter):
    """`<invoice id>.xml`: UBL 2.1 from the (corrected) fields, validated with the UBL XSD
    and the EN 16931 schematron.

    With `options.validation_processes`, documents are validated in helper processes while
    the next ones are built, and by this process itself whenever every helper has
    SENT_AHEAD documents waiting. Documents are written, or named in errors.txt, in
    invoice order either way; a helper that fails stops the export."""

    def __init__(self, out: BinaryIO, options: Options) -> None:
        super().__init__(out, options)
        self._checkers = validation_processes(options.validation_processes)
        self._built: deque[_Built] = deque()
        self._built_bytes = 0

    def add_entry(self, invoice: Invoice) -> None:
        reason = _not_exportable(invoice)
        if reason is not None:
            self._built.append(_Built(invoice, None, error=reason))
        else:
            xml = invoice_to_ubl(invoice.fields, issue_date_fallback=invoice.created_at.date())
            self._built_bytes += len(xml)
            checker = min(self._checkers, key=lambda c: c.waiting, default=None)
            if checker is not None and checker.waiting < SENT_AHEAD:
                checker.send(xml)
                self._built.append(_Built(invoice, xml, checker=checker))
            else:
                self._built.append(_Built(invoice, xml, error=_problems(validate_ubl(xml))))
        self._write_checked()

    def finish_entries(self) -> None:
        self._write_checked(finishing=True)

    def _write_checked(self, *, finishing: bool = False) -> None:
        """Write the oldest documents whose check is known, waiting for one only when
        BUILT_AHEAD_BYTES are held or the export is finishing."""
        while self._built:
            built = self._built[0]
            if built.checker is not None:
                full = self._built_bytes > BUILT_AHEAD_BYTES
                if not (finishing or full or built.checker.answered()):
                    return
                built.error = _problems(built.checker.take())
            self._built.popleft()
            self._built_bytes -= len(built.xml or b"")
            if built.error is not None:
                self.error(built.invoice, built.error)
            else:
                assert built.xml is not None
                self.zip.writestr(f"{built.invoice.id}.xml", built.xml)


def _problems(problems: list[str]) -> str | None:
    return "EN 16931: " + "; ".join(problems) if problems else None


class FacturxZipWriter(ZipWriter):
    """`<invoice id>.pdf`: Factur-X, profile EN 16931, PDF/A-3 with `factur-x.xml` embedded
    (the `factur-x` library's conversion); the PDF is the original upload when it is a PDF,
    else one rendered from the fields. The CII is checked against the Factur-X XSD."""

    def __init__(self, out: BinaryIO, options: Options) -> None:
        super().__init__(out, options)
        if options.load_file is None:
            raise ValueError("facturx needs the original files")

    def add_entry(self, invoice: Invoice) -> None:
        import facturx  # noqa: PLC0415 - the PDF stack, loaded by exports that use it

        reason = _not_exportable(invoice)
        if reason is not None:
            self.error(invoice, reason)
            return
        cii = invoice_to_cii(invoice.fields, issue_date_fallback=invoice.created_at.date())
        pdf = None
        if invoice.content_type == "application/pdf":
            assert self.options.load_file is not None
            pdf = self.options.load_file(invoice.id)
        if pdf is None:
            from common.invoices.pdf_render import render_invoice_pdf  # noqa: PLC0415

            pdf = render_invoice_pdf(invoice.fields)
        try:
            document = facturx.generate_from_binary(
                pdf,
                cii,
                flavor="factur-x",
                level="en16931",
                check_xsd=True,
                pdf_metadata={
                    "author": invoice.fields.get("vendor_name") or "",
                    "keywords": "Factur-X, Invoice",
                    "title": f"Invoice {invoice.fields.get('invoice_number') or invoice.id}",
                    "subject": f"Invoice {invoice.fields.get('invoice_number') or invoice.id}",
                },
            )
        except Exception as exc:  # noqa: BLE001  (factur-x raises plain Exceptions for XSD or PDF faults)
            self.error(invoice, f"Factur-X: {exc}")
            return
        self.zip.writestr(f"{invoice.id}.pdf", document)


# --- UBL 2.1 -> CII D16B ------------------------------------------------------------------

_UBL = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str):
    prefix, local = name.split(":")
    element = etree.SubElement(parent, f"{{{_NSMAP[prefix]}}}{local}", attrs)
    if text is not None:
        element.text = text
    return element


def _find(node: etree._Element, path: str) -> etree._Element | None:
    return node.find(path, _UBL)


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, _UBL)
    return found.text if found is not None and found.text else None


def _date(parent: etree._Element, name: str, iso: str) -> None:
    holder = _sub(parent, name)
    _sub(holder, "udt:DateTimeString", iso.replace("-", ""), format="102")


def _party(parent: etree._Element, name: str, party: etree._Element | None) -> None:
    element = _sub(parent, name)
    if party is None:
        return
    legal = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    _sub(element, "ram:Name", legal or _text(party, "cac:PartyName/cbc:Name") or "")
    address = _find(party, "cac:PostalAddress")
    if address is not None:
        postal = _sub(element, "ram:PostalTradeAddress")
        for ubl, cii in (
            ("cbc:PostalZone", "ram:PostcodeCode"),
            ("cbc:StreetName", "ram:LineOne"),
            ("cbc:AdditionalStreetName", "ram:LineTwo"),
            ("cbc:CityName", "ram:CityName"),
            ("cac:Country/cbc:IdentificationCode", "ram:CountryID"),
        ):
            value = _text(address, ubl)
            if value:
                _sub(postal, cii, value)
    for scheme in party.findall("cac:PartyTaxScheme", _UBL):
        company_id = _text(scheme, "cbc:CompanyID")
        if company_id:
            kind = "VA" if _text(scheme, "cac:TaxScheme/cbc:ID") == "VAT" else "FC"
            _sub(_sub(element, "ram:SpecifiedTaxRegistration"), "ram:ID", company_id, schemeID=kind)


def _tax(parent: etree._Element, name: str, category: etree._Element) -> etree._Element:
    """A ram:ApplicableTradeTax-like element from a UBL TaxCategory (line: no amounts)."""
    tax = _sub(parent, name)
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", _text(category, "cbc:ID") or "S")
    percent = _text(category, "cbc:Percent")
    if percent is not None:
        _sub(tax, "ram:RateApplicablePercent", percent)
    return tax


def ubl_to_cii(ubl: bytes) -> bytes:
    """CII D16B (EN 16931 profile) with the business terms of a UBL 2.1 Invoice or CreditNote
    made by invoice_to_ubl."""
    root = etree.fromstring(ubl)
    credit_note = etree.QName(root).localname == "CreditNote"
    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit_note
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    currency = _text(root, "cbc:DocumentCurrencyCode") or "XXX"
    cii = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=_NSMAP)
    context = _sub(cii, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
         _text(root, "cbc:CustomizationID") or "urn:cen.eu:en16931:2017")  # fmt: skip
    document = _sub(cii, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", _text(root, "cbc:ID") or "NOT-STATED")
    type_code = _text(root, "cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode")
    _sub(document, "ram:TypeCode", type_code or ("381" if credit_note else "380"))
    # UBL always has an IssueDate; today's UTC date only guards a malformed one.
    issued = _text(root, "cbc:IssueDate") or dt.datetime.now(dt.UTC).date().isoformat()
    _date(document, "ram:IssueDateTime", issued)
    for note in root.findall("cbc:Note", _UBL):
        if note.text:
            _sub(_sub(document, "ram:IncludedNote"), "ram:Content", note.text)

    transaction = _sub(cii, "rsm:SupplyChainTradeTransaction")
    for line in root.findall(line_tag, _UBL):
        item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", _text(line, "cbc:ID"))
        _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name",
             _text(line, "cac:Item/cbc:Name") or "")  # fmt: skip
        price = _sub(_sub(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        _sub(price, "ram:ChargeAmount", _text(line, "cac:Price/cbc:PriceAmount") or "0")
        quantity = _find(line, quantity_tag)
        _sub(
            _sub(item, "ram:SpecifiedLineTradeDelivery"),
            "ram:BilledQuantity",
            quantity.text if quantity is not None else "1",
            unitCode=quantity.get("unitCode", "C62") if quantity is not None else "C62",
        )
        settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
        category = _find(line, "cac:Item/cac:ClassifiedTaxCategory")
        if category is not None:
            _tax(settlement, "ram:ApplicableTradeTax", category)
        _sub(
            _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
            "ram:LineTotalAmount",
            _text(line, "cbc:LineExtensionAmount") or "0",
        )

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    buyer_reference = _text(root, "cbc:BuyerReference")
    if buyer_reference:
        _sub(agreement, "ram:BuyerReference", buyer_reference)
    _party(agreement, "ram:SellerTradeParty", _find(root, "cac:AccountingSupplierParty/cac:Party"))
    _party(agreement, "ram:BuyerTradeParty", _find(root, "cac:AccountingCustomerParty/cac:Party"))
    order = _text(root, "cac:OrderReference/cbc:ID")
    if order:
        _sub(_sub(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", order)
    _sub(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    reference = _text(root, "cac:PaymentMeans/cbc:PaymentID")
    if reference:
        _sub(settlement, "ram:PaymentReference", reference)
    _sub(settlement, "ram:InvoiceCurrencyCode", currency)
    for means in root.findall("cac:PaymentMeans", _UBL):
        element = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(element, "ram:TypeCode", _text(means, "cbc:PaymentMeansCode") or "1")
        iban = _text(means, "cac:PayeeFinancialAccount/cbc:ID")
        if iban:
            _sub(_sub(element, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", iban)
    for subtotal in root.findall("cac:TaxTotal/cac:TaxSubtotal", _UBL):
        category = _find(subtotal, "cac:TaxCategory")
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _text(subtotal, "cbc:TaxAmount") or "0")
        _sub(tax, "ram:TypeCode", "VAT")
        reason = _text(category, "cbc:TaxExemptionReason") if category is not None else None
        if reason:
            _sub(tax, "ram:ExemptionReason", reason)
        _sub(tax, "ram:BasisAmount", _text(subtotal, "cbc:TaxableAmount") or "0")
        _sub(
            tax,
            "ram:CategoryCode",
            (_text(category, "cbc:ID") if category is not None else None) or "S",
        )
        reason_code = (
            _text(category, "cbc:TaxExemptionReasonCode") if category is not None else None
        )
        if reason_code:
            _sub(tax, "ram:ExemptionReasonCode", reason_code)
        percent = _text(category, "cbc:Percent") if category is not None else None
        if percent is not None:
            _sub(tax, "ram:RateApplicablePercent", percent)
    for allowance in root.findall("cac:AllowanceCharge", _UBL):
        element = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _sub(_sub(element, "ram:ChargeIndicator"), "udt:Indicator",
             _text(allowance, "cbc:ChargeIndicator") or "false")  # fmt: skip
        _sub(element, "ram:ActualAmount", _text(allowance, "cbc:Amount") or "0")
        reason = _text(allowance, "cbc:AllowanceChargeReason")
        if reason:
            _sub(element, "ram:Reason", reason)
        category = _find(allowance, "cac:TaxCategory")
        if category is not None:
            _tax(element, "ram:CategoryTradeTax", category)
    terms_note = _text(root, "cac:PaymentTerms/cbc:Note")
    due = _text(root, "cbc:DueDate") or _text(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    if terms_note or due:
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        if terms_note:
            _sub(terms, "ram:Description", terms_note)
        if due:
            _date(terms, "ram:DueDateDateTime", due)
    totals = _find(root, "cac:LegalMonetaryTotal")
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")

    def total(ubl_name: str) -> str | None:
        return _text(totals, ubl_name) if totals is not None else None

    _sub(summation, "ram:LineTotalAmount", total("cbc:LineExtensionAmount") or "0")
    for ubl_name, cii_name in (
        ("cbc:ChargeTotalAmount", "ram:ChargeTotalAmount"),
        ("cbc:AllowanceTotalAmount", "ram:AllowanceTotalAmount"),
    ):
        value = total(ubl_name)
        if value is not None:
            _sub(summation, cii_name, value)
    _sub(summation, "ram:TaxBasisTotalAmount", total("cbc:TaxExclusiveAmount") or "0")
    tax_total = _text(root, "cac:TaxTotal/cbc:TaxAmount")
    if tax_total is not None:
        _sub(summation, "ram:TaxTotalAmount", tax_total, currencyID=currency)
    rounding = total("cbc:PayableRoundingAmount")
    if rounding is not None:
        _sub(summation, "ram:RoundingAmount", rounding)
    _sub(summation, "ram:GrandTotalAmount", total("cbc:TaxInclusiveAmount") or "0")
    prepaid = total("cbc:PrepaidAmount")
    if prepaid is not None:
        _sub(summation, "ram:TotalPrepaidAmount", prepaid)
    _sub(summation, "ram:DuePayableAmount", total("cbc:PayableAmount") or "0")
    return etree.tostring(cii, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def invoice_to_cii(fields: dict, *, issue_date_fallback: dt.date | None = None) -> bytes:
    """CII D16B (Factur-X EN 16931) XML from the contract's invoice fields."""
    return ubl_to_cii(invoice_to_ubl(fields, issue_date_fallback=issue_date_fallback))
