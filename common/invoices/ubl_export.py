"""UBL 2.1 (EN 16931) XML generated from an invoice's contract fields.

`GET /v1/invoices/{id}/xml` serves this when the upload was not an e-invoice itself, and the
`ubl` export zips it. The document is a UBL 2.1 `Invoice` (type code 380), or a `CreditNote`
(381) when `document_type == "credit_note"`, with CustomizationID `urn:cen.eu:en16931:2017`,
its elements in the order the UBL 2.1 XSD sequences require. `validate_ubl` in
`common.invoices.ubl_validation` checks the result against the XSD and the EN 16931 schematron.

Extracted fields are often incomplete or disagree with each other. What this module does then:

- Missing data is omitted, never invented, even where EN 16931 calls a business term
  mandatory (seller/buyer name BT-27/BT-44, seller/buyer country BT-40/BT-55, seller VAT id,
  seller identifier BR-CO-26): the schematron then reports exactly what is missing.
  Placeholders appear only where the UBL XSD itself forces a value, and each is named in the
  document's Note:
  invoice number -> "NOT-STATED"; issue date -> `issue_date_fallback` (the service passes the
  upload date), else today (UTC); currency -> "XXX" (ISO 4217 "no currency"); at least one
  line -> one line carrying the stated amounts ("no line items on the source document").
- Countries come from the VAT id prefix (EL -> GR, XI -> GB), else from the address (a
  country name or ISO code on its own line, or a "D-10115"-style postcode prefix), else, for
  the seller only, from the IBAN's country. Otherwise the Country element is left out.
- The stated VAT breakdown, subtotal, tax and total win over the line items: when the lines
  of one VAT rate do not add up to that rate's taxable amount, one line "Adjustment: ..."
  carries the difference, so that BR-CO-10 and BR-S-08 hold and the totals are the ones on the
  source document. When the stated total still differs from taxable + VAT (extraction
  errors), the difference goes into PayableRoundingAmount (BT-114) so the payable amount
  stays what the invoice says. An `amount_due` below the total becomes PrepaidAmount.
- `discount_amount` becomes a document-level allowance only when it explains the totals
  (subtotal - discount + tax == total) and there is a single VAT rate; otherwise it is taken
  to be already inside the line amounts.
- VAT categories: the breakdown's `category` when given; rate > 0 -> S; rate 0 with VAT ids
  of two different countries -> AE (reverse charge); rate 0 with a seller tax id -> Z; no
  rate and no tax -> E ("VAT not stated...") if the seller has a tax id, else O.
- Amounts are written with the currency's ISO 4217 exponent (JPY "1250", EUR "12.50"). For
  3-decimal currencies a trailing zero is dropped ("1.250" KWD -> "1.25") because EN 16931
  allows at most two decimals (BR-DEC-*); a real third decimal is kept, since rounding money
  would change the invoice, and the schematron will report it.
- Credit notes whose amounts were extracted as negative are written with positive amounts,
  as a UBL CreditNote expects.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from lxml import etree

from common.money import currency_exponent, format_quantity, format_rate

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_ROOT_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}

# Characters XML 1.0 cannot carry at all (control characters, unpaired surrogates, U+FFFE/F):
# a PDF's text layer or a person's correction may hold them; the UBL leaves them out.
_NOT_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

PLACEHOLDER_NUMBER = "NOT-STATED"
PLACEHOLDER_CURRENCY = "XXX"
ADJUSTMENT_DESCRIPTION = (
    "Adjustment: difference between the stated totals and the extracted line items"
)
NO_LINES_DESCRIPTION = "Amount as stated (no line items on the source document)"
VAT_NOT_STATED = "VAT not stated on the source document"

# ISO 4217 minor-unit exponents that are not 2 (the same table as the extraction engine's).
# Countries whose VAT identifiers carry a two-letter prefix, and the ISO 3166 code it means.
_VAT_PREFIX_COUNTRY = {
    **{
        c: c
        for c in (
            "AT",
            "BE",
            "BG",
            "CY",
            "CZ",
            "DE",
            "DK",
            "EE",
            "ES",
            "FI",
            "FR",
            "HR",
            "HU",
            "IE",
            "IT",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SE",
            "SI",
            "SK",
            "GB",
            "CH",
            "LI",
            "NO",
            "IS",
            "RS",
            "AL",
            "MK",
            "ME",
            "SM",
        )
    },
    "EL": "GR",
    "XI": "GB",
}
_COUNTRY_NAMES = {
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "AUSTRIA": "AT",
    "ÖSTERREICH": "AT",
    "OESTERREICH": "AT",
    "SWITZERLAND": "CH",
    "SCHWEIZ": "CH",
    "SUISSE": "CH",
    "SVIZZERA": "CH",
    "FRANCE": "FR",
    "ITALY": "IT",
    "ITALIA": "IT",
    "SPAIN": "ES",
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "NETHERLANDS": "NL",
    "THE NETHERLANDS": "NL",
    "NEDERLAND": "NL",
    "HOLLAND": "NL",
    "BELGIUM": "BE",
    "BELGIË": "BE",
    "BELGIE": "BE",
    "BELGIQUE": "BE",
    "LUXEMBOURG": "LU",
    "DENMARK": "DK",
    "DANMARK": "DK",
    "SWEDEN": "SE",
    "SVERIGE": "SE",
    "NORWAY": "NO",
    "NORGE": "NO",
    "FINLAND": "FI",
    "SUOMI": "FI",
    "POLAND": "PL",
    "POLSKA": "PL",
    "CZECH REPUBLIC": "CZ",
    "CZECHIA": "CZ",
    "ČESKO": "CZ",
    "PORTUGAL": "PT",
    "IRELAND": "IE",
    "UNITED KINGDOM": "GB",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "USA": "US",
    "CANADA": "CA",
    "JAPAN": "JP",
    "GREECE": "GR",
    "HUNGARY": "HU",
    "ROMANIA": "RO",
    "BULGARIA": "BG",
    "CROATIA": "HR",
    "SLOVENIA": "SI",
    "SLOVAKIA": "SK",
    "ESTONIA": "EE",
    "LATVIA": "LV",
    "LITHUANIA": "LT",
    "MALTA": "MT",
    "CYPRUS": "CY",
    "ICELAND": "IS",
    "LIECHTENSTEIN": "LI",
    "AUSTRALIA": "AU",
    "NEW ZEALAND": "NZ",
    "CHINA": "CN",
    "INDIA": "IN",
    "SINGAPORE": "SG",
    "KUWAIT": "KW",
    "BAHRAIN": "BH",
    "OMAN": "OM",
    "JORDAN": "JO",
    "TUNISIA": "TN",
}
_ISO_COUNTRIES = frozenset(_COUNTRY_NAMES.values()) | frozenset(_VAT_PREFIX_COUNTRY.values())
# "D-10115 Berlin", "CH-8001 Zürich": the old European postcode country prefixes.
_POSTCODE_PREFIX = re.compile(r"^(D|A|CH|F|I|NL|B|L|DK|S|N|FIN|PL|CZ|P|E)-\d{3,5}\b")
_POSTCODE_PREFIX_COUNTRY = {
    "D": "DE",
    "A": "AT",
    "CH": "CH",
    "F": "FR",
    "I": "IT",
    "NL": "NL",
    "B": "BE",
    "L": "LU",
    "DK": "DK",
    "S": "SE",
    "N": "NO",
    "FIN": "FI",
    "PL": "PL",
    "CZ": "CZ",
    "P": "PT",
    "E": "ES",
}
# "10115 Berlin", "D-10115 Berlin", "1010 Wien", "75008 Paris": postcode first, then the city.
_POSTCODE_CITY = re.compile(r"^(?:[A-Z]{1,3}-)?(\d{4,5}(?:-\d{3,4})?)\s+(\S.*)$")
# "London SW1A 1AA", "Dublin D02 X285", "Springfield, IL 62704": city first, then the code.
_CITY_POSTCODE = re.compile(
    r"^(\S.*?),?\s+((?:[A-Z]{2}\s+)?\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
    r"|[A-Z]\d{2}\s*[A-Z\d]{4})$"
)

# Free-text units -> UN/ECE Recommendation 20 codes (BT-130); anything else is "C62" (one).
_UNIT_CODES = {
    **dict.fromkeys(
        (
            "pc",
            "pcs",
            "pce",
            "piece",
            "pieces",
            "stk",
            "stk.",
            "st",
            "st.",
            "stück",
            "stueck",
            "ea",
            "each",
            "x",
        ),
        "H87",
    ),
    **dict.fromkeys(
        ("h", "hr", "hrs", "hour", "hours", "std", "std.", "stunde", "stunden", "heure", "heures"),
        "HUR",
    ),
    **dict.fromkeys(("min", "minute", "minutes", "minuten"), "MIN"),
    **dict.fromkeys(("d", "day", "days", "tag", "tage", "jour", "jours"), "DAY"),
    **dict.fromkeys(("wk", "week", "weeks", "woche", "wochen"), "WEE"),
    **dict.fromkeys(("mo", "mon", "month", "months", "monat", "monate", "mois"), "MON"),
    **dict.fromkeys(("yr", "year", "years", "jahr", "jahre"), "ANN"),
    **dict.fromkeys(("kg", "kilogram", "kilograms"), "KGM"),
    **dict.fromkeys(("g", "gram", "grams"), "GRM"),
    **dict.fromkeys(("t", "tonne", "tonnes"), "TNE"),
    **dict.fromkeys(("l", "liter", "litre", "liters", "litres"), "LTR"),
    **dict.fromkeys(("m", "meter", "metre", "meters", "metres"), "MTR"),
    **dict.fromkeys(("km", "kilometer", "kilometre"), "KMT"),
    **dict.fromkeys(("m2", "m²", "sqm"), "MTK"),
    **dict.fromkeys(("m3", "m³"), "MTQ"),
    **dict.fromkeys(("kwh",), "KWH"),
    **dict.fromkeys(("ls", "lump sum", "pauschal", "psch", "psch."), "LS"),
    **dict.fromkeys(("set", "sets"), "SET"),
}
_KNOWN_UNIT_CODES = frozenset(_UNIT_CODES.values()) | {"C62"}
_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B"})
_CATEGORY_REASONS = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "K": ("VATEX-EU-IC", "Intra-community supply"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
}


def invoice_to_ubl(fields: dict[str, Any], *, issue_date_fallback: dt.date | None = None) -> bytes:
    """The invoice fields of the contract as UTF-8 UBL 2.1 XML (see the module docstring)."""
    return etree.tostring(
        _UblBuilder(fields, issue_date_fallback).build(),
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
    )


# ---------------------------------------------------------------- the numbers, settled first


@dataclass
class _Line:
    description: str
    quantity: Decimal
    unit_code: str
    price: Decimal
    net: int  # minor units
    rate: Decimal | None
    group: _VatGroup | None = None


@dataclass
class _VatGroup:
    rate: Decimal | None
    category: str
    taxable: int
    tax: int
    allowance: int = 0
    lines: list[_Line] = field(default_factory=list)


@dataclass
class _Totals:
    line_extension: int
    allowance: int
    tax_exclusive: int
    tax: int
    tax_inclusive: int
    prepaid: int
    rounding: int
    payable: int


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ".").rstrip("%"))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _round_units(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _vat_id(tax_id: str | None) -> str | None:
    """The tax id in VAT-identifier form ("DE 123 456 789" -> "DE123456789"), or None when it
    is not one (a national tax number such as "12/345/67890")."""
    if not tax_id:
        return None
    compact = re.sub(r"[\s.\-]", "", tax_id).upper()
    if re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", compact) and compact[:2] in _VAT_PREFIX_COUNTRY:
        return compact
    return None


def _country_from_address(address: str | None) -> str | None:
    if not address:
        return None
    lines = [line.strip().strip(",").strip() for line in address.splitlines() if line.strip()]
    for line in reversed(lines):
        upper = line.upper()
        if upper in _COUNTRY_NAMES:
            return _COUNTRY_NAMES[upper]
        if len(upper) == 2 and upper in _ISO_COUNTRIES:
            return upper
        if match := _POSTCODE_PREFIX.match(upper):
            return _POSTCODE_PREFIX_COUNTRY[match.group(1)]
    return None


class _UblBuilder:
    def __init__(self, fields: dict[str, Any], issue_date_fallback: dt.date | None) -> None:
        self.f = fields
        self.notes: list[str] = []
        self.credit_note = fields.get("document_type") == "credit_note"
        currency = (_text(fields.get("currency")) or "").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            currency = PLACEHOLDER_CURRENCY
            self.notes.append("Currency not stated on the source document (XXX).")
        self.currency = currency
        self.exponent = currency_exponent(currency)
        self.number = _text(fields.get("invoice_number"))
        if self.number is None:
            self.number = PLACEHOLDER_NUMBER
            self.notes.append(
                f"Invoice number not stated on the source document ({PLACEHOLDER_NUMBER})."
            )
        self.issue_date = _iso_date(fields.get("invoice_date"))
        if self.issue_date is None:
            fallback = issue_date_fallback or dt.datetime.now(dt.UTC).date()
            self.issue_date = fallback.isoformat()
            self.notes.append(
                f"Issue date not stated on the source document; "
                f"{self.issue_date} is the date it was received."
            )
        self.seller_vat = _vat_id(_text(fields.get("vendor_tax_id")))
        self.buyer_vat = _vat_id(_text(fields.get("customer_tax_id")))
        # Credit notes extracted with negative amounts: a CreditNote states them positive.
        stated_total = _int(fields.get("total_amount"))
        stated_subtotal = _int(fields.get("subtotal_amount"))
        reference = stated_total if stated_total is not None else stated_subtotal
        self.sign = -1 if self.credit_note and reference is not None and reference < 0 else 1

    # -- amounts

    def minor(self, value: Any) -> int | None:
        units = _int(value)
        return None if units is None else units * self.sign

    def amount(self, units: int) -> str:
        value = Decimal(units).scaleb(-self.exponent)
        if self.exponent > 2 and value == value.quantize(Decimal("0.01")):
            return f"{value:.2f}"  # EN 16931 allows two decimals (BR-DEC-*); "1.250" is "1.25"
        return f"{value:.{self.exponent}f}"

    def units_of(self, value: Decimal) -> int:
        return _round_units(value.scaleb(self.exponent))

    # -- the settled numbers

    def settle(self) -> tuple[list[_Line], list[_VatGroup], _Totals]:
        f = self.f
        lines = [line for item in f.get("line_items") or [] if (line := self._line(item))]
        subtotal = self.minor(f.get("subtotal_amount"))
        tax = self.minor(f.get("tax_amount"))
        total = self.minor(f.get("total_amount"))
        due = self.minor(f.get("amount_due"))
        discount = _int(f.get("discount_amount"))
        discount = abs(discount) if discount else 0

        groups = self._groups(lines, subtotal, tax, total, discount)
        self._assign_lines(lines, groups)
        for group in groups:
            target = group.taxable + group.allowance
            difference = target - sum(line.net for line in group.lines)
            if difference or not group.lines:
                description = ADJUSTMENT_DESCRIPTION if group.lines else NO_LINES_DESCRIPTION
                quantity = Decimal(1) if difference >= 0 else Decimal(-1)
                adjustment = _Line(
                    description,
                    quantity,
                    "C62",
                    Decimal(abs(difference)).scaleb(-self.exponent),
                    difference,
                    group.rate,
                    group,
                )
                group.lines.append(adjustment)
                lines.append(adjustment)

        line_extension = sum(line.net for line in lines)
        allowance = sum(group.allowance for group in groups)
        tax_exclusive = line_extension - allowance
        tax_total = sum(group.tax for group in groups)
        tax_inclusive = tax_exclusive + tax_total
        stated = total if total is not None else tax_inclusive
        rounding = stated - tax_inclusive
        prepaid = 0
        if due is not None and due != stated and (0 <= due <= stated or stated <= due <= 0):
            prepaid = stated - due
        payable = tax_inclusive + rounding - prepaid
        return (
            lines,
            groups,
            _Totals(
                line_extension,
                allowance,
                tax_exclusive,
                tax_total,
                tax_inclusive,
                prepaid,
                rounding,
                payable,
            ),
        )

    def _line(self, item: dict[str, Any]) -> _Line | None:
        if not isinstance(item, dict):
            return None
        description = _text(item.get("description")) or "Item"
        quantity = _decimal(item.get("quantity"))
        if quantity is None or quantity == 0:
            quantity = Decimal(1)
        exact = _decimal(item.get("unit_price_decimal"))
        unit_price = self.minor(item.get("unit_price"))
        price: Decimal | None
        if exact is not None and (
            unit_price is None or abs(self.units_of(exact)) == abs(unit_price)
        ):
            price = exact * self.sign  # the sub-cent price the document states (3.3333)
        else:
            # none, or stale: a correction changed unit_price and left the old decimal
            price = None if unit_price is None else Decimal(unit_price).scaleb(-self.exponent)
        net = self.minor(item.get("total_price"))
        if net is None:
            if price is None:
                return None
            net = self.units_of(price * quantity)
        if price is None:
            price = (
                (Decimal(net).scaleb(-self.exponent) / quantity)
                .quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
                .normalize()
            )
        if price < 0:  # BR-27: the item price is never negative; the quantity carries the sign
            price, quantity = -price, -quantity
        unit = (_text(item.get("unit")) or "").lower()
        raw_unit = (_text(item.get("unit")) or "").upper()
        unit_code = raw_unit if raw_unit in _KNOWN_UNIT_CODES else _UNIT_CODES.get(unit, "C62")
        return _Line(description, quantity, unit_code, price, net, _decimal(item.get("tax_rate")))

    def _groups(
        self,
        lines: list[_Line],
        subtotal: int | None,
        tax: int | None,
        total: int | None,
        discount: int,
    ) -> list[_VatGroup]:
        breakdown = [b for b in self.f.get("tax_breakdown") or [] if isinstance(b, dict)]
        if breakdown:
            groups: dict[tuple[str, Decimal | None], _VatGroup] = {}
            for entry in breakdown:
                rate = _decimal(entry.get("rate"))
                taxable = self.minor(entry.get("taxable_amount"))
                entry_tax = self.minor(entry.get("tax_amount"))
                if taxable is None:
                    in_rate = [line.net for line in lines if line.rate == rate]
                    if in_rate:
                        taxable = sum(in_rate)
                    elif entry_tax is not None and rate:
                        taxable = _round_units(Decimal(entry_tax) * 100 / rate)
                    else:
                        taxable = 0
                if entry_tax is None:
                    entry_tax = self._computed_tax(taxable, rate)
                category = self._category(rate, entry.get("category"))
                key = (category, rate)
                if key in groups:
                    groups[key].taxable += taxable
                    groups[key].tax += entry_tax
                else:
                    groups[key] = _VatGroup(rate, category, taxable, entry_tax)
            return list(groups.values())

        line_rates = list(dict.fromkeys(line.rate for line in lines if line.rate is not None))
        if len(line_rates) > 1:
            result = []
            for rate in line_rates:
                taxable = sum(line.net for line in lines if line.rate == rate)
                group_tax = self._computed_tax(taxable, rate)
                result.append(_VatGroup(rate, self._category(rate), taxable, group_tax))
            return result

        # One VAT rate (or none known) for the whole invoice.
        rate = line_rates[0] if line_rates else _decimal(self.f.get("tax_rate"))
        allowance = 0
        if (
            discount
            and subtotal is not None
            and total is not None
            and subtotal - discount + (tax or 0) == total
        ):
            allowance = discount
        if subtotal is not None:
            taxable = subtotal - allowance
        elif total is not None and tax is not None:
            taxable = total - tax
        elif lines:
            taxable = sum(line.net for line in lines)
        elif total is not None and rate:
            taxable = _round_units(Decimal(total) * 100 / (100 + rate))
        else:
            taxable = total or 0
        if tax is None:
            tax = (
                total - taxable
                if total is not None and rate and subtotal is None
                else self._computed_tax(taxable, rate)
            )
        if rate is None and tax and taxable:
            # Only amounts were extracted: state the rate they imply (BR-S-09 allows a unit
            # of rounding either way).
            rate = (Decimal(tax) * 100 / Decimal(taxable)).quantize(Decimal("0.01"))
        return [_VatGroup(rate, self._category(rate), taxable, tax, allowance)]

    @staticmethod
    def _computed_tax(taxable: int, rate: Decimal | None) -> int:
        return _round_units(Decimal(taxable) * rate / 100) if rate else 0

    def _category(self, rate: Decimal | None, stated: Any = None) -> str:
        stated_code = (_text(stated) or "").upper()
        if stated_code in _CATEGORIES:
            return stated_code
        if rate is not None and rate > 0:
            return "S"
        seller_tax_id = _text(self.f.get("vendor_tax_id"))
        if (
            rate is not None
            and self.seller_vat
            and self.buyer_vat
            and _VAT_PREFIX_COUNTRY[self.seller_vat[:2]] != _VAT_PREFIX_COUNTRY[self.buyer_vat[:2]]
        ):
            return "AE"
        if rate is not None and seller_tax_id:
            return "Z"
        if seller_tax_id or self.buyer_vat:
            return "E"
        return "O"

    def _assign_lines(self, lines: list[_Line], groups: list[_VatGroup]) -> None:
        """Each line joins the group of its rate; lines without a known rate (or a rate the
        breakdown does not list) join the largest group, whose adjustment then absorbs them."""
        largest = max(groups, key=lambda g: abs(g.taxable))
        for line in lines:
            matches = [g for g in groups if g.rate is not None and g.rate == line.rate]
            line.group = matches[0] if matches else largest
            line.group.lines.append(line)

    # ------------------------------------------------------------ the XML, in XSD order

    def build(self) -> etree._Element:
        lines, groups, totals = self.settle()
        root_name = "CreditNote" if self.credit_note else "Invoice"
        nsmap = {None: _ROOT_NS[root_name], "cac": _CAC, "cbc": _CBC}
        root = etree.Element(f"{{{_ROOT_NS[root_name]}}}{root_name}", nsmap=nsmap)
        f = self.f
        due_date = _iso_date(f.get("due_date"))

        self.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        self.cbc(root, "ID", self.number)
        self.cbc(root, "IssueDate", self.issue_date)
        if self.credit_note:
            self.cbc(root, "CreditNoteTypeCode", "381")
        else:
            self.cbc(root, "DueDate", due_date)
            self.cbc(root, "InvoiceTypeCode", "380")
        note = " ".join(filter(None, [_text(f.get("notes")), *self.notes]))
        self.cbc(root, "Note", note or None)
        self.cbc(root, "DocumentCurrencyCode", self.currency)
        purchase_order = _text(f.get("purchase_order"))
        if purchase_order:
            # BT-13; also BT-10, which EN 16931 wants (buyer reference or order reference).
            self.cbc(root, "BuyerReference", purchase_order)
            order = self.cac(root, "OrderReference")
            self.cbc(order, "ID", purchase_order)

        self._party(self.cac(root, "AccountingSupplierParty"), "vendor", seller=True)
        self._party(self.cac(root, "AccountingCustomerParty"), "customer", seller=False)
        self._payment_means(root, due_date if self.credit_note else None)
        terms = _text(f.get("payment_terms"))
        if terms:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", terms)
        for group in groups:
            if group.allowance:
                charge = self.cac(root, "AllowanceCharge")
                self.cbc(charge, "ChargeIndicator", "false")
                self.cbc(charge, "AllowanceChargeReasonCode", "95")
                self.cbc(charge, "AllowanceChargeReason", "Discount")
                self.money(charge, "Amount", group.allowance)
                self._tax_category(charge, "TaxCategory", group, reasons=False)

        tax_total = self.cac(root, "TaxTotal")
        self.money(tax_total, "TaxAmount", totals.tax)
        for group in groups:
            subtotal = self.cac(tax_total, "TaxSubtotal")
            self.money(subtotal, "TaxableAmount", group.taxable)
            self.money(subtotal, "TaxAmount", group.tax)
            self._tax_category(subtotal, "TaxCategory", group, reasons=True)

        monetary = self.cac(root, "LegalMonetaryTotal")
        self.money(monetary, "LineExtensionAmount", totals.line_extension)
        self.money(monetary, "TaxExclusiveAmount", totals.tax_exclusive)
        self.money(monetary, "TaxInclusiveAmount", totals.tax_inclusive)
        if totals.allowance:
            self.money(monetary, "AllowanceTotalAmount", totals.allowance)
        if totals.prepaid:
            self.money(monetary, "PrepaidAmount", totals.prepaid)
        if totals.rounding:
            self.money(monetary, "PayableRoundingAmount", totals.rounding)
        self.money(monetary, "PayableAmount", totals.payable)

        for number, line in enumerate(lines, start=1):
            self._line_element(root, number, line)
        return root

    def cbc(
        self, parent: etree._Element, name: str, value: str | None, **attributes: str
    ) -> etree._Element | None:
        if value is None:
            return None
        element = etree.SubElement(parent, f"{{{_CBC}}}{name}", attributes)
        element.text = _NOT_XML_CHARACTERS.sub("", value)
        return element

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{_CAC}}}{name}")

    def money(self, parent: etree._Element, name: str, units: int) -> None:
        self.cbc(parent, name, self.amount(units), currencyID=self.currency)

    def _party(self, holder: etree._Element, prefix: str, *, seller: bool) -> None:
        f = self.f
        name = _text(f.get(f"{prefix}_name"))
        tax_id = _text(f.get(f"{prefix}_tax_id"))
        vat_id = self.seller_vat if seller else self.buyer_vat
        email = _text(f.get(f"{prefix}_email"))
        phone = _text(f.get(f"{prefix}_phone"))
        address = _text(f.get(f"{prefix}_address"))
        country = (_VAT_PREFIX_COUNTRY[vat_id[:2]] if vat_id else None) or _country_from_address(
            address
        )
        if country is None and seller:
            iban = re.sub(r"\s", "", _text(f.get("vendor_iban")) or "").upper()
            if iban[:2] in _ISO_COUNTRIES:
                country = iban[:2]
        if not any((name, tax_id, email, phone, address, country)):
            return
        party = self.cac(holder, "Party")
        if email:
            self.cbc(party, "EndpointID", email, schemeID="EM")
        if name:
            self.cbc(self.cac(party, "PartyName"), "Name", name)
        if address or country:
            self._address(party, address, country)
        if vat_id:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", vat_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        elif tax_id and seller:
            # BT-32, the seller's national tax number (e.g. a German Steuernummer).
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", tax_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "FC")
        if name or (tax_id and not vat_id and not seller):
            legal = self.cac(party, "PartyLegalEntity")
            self.cbc(legal, "RegistrationName", name)
            if tax_id and not vat_id and not seller:
                self.cbc(legal, "CompanyID", tax_id)  # BT-47, the buyer's registration
        if email or phone:
            contact = self.cac(party, "Contact")
            self.cbc(contact, "Telephone", phone)
            self.cbc(contact, "ElectronicMail", email)

    def _address(self, party: etree._Element, address: str | None, country: str | None) -> None:
        postal = self.cac(party, "PostalAddress")
        lines = [line.strip() for line in (address or "").splitlines() if line.strip()]
        if (
            lines
            and country
            and (lines[-1].upper() in _COUNTRY_NAMES or lines[-1].upper() == country)
        ):
            lines.pop()
        city = postcode = None
        for index in range(len(lines) - 1, -1, -1):
            if match := _POSTCODE_CITY.match(lines[index]):
                postcode, city = match.group(1), match.group(2)
            elif match := _CITY_POSTCODE.match(lines[index]):
                city, postcode = match.group(1), match.group(2)
            else:
                continue
            del lines[index]
            break
        street = lines[0] if lines else None
        additional = lines[1] if len(lines) > 1 else None
        extra = ", ".join(lines[2:]) or None
        if city is None and len(lines) > 1:
            # No postcode line: the last line is most likely the city.
            city = lines[-1]
            additional = lines[1] if len(lines) > 2 else None
            extra = ", ".join(lines[2:-1]) or None
        self.cbc(postal, "StreetName", street)
        self.cbc(postal, "AdditionalStreetName", additional)
        self.cbc(postal, "CityName", city)
        self.cbc(postal, "PostalZone", postcode)
        if extra:
            self.cbc(self.cac(postal, "AddressLine"), "Line", extra)
        if country:
            self.cbc(self.cac(postal, "Country"), "IdentificationCode", country)

    def _payment_means(self, root: etree._Element, due_date: str | None) -> None:
        f = self.f
        iban = re.sub(r"\s", "", _text(f.get("vendor_iban")) or "").upper() or None
        reference = _text(f.get("payment_reference"))
        if not (iban or reference or due_date):
            return
        means = self.cac(root, "PaymentMeans")
        # 58 SEPA credit transfer when there is an account; 1 "instrument not defined".
        self.cbc(means, "PaymentMeansCode", "58" if iban else "1")
        self.cbc(means, "PaymentDueDate", due_date)  # BT-9 of a CreditNote lives here
        self.cbc(means, "PaymentID", reference)
        if iban:
            account = self.cac(means, "PayeeFinancialAccount")
            self.cbc(account, "ID", iban)
            self.cbc(account, "Name", _text(f.get("vendor_name")))

    def _tax_category(
        self, parent: etree._Element, name: str, group: _VatGroup, *, reasons: bool
    ) -> None:
        category = self.cac(parent, name)
        self.cbc(category, "ID", group.category)
        if group.category != "O":  # BR-O-05/BR-O-09: "not subject to VAT" carries no rate
            rate = group.rate if group.rate is not None else Decimal(0)
            self.cbc(category, "Percent", format_rate(rate))
        if reasons and group.category in ("E", "O", "AE", "K", "G"):
            code, text = _CATEGORY_REASONS.get(group.category, (None, None))
            if group.category in ("E", "O"):
                text = (
                    VAT_NOT_STATED
                    if group.rate is None
                    else ("Exempt from VAT" if group.category == "E" else "Not subject to VAT")
                )
            self.cbc(category, "TaxExemptionReasonCode", code)
            self.cbc(category, "TaxExemptionReason", text)
        self.cbc(self.cac(category, "TaxScheme"), "ID", "VAT")

    def _line_element(self, root: etree._Element, number: int, line: _Line) -> None:
        name = "CreditNoteLine" if self.credit_note else "InvoiceLine"
        element = self.cac(root, name)
        self.cbc(element, "ID", str(number))
        quantity_name = "CreditedQuantity" if self.credit_note else "InvoicedQuantity"
        self.cbc(element, quantity_name, format_quantity(line.quantity), unitCode=line.unit_code)
        self.money(element, "LineExtensionAmount", line.net)
        item = self.cac(element, "Item")
        self.cbc(item, "Name", line.description[:1000])
        group = line.group
        assert group is not None
        classified = self.cac(item, "ClassifiedTaxCategory")
        self.cbc(classified, "ID", group.category)
        if group.category != "O":
            self.cbc(
                classified,
                "Percent",
                format_rate(group.rate if group.rate is not None else Decimal(0)),
            )
        self.cbc(self.cac(classified, "TaxScheme"), "ID", "VAT")
        price = self.cac(element, "Price")
        self.cbc(
            price, "PriceAmount", _format_price(line.price, self.exponent), currencyID=self.currency
        )


def _iso_date(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _format_price(price: Decimal, exponent: int) -> str:
    """At least the currency's decimals ("12.50"), more when the price has them ("0.125")."""
    minimum = Decimal(1).scaleb(-exponent)
    if price == price.quantize(minimum):
        return str(price.quantize(minimum))
    return format(price.normalize(), "f")
