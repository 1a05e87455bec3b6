"""Where on its pages each of an invoice's fields was read, for the review app to outline
beside the field a person is checking.

The extraction records the line it read each value from (`field_sources`, from the words
of a text layer or of OCR). A field without one (read from an e-invoice's XML, chosen by the
ranker, or extracted before sources were recorded) is looked for in the PDF's text layer:
the first printed form of its value (as stored, and amounts also with thousands separators
or a decimal comma) that occurs, in each place it occurs.
"""

from __future__ import annotations

from typing import Any

from common.accounts.service import Principal
from common.invoice_fields import AMOUNT_FIELDS, SCALAR_FIELDS
from common.invoices.service import get_invoice, read_invoice_file
from common.money import currency_exponent, from_minor_units

MAX_BOXES = 6  # per field: a value printed all over the page marks nothing useful
MIN_LENGTH = 2  # "0" or "5" would match everywhere


def printed_forms(name: str, value: Any, currency: str | None) -> list[str]:
    """The ways a field's value is likely printed, most specific first."""
    if value is None or isinstance(value, bool | dict | list):
        return []
    if name in AMOUNT_FIELDS and isinstance(value, int):
        exponent = currency_exponent(currency)
        number = from_minor_units(abs(value), currency)
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
    invoice = get_invoice(principal, invoice_id)  # 404 for another organisation's
    if invoice.status != "succeeded":
        return {}
    fields = invoice.fields or {}
    found: dict[str, list[dict[str, float]]] = {
        name: [box]
        for name, box in (fields.get("field_sources") or {}).items()
        if name in SCALAR_FIELDS and isinstance(box, dict)
    }
    missing = [n for n in SCALAR_FIELDS if n not in found and fields.get(n) is not None]
    if invoice.content_type != "application/pdf" or not missing:
        return found
    _, data = read_invoice_file(principal, invoice_id)
    import pymupdf  # noqa: PLC0415 - PyMuPDF loads on demand

    from common.mupdf_warnings import forget_mupdf_warnings  # noqa: PLC0415

    currency = fields.get("currency")
    try:
        with pymupdf.open(stream=data, filetype="pdf") as document:
            for name in missing:
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
