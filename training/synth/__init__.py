"""Synthetic invoices with truth by construction, reproducible from a seed.

`generate(seed)` draws a layout family and a language (unless given), makes the content
(`content.make_content`) and draws it with reportlab (`render.Renderer`); the truth holds only
the values the renderer printed. `render_scan(pdf, seed, variant)` turns a text PDF into an
image-only PDF that looks scanned, photographed or faxed.

Arithmetic (Decimal, ROUND_HALF_UP to the currency's exponent; JPY has none):
- line total = quantity x unit price x (1 - line discount %), rounded: the NET line amount.
  Line tax = line total x rate, rounded (printed only by layouts with a tax column).
- line total sum = sum of line totals (`truth_extra.line_total_amount`).
- A document-level discount (allowance) and shipping charge carry the highest tax rate present.
- subtotal_amount = line total sum - discount + shipping: the tax basis (EN 16931 BT-109, as in
  the development corpus), NOT the sum of the lines when a discount or charge is printed.
- tax per rate = (basis at that rate) x rate, rounded; tax_amount = sum over rates.
- total_amount = subtotal_amount + tax_amount.
- amount_due = total_amount - prepaid (in truth only where an amount-due line is printed).
- discount_amount = the document-level allowance as a positive number (printed with a minus).
- Credit notes: half print every amount, line quantity and line total negative, and their truth
  is negative (subtotal, tax, total, amount_due, line quantity/total/tax); the other half print
  positive amounts under a credit-note title, and their truth is positive.
  `truth_extra.document_type` says which document it is.
- Invoice numbers printed "#4411" have the number "4411" (the '#' is a marker, like "No.").
- Families that print one total line (layouts `single`, `gross`) have no subtotal_amount or
  tax_amount in truth; a table without quantity and unit price columns (`item_price`) gives
  lines with null quantity and unit_price.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from .content import exponent, make_content
from .layouts import FAMILIES, LAYOUT_FAMILIES
from .render import Renderer
from .scan import render_scan
from .vocab import LANGUAGES

__all__ = ["LANGUAGES", "LAYOUT_FAMILIES", "SyntheticInvoice", "generate", "render_scan"]


@dataclass
class SyntheticInvoice:
    seed: int
    pdf: bytes
    truth: dict
    truth_extra: dict
    layout: str
    language: str
    document_type: str
    page_count: int
    printed_total: str  # the total as printed, in the document's number and currency format
    number_style: object  # content.NumberStyle: thousands and decimal separators
    whole_lines: bool = False  # the table prints line amounts without decimals ("$12,500")

    def format_number(self, value):
        """A truth amount string as this document prints a plain number."""
        places = max(0, -Decimal(value).as_tuple().exponent)
        return self.number_style.format(Decimal(value), places)

    def format_line_total(self, value):
        """A truth line total as this document's table prints it, without the currency (and,
        in whole-amount tables, without the sign, which stands before the symbol: "-$100")."""
        if self.whole_lines:
            return self.number_style.format(abs(Decimal(value)), 0)
        return self.format_number(value)


def generate(seed: int, *, layout: int | None = None, language: str | None = None):
    """The invoice of `seed`; `layout` 1..len(LAYOUT_FAMILIES) and `language` pin those draws."""
    if layout is not None and not 1 <= layout <= len(FAMILIES):
        raise ValueError(f"layout must be 1..{len(FAMILIES)}, not {layout!r}")
    rng = random.Random(f"synth:{seed}:choice")
    family = FAMILIES[layout - 1] if layout else rng.choice(FAMILIES)
    if language:
        lang = language
    elif family.languages and rng.random() < 0.8:
        lang = rng.choice(family.languages)
    else:
        lang = "en" if family.us and rng.random() < 0.9 else rng.choice(LANGUAGES)
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    content = make_content(
        random.Random(f"synth:{seed}:content"), lang, us_dates=family.us, habits=family.habits
    )
    renderer = Renderer(content, family, random.Random(f"synth:{seed}:render"))
    pdf = renderer.render()
    if renderer.page > 1:  # draw again now that "Page n of m" can be numbered
        renderer = Renderer(
            content, family, random.Random(f"synth:{seed}:render"), total_pages=renderer.page
        )
        pdf = renderer.render()
    truth, extra = _truth(content, renderer, family)
    return SyntheticInvoice(
        seed=seed,
        pdf=pdf,
        truth=truth,
        truth_extra=extra,
        layout=family.id,
        language=lang,
        document_type=content.document_type,
        page_count=renderer.page,
        printed_total=content.money_style.format(content.signed(content.total)),
        number_style=content.money_style.numbers,
        whole_lines=family.whole,
    )


def _truth(c, renderer, family):
    places = exponent(c.currency)
    amount = lambda v: f"{c.signed(v):.{places}f}"  # noqa: E731
    printed = renderer.printed
    only_total = family.totals in ("single", "gross")
    truth = {
        "invoice_number": printed["invoice_number"],
        "invoice_date": printed["invoice_date"],
        "due_date": printed.get("due_date"),
        "currency": c.currency,
        "vendor_name": printed["vendor_name"],
        "vendor_tax_id": printed.get("vendor_tax_id"),
        "customer_name": printed["customer_name"],
        # families printing one total line print neither subtotal nor tax
        "subtotal_amount": None if only_total else amount(c.subtotal),
        "tax_amount": None if only_total else amount(c.tax),
        "total_amount": amount(c.total),
        "line_items": renderer.line_truth,
        "vendor_address": printed.get("vendor_address"),
        "customer_address": printed.get("customer_address"),
        "customer_tax_id": printed.get("customer_tax_id"),
        "vendor_email": printed.get("vendor_email"),
        "vendor_phone": printed.get("vendor_phone"),
        "iban": printed.get("iban"),
        "bic": printed.get("bic"),
        "payment_terms": printed.get("payment_terms"),
        "payment_reference": printed.get("payment_reference"),
        "amount_due": amount(printed["amount_due"]) if "amount_due" in printed else None,
        "discount_amount": (
            f"{printed['discount_amount']:.{places}f}" if "discount_amount" in printed else None
        ),
    }
    truth = {k: v for k, v in truth.items() if v is not None}
    extra = {
        "producer": f"synth-{family.id}",
        "language": c.language,
        "document_type": c.document_type,
        "line_total_amount": amount(c.line_total),
        "allowance_amount": f"{c.discount:.{places}f}",  # document-level, positive
        "charge_amount": f"{c.shipping:.{places}f}",  # shipping, positive
        "tax_breakdown": [
            {"rate": f"{r.normalize():f}", "basis": amount(b), "tax": amount(t)}
            for r, b, t in c.tax_breakdown
        ],
        "pages": renderer.page,
    }
    return truth, extra
