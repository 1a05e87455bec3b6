"""Where on its pages an invoice's field values are printed, for the review app to
highlight beside the field a person is checking.

The extraction does not record the words it read each field from (yet), so this finds the
value in the PDF's text layer: the first printed form of it (as stored, and amounts also
with thousands separators or a decimal comma) that occurs. A value printed in several
places is shown in each; a scan without a text layer has no boxes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.accounts.service import Principal
from common.invoice_fields import AMOUNT_FIELDS, SCALAR_FIELDS
from common.invoices.service import read_invoice_file
from common.invoices.ubl_export import currency_exponent

MAX_BOXES = 6  # per field: a value printed all over the page marks nothing useful
MIN_LENGTH = 2  # "0" or "5" would match everywhere


def printed_forms(name: str, value: Any, currency: str | None) -> list[str]:
    """The ways a field's value is likely printed, most specific first."""
    if value is None or isinstance(value, bool | dict | list):
        return []
    if name in AMOUNT_FIELDS and isinstance(value, int):
        exponent = currency_exponent(currency)
        number = Decimal(abs(value)).scaleb(-exponent)
        plain = f"{number:.{exponent}f}"
        grouped = f"{number:,.{exponent}f}"
        european = grouped.replace(",", " ").replace(".", ",").replace(" ", ".")
        return list(dict.fromkeys([grouped, european, plain]))
    text = str(value).strip()
    if len(text) < MIN_LENGTH:
        return []
    # a multi-line value (an address) is searched by its first line
    return [text.splitlines()[0].strip()]


def field_boxes(principal: Principal, invoice_id: str) -> dict[str, list[dict[str, float]]]:
    """{field: [{page, x, y, w, h}]}, the box as fractions of the page's width and height."""
    invoice, data = read_invoice_file(principal, invoice_id)
    if invoice.content_type != "application/pdf" or invoice.status != "succeeded":
        return {}
    import pymupdf  # noqa: PLC0415 - PyMuPDF loads on demand

    from common.mupdf_warnings import forget_mupdf_warnings  # noqa: PLC0415

    fields = invoice.fields or {}
    currency = fields.get("currency")
    found: dict[str, list[dict[str, float]]] = {}
    try:
        with pymupdf.open(stream=data, filetype="pdf") as document:
            for name in SCALAR_FIELDS:
                for form in printed_forms(name, fields.get(name), currency):
                    boxes = _search(document, form)
                    if boxes:
                        found[name] = boxes[:MAX_BOXES]
                        break
    finally:
        forget_mupdf_warnings()
    return found


def _search(document: Any, text: str) -> list[dict[str, float]]:
    boxes = []
    for number, page in enumerate(document, start=1):
        width, height = page.rect.width, page.rect.height
        for rect in page.search_for(text):
            boxes.append(
                {
                    "page": number,
                    "x": round(rect.x0 / width, 4),
                    "y": round(rect.y0 / height, 4),
                    "w": round(rect.width / width, 4),
                    "h": round(rect.height / height, 4),
                }
            )
            if len(boxes) > MAX_BOXES:
                return boxes
    return boxes
