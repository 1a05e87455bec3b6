"""Validation of extracted fields: identifiers with check digits and the arithmetic an
invoice must satisfy. Each finding is a warning; for fields read from a page (text layer or
OCR) findings also lower, or agreement raises, the field confidence.

Values from an e-invoice's XML are never "corrected" or made less confident here: they are
exactly what the sender declared, and a warning tells the reviewer what does not add up.

`apply_checks` is idempotent: it replaces its own earlier warnings and only ever caps or
floors confidences, so every extraction path may call it, and the pipeline calls it again.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat as eu_vat
from stdnum.in_ import gstin
from stdnum.util import get_cc_module

from common import money
from common.invoice_fields import (
    AMOUNT_FIELDS,
    LINE_ITEM_AMOUNTS,
    LINE_ITEM_DECIMALS,
    MAX_AMOUNT,
    MAX_SIGNIFICANT_DIGITS,
    TAX_BREAKDOWN_AMOUNTS,
)
from workers.extraction.invoice_fields import warning

STRUCTURED_SOURCES = frozenset({"ubl", "cii", "facturx"})
IDENTIFIER_WARNING_CODES = frozenset({"invalid_tax_id", "invalid_iban"})
CHECK_WARNING_CODES = frozenset(
    {
        "invalid_tax_id",
        "invalid_iban",
        "totals_mismatch",
        "line_total_mismatch",
        "tax_mismatch",
        "due_date_before_invoice_date",
    }
)
KEY_FIELDS = frozenset({"invoice_number", "invoice_date", "vendor_name", "total_amount"})
# A misread digit breaks a check digit or a sum; a read value that fails one is a guess.
CONFIDENCE_WHEN_CONTRADICTED = 0.4
# Subtotal, tax and total that add up were very unlikely all misread the same way.
CONFIDENCE_WHEN_CORROBORATED = 0.9
_COUNTRY_PREFIX = re.compile(r"^([A-Z]{2})[0-9A-Z]")


def apply_checks(fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of `fields` with check warnings (re)computed and confidences adjusted."""
    checked = copy.deepcopy(fields)
    warnings = [
        w for w in checked.get("warnings") or [] if w.get("code") not in CHECK_WARNING_CODES
    ]
    confidence = dict(checked.get("field_confidence") or {})
    findings = [
        *_identifier_findings(checked),
        *_arithmetic_findings(checked),
        *_date_findings(checked),
    ]
    warnings.extend(findings)
    checked["warnings"] = warnings

    source = checked.get("source")
    if source not in STRUCTURED_SOURCES:
        lowered = set()
        for finding in findings:
            name = finding["field"]
            # A text layer holds exactly what the sender wrote, so a bad check digit there is
            # the sender's; from OCR it is more likely a misread.
            if finding["code"] in IDENTIFIER_WARNING_CODES and source != "ocr":
                continue
            if name in confidence:
                confidence[name] = min(confidence[name], CONFIDENCE_WHEN_CONTRADICTED)
                lowered.add(name)
        tax_contradicted = any(f["field"] == "tax_amount" for f in findings)
        if _totals_add_up(checked) and not tax_contradicted:
            for name in ("subtotal_amount", "tax_amount", "total_amount"):
                if name in confidence:
                    confidence[name] = max(confidence[name], CONFIDENCE_WHEN_CORROBORATED)
        # The document as a whole is no surer than a key field a check contradicted.
        contradicted_key_fields = [confidence[name] for name in lowered & KEY_FIELDS]
        if contradicted_key_fields and checked.get("extraction_confidence") is not None:
            checked["extraction_confidence"] = min(
                checked["extraction_confidence"], *contradicted_key_fields
            )
    checked["field_confidence"] = confidence
    return checked


# --- identifiers ----------------------------------------------------------------------


# India's GST identification number: no country prefix, its own check character.
_GSTIN = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]")


def is_valid_tax_id(value: str) -> bool | None:
    """True or False for a VAT number whose country we can tell from its prefix (EU, GB,
    CH, NO, ...); None when we cannot tell which rules apply (local tax numbers)."""
    compact = re.sub(r"[\s.\-/]", "", value).upper()
    if _GSTIN.fullmatch(compact):
        return bool(gstin.is_valid(compact))
    match = _COUNTRY_PREFIX.match(compact)
    if match is None:
        return None
    country = match.group(1)
    if country.lower() in eu_vat.MEMBER_STATES or country in ("EL", "EU"):
        return bool(eu_vat.is_valid(compact))
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        return None
    return bool(module.is_valid(value))


def is_valid_iban(value: str) -> bool:
    try:
        IBAN(value)
    except (SchwiftyException, ValueError):
        return False
    return True


def _identifier_findings(fields: dict[str, Any]) -> list[dict[str, Any]]:
    findings = []
    for name, role in (("vendor_tax_id", "vendor"), ("customer_tax_id", "customer")):
        value = fields.get(name)
        if value and is_valid_tax_id(value) is False:
            findings.append(
                warning(
                    "invalid_tax_id", f"The {role} tax ID {value!r} fails its check digits.", name
                )
            )
    iban = fields.get("vendor_iban")
    if iban and not is_valid_iban(iban):
        findings.append(warning("invalid_iban", f"{iban!r} is not a valid IBAN.", "vendor_iban"))
    return findings


# --- arithmetic -----------------------------------------------------------------------


def _all_ints(values: list[Any]) -> list[int] | None:
    """`values` when every one is an amount in minor units (an int), else None."""
    if all(isinstance(v, int) for v in values):
        return values
    return None


def _totals_add_up(fields: dict[str, Any]) -> bool:
    amounts = _all_ints([fields.get(n) for n in ("subtotal_amount", "tax_amount", "total_amount")])
    if amounts is None:
        return False
    subtotal, tax, total = amounts
    return subtotal + tax == total


def _arithmetic_findings(fields: dict[str, Any]) -> list[dict[str, Any]]:
    findings = []
    currency = fields.get("currency")
    subtotal, tax, total = (
        fields.get(n) for n in ("subtotal_amount", "tax_amount", "total_amount")
    )
    amounts = _all_ints([subtotal, tax, total])
    if amounts is not None and amounts[0] + amounts[1] != amounts[2]:
        findings.append(
            warning(
                "totals_mismatch",
                f"Subtotal {_show(amounts[0], currency)} plus tax {_show(amounts[1], currency)} "
                f"is not the total {_show(amounts[2], currency)}.",
                "total_amount",
            )
        )

    lines = fields.get("line_items") or []
    line_totals = _all_ints([line.get("total_price") for line in lines if isinstance(line, dict)])
    if line_totals and isinstance(subtotal, int):
        # Document-level allowances and charges sit between the line sum and the subtotal.
        expected = (
            sum(line_totals)
            - (fields.get("discount_amount") or 0)
            + (fields.get("charge_amount") or 0)
        )
        if expected != subtotal and sum(line_totals) != subtotal:
            findings.append(
                warning(
                    "line_total_mismatch",
                    f"The lines add up to {_show(sum(line_totals), currency)}, which does not "
                    f"explain the subtotal {_show(subtotal, currency)}.",
                    "line_items",
                )
            )

    # Each line's tax may be rounded on its own, so allow a minor unit per line. When rate
    # times base is not the tax, the rate is blamed: it is the figure most often misread or
    # picked from the wrong place, and a wrong tax amount also breaks subtotal + tax = total.
    tolerance = max(1, len(lines))
    breakdown = [entry for entry in fields.get("tax_breakdown") or [] if isinstance(entry, dict)]
    for entry in breakdown:
        rate = money.parse_decimal(entry.get("rate"))
        base, amount = entry.get("taxable_amount"), entry.get("tax_amount")
        if rate is None or not isinstance(base, int) or not isinstance(amount, int):
            continue
        if abs(Decimal(base) * rate / 100 - amount) > tolerance:
            findings.append(
                warning(
                    "tax_mismatch",
                    f"{entry.get('rate')}% of {_show(base, currency)} is not "
                    f"{_show(amount, currency)}.",
                    "tax_rate",
                )
            )
    breakdown_taxes = _all_ints([entry.get("tax_amount") for entry in breakdown])
    if breakdown_taxes and isinstance(tax, int) and sum(breakdown_taxes) != tax:
        findings.append(
            warning(
                "tax_mismatch",
                f"The tax per rate adds up to {_show(sum(breakdown_taxes), currency)}, not the "
                f"tax total {_show(tax, currency)}.",
                "tax_amount",
            )
        )
    rate = money.parse_decimal(fields.get("tax_rate"))
    if (
        not breakdown
        and rate is not None
        and isinstance(subtotal, int)
        and isinstance(tax, int)
        and abs(Decimal(subtotal) * rate / 100 - tax) > tolerance
    ):
        findings.append(
            warning(
                "tax_mismatch",
                f"{fields.get('tax_rate')}% of {_show(subtotal, currency)} is not "
                f"{_show(tax, currency)}.",
                "tax_rate",
            )
        )
    return findings


def _date_findings(fields: dict[str, Any]) -> list[dict[str, Any]]:
    invoice_date, due_date = fields.get("invoice_date"), fields.get("due_date")
    if isinstance(invoice_date, str) and isinstance(due_date, str) and due_date < invoice_date:
        return [
            warning(
                "due_date_before_invoice_date",
                f"The due date {due_date} is before the invoice date {invoice_date}.",
                "due_date",
            )
        ]
    return []


def _show(units: int, currency: str | None) -> str:
    return f"{money.from_minor_units(units, currency)} {currency or ''}".strip()


def drop_out_of_range_values(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with each amount or quantity beyond what the API accepts and UBL carries
    (common.invoice_fields.MAX_AMOUNT, MAX_SIGNIFICANT_DIGITS) set to null, each with the
    warning `amount_out_of_range`: a misread or absurd number must not fail the invoice,
    nor reach an export."""
    checked = copy.deepcopy(fields)
    dropped: list[str] = []

    def bound(holder: dict[str, Any], names: tuple[str, ...], path: str) -> None:
        for name in names:
            value = holder.get(name)
            if value is not None and not _in_range(value):
                holder[name] = None
                dropped.append(f"{path}{name}")

    bound(checked, AMOUNT_FIELDS, "")
    for kind, amounts in (
        ("line_items", (*LINE_ITEM_AMOUNTS, *LINE_ITEM_DECIMALS)),
        ("tax_breakdown", TAX_BREAKDOWN_AMOUNTS),
    ):
        for number, item in enumerate(checked.get(kind) or []):
            if isinstance(item, dict):
                bound(item, amounts, f"{kind}.{number}.")
    checked.setdefault("warnings", []).extend(
        warning("amount_out_of_range", f"The value read for {name} is out of range.", name)
        for name in dropped
    )
    return checked


def _in_range(value: Any) -> bool:
    if isinstance(value, int):
        return abs(value) <= MAX_AMOUNT
    try:
        digits = Decimal(str(value)).normalize().as_tuple().digits
    except ArithmeticError:
        return False
    return len(digits) <= MAX_SIGNIFICANT_DIGITS
