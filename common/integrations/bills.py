"""An approved invoice as the lines of a supplier bill, in the provider-neutral form both
publishers turn into their own: amounts in major units (Decimal), each line's tax code from
the organisation's mapping of tax rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from common.integrations.service import normalise_rate
from common.money import currency_exponent

MAX_LINES = 500
MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class BillLine:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal  # net of tax
    tax_rate: str | None  # "19.00"
    tax_code: str | None


@dataclass(frozen=True)
class Bill:
    reference: str  # the Invex invoice ID
    number: str | None
    date: str | None  # YYYY-MM-DD
    due_date: str | None
    currency: str | None
    vendor_name: str
    vendor_tax_id: str | None
    vendor_email: str | None
    lines: list[BillLine]
    expense_account: str | None
    total: Decimal | None


class Publisher(Protocol):
    """What a provider's publisher does (common/integrations/xero.py, quickbooks.py); each
    call answers the external ID the provider gave."""

    def find_or_create_vendor(self, bill: Bill) -> str: ...
    def create_bill(self, bill: Bill, vendor_id: str, idempotency_key: str) -> str: ...
    def attach(
        self,
        external_id: str,
        file_name: str,
        content_type: str,
        data: bytes,
        idempotency_key: str,
    ) -> str: ...


def _major(units: Any, exponent: int) -> Decimal | None:
    if units is None or units == "":
        return None
    return (Decimal(str(units)) / (Decimal(10) ** exponent)).quantize(Decimal(10) ** -exponent)


def _decimal(value: Any, default: Decimal) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else default
    except ArithmeticError:
        return default


def bill_from_invoice(invoice_id: str, fields: dict[str, Any], mapping: dict[str, Any]) -> Bill:
    """The bill for `fields` (an invoice's, as the contract shows them). Each line item is a
    line; an invoice without line items is one line of its subtotal (or total less tax)."""
    currency = fields.get("currency")
    exponent = currency_exponent(currency)
    codes: dict[str, str] = mapping.get("tax_codes") or {}
    invoice_rate = normalise_rate(fields.get("tax_rate"))
    lines: list[BillLine] = []
    for item in (fields.get("line_items") or [])[:MAX_LINES]:
        quantity = _decimal(item.get("quantity"), Decimal(1))
        total = _major(item.get("total_price"), exponent)
        unit = _major(item.get("unit_price"), exponent)
        if total is None and unit is not None:
            total = unit * quantity
        if total is None:
            continue
        if unit is None or unit * quantity != total:
            # what the supplier charged counts, not a rounded unit price
            quantity, unit = Decimal(1), total
        rate = normalise_rate(item.get("tax_rate")) or invoice_rate
        lines.append(
            BillLine(
                description=str(item.get("description") or "Item")[:MAX_DESCRIPTION],
                quantity=quantity,
                unit_amount=unit,
                line_amount=total,
                tax_rate=rate,
                tax_code=codes.get(rate) if rate else None,
            )
        )
    if not lines:
        net = _major(fields.get("subtotal_amount"), exponent)
        if net is None:
            total = _major(fields.get("total_amount"), exponent) or Decimal(0)
            tax = _major(fields.get("tax_amount"), exponent) or Decimal(0)
            net = total - tax
        number = fields.get("invoice_number")
        lines.append(
            BillLine(
                description=f"Invoice {number}" if number else "Invoice",
                quantity=Decimal(1),
                unit_amount=net,
                line_amount=net,
                tax_rate=invoice_rate,
                tax_code=codes.get(invoice_rate) if invoice_rate else None,
            )
        )
    return Bill(
        reference=invoice_id,
        number=fields.get("invoice_number"),
        date=fields.get("invoice_date"),
        due_date=fields.get("due_date"),
        currency=currency,
        vendor_name=str(fields.get("vendor_name") or "Unknown supplier")[:255],
        vendor_tax_id=fields.get("vendor_tax_id") or None,
        vendor_email=fields.get("vendor_email") or None,
        lines=lines,
        expense_account=mapping.get("expense_account"),
        total=_major(fields.get("total_amount"), exponent),
    )
