"""Draws an invoice with reportlab and records which values it printed (the truth)."""

import datetime as dt
import io
import os
from decimal import Decimal

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .content import Content, exponent
from .habits import ITEM_PRICE_HEADS, SERVICE_DATE, SMALL_BUSINESS_NOTE, HabitHeader
from .layouts import COLUMN_SETS, Family
from .vocab import EXEMPT_NOTE, INLINE_META, LABELS, TERMS, THANKS

# Binary (deflated) streams instead of ASCII85: smaller and faster; nothing else in the
# service draws with reportlab.
rl_config.useA85 = 0

STANDARD_FONTS = [
    ("Helvetica", "Helvetica-Bold"),
    ("Times-Roman", "Times-Bold"),
    ("Courier", "Courier-Bold"),
]
_TTF_DIR = "/usr/share/fonts/truetype/dejavu"
_TTF = [
    ("DejaVuSans", "DejaVuSans-Bold"),
    ("DejaVuSerif", "DejaVuSerif-Bold"),
    ("DejaVuSansCondensed", "DejaVuSansCondensed-Bold"),
]


def _font_pairs():
    pairs = list(STANDARD_FONTS)
    for regular, bold in _TTF:
        paths = [os.path.join(_TTF_DIR, f"{name}.ttf") for name in (regular, bold)]
        if all(os.path.exists(p) for p in paths):
            for name, path in zip((regular, bold), paths, strict=True):
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, path))
            pairs.append((regular, bold))
    return pairs


FONT_PAIRS = _font_pairs()
ACCENTS = [
    (0, 0, 0),
    (0.1, 0.2, 0.45),
    (0.55, 0.1, 0.1),
    (0.05, 0.35, 0.3),
    (0.3, 0.3, 0.3),
    (0.45, 0.25, 0.05),
    (0.2, 0.1, 0.4),
]
EN_TAX_NAMES = {
    "GB": {"tax": ["VAT", "VAT", "Total VAT"], "tax_rate": ["VAT %", "VAT rate"]},
    "US": {
        "tax": ["Sales Tax", "Tax", "Sales tax"],
        "tax_rate": ["Tax %", "Tax rate"],
        "line_tax": ["Tax", "Tax Amount"],
        "vat_id": ["EIN", "Tax ID", "Federal Tax ID"],
    },
    "AU": {
        "tax": ["GST", "Total GST", "GST"],
        "tax_rate": ["GST %", "GST"],
        "line_tax": ["GST"],
        "vat_id": ["ABN", "A.B.N."],
    },
    "IN": {
        "tax": ["GST", "IGST", "Total GST"],
        "tax_rate": ["GST %", "GST Rate"],
        "line_tax": ["GST Amt", "GST"],
        "vat_id": ["GSTIN", "GSTIN No."],
    },
    "CA": {
        "tax": ["GST/HST", "HST", "GST"],
        "tax_rate": ["HST %", "Tax %"],
        "line_tax": ["HST", "Tax"],
        "vat_id": ["GST/HST No.", "BN", "GST Reg. No."],
    },
}
COLUMN_WEIGHT = {
    "pos": 0.5,
    "article": 1.0,
    "description": 0,
    "quantity": 0.7,
    "unit": 0.6,
    "unit_price": 1.1,
    "line_discount": 0.7,
    "tax_rate": 0.7,
    "line_tax": 1.0,
    "net_total": 1.2,
    "gross_total": 1.2,
}
NUMERIC = {
    "quantity",
    "unit_price",
    "line_discount",
    "tax_rate",
    "line_tax",
    "net_total",
    "gross_total",
}


SANS = [p for p in FONT_PAIRS if "Sans" in p[0] or p[0] == "Helvetica"]
SERIF = [p for p in FONT_PAIRS if "Serif" in p[0] or p[0] == "Times-Roman"]


class Renderer(HabitHeader):
    """One pass over the page(s). Every random choice comes from `rng` in a fixed order, so a
    second pass with a fresh rng of the same seed draws the same document."""

    def __init__(self, content: Content, family: Family, rng, total_pages=None):
        self.c = content
        self.f = family
        self.rng = rng
        self.total_pages = total_pages
        self.printed = {}
        self.line_truth = []
        self.size = LETTER if family.us else A4
        self.width, self.height = self.size
        self.regular, self.bold = rng.choice(FONT_PAIRS)
        self.base = rng.choice([8, 8.5, 9, 9, 9.5, 10])
        self.accent = rng.choice(ACCENTS)
        self.margin = rng.choice([36, 42, 50, 56, 64])
        self.case = rng.choice(["as_is", "as_is", "upper", "title"])
        self.colon = rng.random() < 0.6
        self._labels = {}
        self.page = 1
        # drawn now so that both passes (page count unknown, then known) use the same numbers
        self.page_template = rng.choice(LABELS["page"][content.language])
        self.footer_payment = []
        self.title_font = None
        if family.look:
            self.apply_look()

    def apply_look(self):
        """Fonts as HTML and TeX renderers set them: sans with a light title, serif, or both."""
        look = self.f.look
        pair = self.rng.choice(SERIF if look == "serif" else SANS)
        self.regular, self.bold = pair
        if look == "mixed":
            self.title_font = self.rng.choice(SERIF)[1]
        elif look == "html":
            self.title_font = self.regular
            self.base = self.rng.choice([8, 8.5, 9, 9.5])
            self.case = "as_is"

    # --- vocabulary -----------------------------------------------------------------------
    def label(self, name, colon=None, **values):
        if name not in self._labels:
            choices = LABELS[name][self.c.language]
            if self.c.language == "en":  # English-speaking countries name their taxes apart
                choices = EN_TAX_NAMES.get(self.c.vendor.country, {}).get(name, choices)
            self._labels[name] = self.rng.choice(choices)
        text = self._labels[name].format(**values) if values else self._labels[name]
        if self.case == "upper":
            text = text.upper()
        elif self.case == "title" and text[:1].islower():
            text = text[:1].upper() + text[1:]
        use_colon = self.colon if colon is None else colon
        return text + (":" if use_colon and not text.endswith(":") else "")

    def money(self, value, sign=True):
        return self.c.money_style.format(self.c.signed(value) if sign else value)

    def number(self, value, places):
        return self.c.money_style.numbers.format(value, places)

    def rate(self, rate):
        places = max(0, -rate.normalize().as_tuple().exponent)
        return self.number(rate, places) + " %"

    # --- drawing --------------------------------------------------------------------------
    def text(self, x, y, s, size=None, bold=False, align="left", color=None, font=None):
        font = font or (self.bold if bold else self.regular)
        self.canvas.setFont(font, size or self.base)
        self.canvas.setFillColorRGB(*(color or (0, 0, 0)))
        if align == "right":
            self.canvas.drawRightString(x, y, s)
        elif align == "center":
            self.canvas.drawCentredString(x, y, s)
        else:
            self.canvas.drawString(x, y, s)

    def width_of(self, s, size=None, bold=False):
        return pdfmetrics.stringWidth(s, self.bold if bold else self.regular, size or self.base)

    def wrap(self, s, width, size=None):
        words, lines, current = s.split(), [], ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and self.width_of(trial, size) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        return [*lines, current] if current else lines

    def rule(self, x1, y, x2, width=0.5, color=None):
        self.canvas.setStrokeColorRGB(*(color or self.accent))
        self.canvas.setLineWidth(width)
        self.canvas.line(x1, y, x2, y)

    # --- the document ---------------------------------------------------------------------
    def render(self):
        buffer = io.BytesIO()
        self.canvas = Canvas(buffer, pagesize=self.size, invariant=1, pageCompression=1)
        self.canvas.setTitle(f"{self.label('invoice', colon=False)} {self.c.number}")
        self.canvas.setAuthor(self.c.vendor.name if self.rng.random() < 0.5 else "")
        y = self.header()
        y = self.table(y)
        y = self.totals(y)
        self.payment_and_notes(y)
        self.page_end()
        self.canvas.save()
        return buffer.getvalue()

    def header(self):
        if self.f.parties:
            return self.habit_header()
        c, top = self.c, self.height - self.margin
        left, right = self.margin, self.width - self.margin
        v = c.vendor
        vendor_lines = [v.name, *v.address_lines]
        self.printed["vendor_name"] = v.name
        logo = self.rng.random() < 0.5
        if self.f.vendor in ("top_left", "top_right", "centered"):
            self.printed["vendor_address"] = "\n".join(v.address_lines)
            contact = []
            if self.rng.random() < 0.7:
                contact.append(f"{self.label('phone')} {v.phone}")
                self.printed["vendor_phone"] = v.phone
            if self.rng.random() < 0.7:
                contact.append(f"{self.label('email')} {v.email}")
                self.printed["vendor_email"] = v.email
            if v.tax_id and self.rng.random() < 0.6:
                contact.append(f"{self.label('vat_id')} {v.tax_id_printed}")
                self.printed["vendor_tax_id"] = v.tax_id
            name_size = self.base + self.rng.choice([3, 5, 7])
            y = top - name_size
            if self.f.vendor == "centered":
                if logo:
                    self.logo(self.width / 2 - 14, y + 4)
                    y -= 34
                self.text(self.width / 2, y, v.name, name_size, True, "center", self.accent)
                y -= self.base + 4
                joined = " · ".join(vendor_lines[1:]) if self.rng.random() < 0.6 else None
                for line in ([joined] if joined else vendor_lines[1:]) + contact:
                    self.text(self.width / 2, y, line, self.base - 0.5, align="center")
                    y -= self.base + 1.5
            else:
                x, align = (left, "left") if self.f.vendor == "top_left" else (right, "right")
                if logo:
                    lx = right - 40 if self.f.vendor == "top_left" else left
                    self.logo(lx, y - 6)
                self.text(x, y, v.name, name_size, True, align, self.accent)
                y -= self.base + 5
                for line in vendor_lines[1:] + contact:
                    self.text(x, y, line, self.base - 0.5, align=align)
                    y -= self.base + 1.5
            y -= 22  # room for a large title under the letterhead
        else:  # sender_line: the vendor shows only in a small line and in the footer
            y = top - 20
            if logo:
                self.logo(right - 40, top - 40)
                y = top - 50
            if self.rng.random() < 0.5:
                self.text(left, top - 18, v.name, self.base + 6, True, color=self.accent)
            y -= 30
        return self.parties_and_meta(y)

    def logo(self, x, y):
        initials = "".join(w[0] for w in self.c.vendor.name.split()[:2] if w[:1].isalpha())
        shape = self.rng.randrange(3)
        self.canvas.setFillColorRGB(*self.accent)
        if shape == 0:
            self.canvas.circle(x + 14, y + 10, 14, stroke=0, fill=1)
        elif shape == 1:
            self.canvas.rect(x, y - 4, 30, 28, stroke=0, fill=1)
        else:
            self.canvas.roundRect(x, y - 4, 36, 26, 6, stroke=0, fill=1)
        self.text(
            x + 14 + (4 if shape == 2 else 0),
            y + 6,
            initials.upper() or "X",
            11,
            True,
            "center",
            (1, 1, 1),
        )

    def meta_items(self):
        c = self.c
        hash_in_label = "#" in self.label("invoice_number")
        number = ("#" if c.hash_number and not hash_in_label else "") + c.number
        items = [("invoice_number", number), ("invoice_date", c.date(c.issue_date))]
        self.printed["invoice_number"] = c.number
        self.printed["invoice_date"] = c.issue_date.isoformat()
        if c.due_date and self.f.prints_due_date and self.rng.random() < 0.85:
            items.append(("due_date", c.date(c.due_date)))
            self.printed["due_date"] = c.due_date.isoformat()
        if c.delivery_date:
            items.append(("delivery_date", c.date(c.delivery_date)))
        if self.rng.random() < 0.5:
            items.append(("customer_number", c.customer_number))
        if c.order_ref:
            items.append(("order_ref", c.order_ref))
        if not c.money_style.code_printed or self.rng.random() < 0.2:
            items.append(("currency", c.currency))
        if c.customer.tax_id and self.rng.random() < 0.4:
            items.append(("vat_id_customer", c.customer.tax_id_printed))
            self.printed["customer_tax_id"] = c.customer.tax_id
        return items

    def meta_label(self, key):
        if key == "vat_id_customer":
            prefix = {
                "en": "Customer",
                "de": "Kunden-",
                "fr": "Client",
                "es": "Cliente",
                "it": "Cliente",
                "nl": "Klant",
                "pt": "Cliente",
            }[self.c.language]
            return f"{prefix} {self.label('vat_id')}".replace("- ", "-")
        return self.label(key)

    def title(self):
        return self.label(
            "credit_note" if self.c.document_type == "credit_note" else "invoice", colon=False
        )

    def parties_and_meta(self, y):
        left, right = self.margin, self.width - self.margin
        c = self.c
        window_x = left if self.f.customer in ("window_left", "bill_ship") else right - 220
        party = c.customer
        window_w = max(
            self.width_of(party.name, self.base + 1, True),
            *(self.width_of(line) for line in party.address_lines),
        )
        window_x = min(window_x, right - window_w)
        if self.f.vendor == "sender_line":  # over the address window, as on a window envelope
            v = c.vendor
            sender = " · ".join([v.name, *v.address_lines[:2]])
            size = self.base - 2.5
            sx = min(window_x, right - self.width_of(sender, size))
            self.text(sx, y, sender, size)
            self.rule(sx, y - 2, sx + self.width_of(sender, size), 0.3, (0, 0, 0))
            y -= self.base + 8
        meta_x = max(right - 200, left + window_w + 16) if window_x == left else left
        items = self.meta_items()
        title = self.title()
        customer_top = y
        if self.f.customer == "bill_ship":
            y_end = self.party_block(left, y, c.customer, "bill_to")
            if c.ship_to:
                y_end = min(
                    y_end, self.party_block(left + 220, y, c.ship_to, "ship_to", customer=False)
                )
        elif self.f.customer != "below_meta":
            label = self.label("bill_to") if self.rng.random() < 0.3 else None
            y_end = self.party_block(window_x, y, c.customer, label and "bill_to")
        else:
            y_end = y
        # meta beside the window (stacked/grid) or below it (row/inline)
        if self.f.meta in ("stacked", "grid") and self.f.customer in (
            "window_left",
            "window_right",
        ):
            meta_y = customer_top
            self.text(
                meta_x,
                meta_y,
                title.upper() if self.rng.random() < 0.5 else title,
                self.base + 6,
                True,
                color=self.accent,
            )
            meta_y -= self.base + 12
            meta_y = self.meta_block(meta_x, meta_y, items, 200)
            y = min(y_end, meta_y) - 18
        else:
            y = y_end - 16
            if self.f.meta != "inline":
                self.text(
                    left,
                    y,
                    title.upper() if self.rng.random() < 0.5 else title,
                    self.base + 7,
                    True,
                    color=self.accent,
                )
                y -= self.base + 14
            y = self.meta_block(left, y, items, right - left) - 12
            if self.f.customer == "below_meta":
                y = self.party_block(left, y, c.customer, "bill_to") - 16
        return y

    def party_block(self, x, y, party, label_key, customer=True):
        if label_key:
            self.text(x, y, self.label(label_key), self.base - 1, True, color=self.accent)
            y -= self.base + 3
        self.text(x, y, party.name, self.base + 1, self.rng.random() < 0.5)
        y -= self.base + 3
        for line in party.address_lines:
            self.text(x, y, line, self.base)
            y -= self.base + 2
        if customer:
            self.printed["customer_name"] = party.name
            self.printed["customer_address"] = "\n".join(party.address_lines)
        return y

    def meta_block(self, x, y, items, width):
        style = self.f.meta
        if style == "stacked":
            label_w = max(self.width_of(self.meta_label(k)) for k, _ in items) + 10
            value_w = max(self.width_of(v, bold=True) for _, v in items)
            x = min(x, self.width - self.margin - label_w - value_w)
            for key, value in items:
                self.text(x, y, self.meta_label(key))
                self.text(x + label_w, y, value, bold=key == "invoice_number")
                y -= self.base + 4
            return y
        if style == "grid":
            cols = 2
            widest = max(
                max(self.width_of(self.meta_label(k), self.base - 1.5), self.width_of(v))
                for k, v in items
            )
            cell_w, cell_h = max(width / cols, widest + 10), self.base * 2 + 10
            x = min(x, self.width - self.margin - cols * cell_w)
            rows = (len(items) + cols - 1) // cols
            self.canvas.setStrokeColorRGB(*self.accent)
            self.canvas.setLineWidth(0.5)
            for i, (key, value) in enumerate(items):
                cx, cy = x + (i % cols) * cell_w, y - (i // cols) * cell_h
                self.canvas.rect(cx, cy - cell_h + self.base + 2, cell_w, cell_h, stroke=1, fill=0)
                self.text(
                    cx + 4, cy, self.meta_label(key).rstrip(":"), self.base - 1.5, color=self.accent
                )
                self.text(cx + 4, cy - self.base - 3, value)
            return y - rows * cell_h
        if style == "row":  # one row of columns, or two when they would not fit
            cells = [
                (
                    self.meta_label(k).rstrip(":"),
                    v,
                    max(
                        self.width_of(self.meta_label(k), self.base - 1.5, bold=True),
                        self.width_of(v),
                    )
                    + 12,
                )
                for k, v in items
            ]
            rows = [cells]
            if sum(c[2] for c in cells) > width:
                half = (len(cells) + 1) // 2
                rows = [cells[:half], cells[half:]]
            for row in rows:
                gap = max(0, (width - sum(c[2] for c in row)) / max(1, len(row)))
                cx = x
                for label, value, cell_w in row:
                    self.text(cx, y, label, self.base - 1.5, True, color=self.accent)
                    self.text(cx, y - self.base - 3, value)
                    cx += cell_w + gap
                self.rule(x, y - self.base - 7, x + width, 0.4)
                y -= 2 * self.base + 14
            return y + 4
        # inline: a sentence with number and date, the rest stacked small below it
        number = ("#" if self.c.hash_number else "") + self.c.number
        sentence = self.rng.choice(INLINE_META[self.c.language]).format(
            title=self.title(), n=number, d=self.c.date(self.c.issue_date)
        )
        self.text(x, y, sentence, self.base + 4, True)
        y -= self.base + 12
        rest = [(k, v) for k, v in items if k not in ("invoice_number", "invoice_date")]
        for key, value in rest:
            self.text(x, y, f"{self.meta_label(key)} {value}", self.base - 0.5)
            y -= self.base + 3
        return y

    # --- table ----------------------------------------------------------------------------
    def columns(self):
        cols = list(COLUMN_SETS[self.f.columns])
        has_disc = any(ln.discount_pct for ln in self.c.lines)
        if has_disc and "line_discount" not in cols:
            cols.insert(cols.index("net_total"), "line_discount")
        if not has_disc and "line_discount" in cols and self.rng.random() < 0.5:
            cols.remove("line_discount")
        return cols

    def header_label(self, col):
        lang = self.c.language
        if col == "hash":
            return "#"
        if col == "service_date":
            return self._head("service_date", SERVICE_DATE[lang])
        if self.f.columns == "item_price" and col in ("description", "net_total"):
            heads = self._head("item_price", ITEM_PRICE_HEADS[lang])
            return heads[col == "net_total"]
        label = self.label(col, colon=False)
        if col in ("net_total", "gross_total") and not self.c.money_style.code_printed:
            label = f"{label} ({self.c.currency})"
        return label

    def _head(self, key, choices):
        if key not in self._labels:
            self._labels[key] = self.rng.choice(choices)
        return self._labels[key]

    def layout_columns(self, cols, cells):
        """Each column as wide as its widest cell or head; the description takes the rest.
        Optional columns go when the table would not fit the page."""
        left, right = self.margin, self.width - self.margin
        widths = {}
        for col in cols:
            if col == "description":
                continue
            widest = max((self.width_of(row[col]) for row in cells), default=0)
            widths[col] = max(widest, self.width_of(self.header_label(col), bold=True)) + 10
        for optional in ("article", "unit", "pos", "gross_total", "line_tax", "line_discount"):
            if right - left - sum(widths.values()) >= 120:
                break
            if optional in widths and not (
                optional == "line_discount" and any(ln.discount_pct for ln in self.c.lines)
            ):
                del widths[optional]
        cols = [col for col in cols if col == "description" or col in widths]
        widths["description"] = max(90, right - left - sum(widths.values()))
        xs, x = {}, left
        for col in cols:
            xs[col] = (x, x + widths[col])
            x += widths[col]
        return cols, xs

    def table_header(self, y, cols, xs):
        style = self.f.table
        h = self.base + 8
        if style in ("boxed", "zebra") or self.rng.random() < 0.3:
            self.canvas.setFillColorRGB(
                *[0.85 + 0.15 * a for a in self.accent] if style != "boxed" else self.accent
            )
            self.canvas.rect(self.margin, y - 5, self.width - 2 * self.margin, h, stroke=0, fill=1)
        color = (1, 1, 1) if style == "boxed" else self.accent
        for col in cols:
            x0, x1 = xs[col]
            label = self.header_label(col)
            if col in NUMERIC:
                self.text(x1 - 3, y, label, self.base - 0.5, True, "right", color)
            else:
                self.text(x0 + 3, y, label, self.base - 0.5, True, color=color)
        if style in ("ruled", "plain"):
            self.rule(self.margin, y - 5, self.width - self.margin, 0.8)
        return y - h - 2

    def footer_reserve(self):
        return self.margin + {"columns": 70, "register": 40}.get(self.f.footer, 30)

    def cells(self, i, ln):
        c, sign = self.c, -1 if self.c.credit_negative else 1
        values = {
            "pos": str(i + 1),
            "article": ln.article,
            "quantity": self.number(sign * ln.quantity, ln.quantity_places),
            "unit": ln.unit,
            "unit_price": self.number(ln.unit_price, ln.price_places),
            "line_discount": (self.number(ln.discount_pct, 1 if ln.discount_pct % 1 else 0) + " %")
            if ln.discount_pct
            else "",
            "tax_rate": self.rate(ln.tax_rate),
            "line_tax": self.number(sign * ln.tax, exponent(c.currency)),
            "net_total": self.number(sign * ln.net, exponent(c.currency)),
            "gross_total": self.number(sign * ln.gross, exponent(c.currency)),
        }
        if c.money_style.mode.startswith("symbol") and self.rng.random() < 0.3:
            values["net_total"] = self.money(ln.net)
        if self.f.whole:  # "$12,500": symbol, no decimals
            whole = c.money_style.format
            values["unit_price"] = ("-" if ln.unit_price < 0 else "") + whole(abs(ln.unit_price), 0)
            values["net_total"] = ("-" if sign * ln.net < 0 else "") + whole(abs(ln.net), 0)
        values["hash"] = str(i + 1)
        if self.service_dates:
            values["service_date"] = c.date(self.service_dates[i])
        return values

    def table(self, y):
        c = self.c
        self.service_dates = []
        if self.f.parties:  # dates of service, the oldest first, up to the issue date
            back = sorted(self.rng.randrange(40) for _ in c.lines)[::-1]
            self.service_dates = [c.issue_date - dt.timedelta(days=d) for d in back]
        cells = [self.cells(i, ln) for i, ln in enumerate(c.lines)]
        cols, xs = self.layout_columns(self.columns(), cells)
        y = self.table_header(y, cols, xs)
        sign = -1 if c.credit_negative else 1
        running = Decimal(0)
        prints_unit = "unit" in cols
        desc_w = xs["description"][1] - xs["description"][0] - 6
        for i, ln in enumerate(c.lines):
            desc_lines = self.wrap(ln.description, desc_w)
            extra = self.wrap(ln.detail, desc_w, self.base - 1.5) if ln.detail else []
            if ln.detail and "\n" in ln.detail:  # bullet points, each wrapped on its own
                extra = [
                    part
                    for point in ln.detail.split("\n")
                    for part in self.wrap(f"• {point}", desc_w - 6, self.base - 1.5)
                ]
            row_h = (self.base + 3) * len(desc_lines) + (self.base + 1) * len(extra) + 4
            if y - row_h < self.footer_reserve() + 20:
                self.carry(y, running, xs, forward=True)
                self.page_end()
                self.canvas.showPage()
                self.page += 1
                y = self.height - self.margin - 10
                self.text(self.margin, y, f"{self.title()} {c.number}", self.base, True)
                y -= self.base + 12
                y = self.table_header(y, cols, xs)
                y = self.carry(y, running, xs, forward=False)
            if self.f.table == "zebra" and i % 2 == 1:
                self.canvas.setFillColorRGB(0.93, 0.93, 0.93)
                self.canvas.rect(
                    self.margin,
                    y - row_h + self.base + 1,
                    self.width - 2 * self.margin,
                    row_h,
                    stroke=0,
                    fill=1,
                )
            qty = sign * ln.quantity
            values = cells[i]
            for col in cols:
                x0, x1 = xs[col]
                if col == "description":
                    yy = y
                    for part in desc_lines:
                        self.text(x0 + 3, yy, part)
                        yy -= self.base + 3
                    for part in extra:
                        self.text(x0 + 9, yy, part, self.base - 1.5, color=(0.35, 0.35, 0.35))
                        yy -= self.base + 1
                elif col in NUMERIC:
                    self.text(x1 - 3, y, values[col], align="right")
                else:
                    self.text(x0 + 3, y, values[col])
            y -= row_h
            if self.f.table == "ruled":
                self.rule(
                    self.margin, y + self.base - 1, self.width - self.margin, 0.25, (0.6, 0.6, 0.6)
                )
            running += ln.net
            places = exponent(c.currency)
            self.line_truth.append(
                {
                    "description": " ".join(ln.description.split()),
                    "quantity": f"{qty:.{ln.quantity_places}f}" if "quantity" in cols else None,
                    "unit_price": (
                        f"{ln.unit_price:.{ln.price_places}f}" if "unit_price" in cols else None
                    ),
                    "total": f"{sign * ln.net:.{places}f}",
                    "unit": ln.unit if prints_unit else None,
                    "tax_rate": (f"{ln.tax_rate.normalize():f}" if "tax_rate" in cols else None),
                    "tax_amount": f"{sign * ln.tax:.{places}f}" if "line_tax" in cols else None,
                }
            )
        if self.f.table == "boxed":
            self.rule(self.margin, y + self.base - 1, self.width - self.margin, 1)
        return y - 6

    def carry(self, y, running, xs, forward):
        key = "carried_forward" if forward else "brought_forward"
        label = self.label(key, colon=False, p=self.page - 1)
        x1 = xs["net_total"][1] - 3
        self.text(xs["description"][0] + 3, y - 2, label, self.base, True)
        self.text(x1, y - 2, self.money(running), self.base, True, "right")
        return y - self.base - 10

    # --- totals ---------------------------------------------------------------------------
    def totals(self, y):
        c = self.c
        if self.f.totals in ("single", "gross"):  # one line: the total, tax included or none
            rows, breakdown_table = [(self.label("total"), self.money(c.total), True)], False
        else:
            rows = []
            if c.discount or c.shipping:
                rows.append((self.label("line_total_sum"), self.money(c.line_total), False))
                if c.discount:
                    label = self.label("doc_discount")
                    if c.discount_pct:
                        label = f"{label.rstrip(':')} {c.discount_pct} %" + (
                            ":" if self.colon else ""
                        )
                    rows.append((label, "-" + self.money(c.discount, sign=False), False))
                    self.printed["discount_amount"] = c.discount
                if c.shipping:
                    rows.append((self.label("shipping"), self.money(c.shipping), False))
            rows.append((self.label("subtotal"), self.money(c.subtotal), False))
            breakdown_table = self.f.totals == "breakdown" and self.rng.random() < 0.7
            if not breakdown_table:
                if len(c.tax_breakdown) == 1 and self.rng.random() < 0.4:
                    rows.append((self.label("tax"), self.money(c.tax), False))
                else:
                    for rate, _basis, tax in c.tax_breakdown:
                        name = self.label("tax", colon=False)
                        rows.append(
                            (
                                f"{name} {self.rate(rate)}" + (":" if self.colon else ""),
                                self.money(tax),
                                False,
                            )
                        )
                    if len(c.tax_breakdown) > 1:
                        rows.append((self.label("tax"), self.money(c.tax), False))
            else:
                rows.append((self.label("tax"), self.money(c.tax), False))
            rows.append((self.label("total"), self.money(c.total), True))
        due_rows = c.prepaid or (self.f.totals == "due" and self.rng.random() < 0.6)
        if due_rows:
            if c.prepaid:
                rows.append((self.label("prepaid"), "-" + self.money(c.prepaid, sign=False), False))
            rows.append((self.label("amount_due"), self.money(c.amount_due), True))
            self.printed["amount_due"] = c.amount_due
        right = self.width - self.margin
        need = max(
            self.width_of(label, self.base + 1.5, True)
            + self.width_of(value, self.base + 1.5, True)
            for label, value, _ in rows
        )
        label_x = right - max(210, need + 20)
        # the tax table sits left of the totals, or under them when they are too wide
        breakdown_below = breakdown_table and label_x - 10 < self.margin + 240
        rows_height = len(rows) * (self.base + 6) + 20
        table_height = (len(c.tax_breakdown) + 2) * (self.base + 6) + 20
        height = rows_height
        if breakdown_table:
            height = rows_height + table_height if breakdown_below else max(height, table_height)
        if y - height < self.footer_reserve():
            self.page_end()
            self.canvas.showPage()
            self.page += 1
            y = self.height - self.margin - 20
        top = y
        if self.f.totals == "boxed":
            right -= 6
            self.canvas.setStrokeColorRGB(*self.accent)
            self.canvas.rect(
                label_x - 8,
                y - len(rows) * (self.base + 6) + 2,
                right + 14 - label_x,
                len(rows) * (self.base + 6) + self.base + 2,
                stroke=1,
                fill=0,
            )
        for label, value, strong in rows:
            size = self.base + (1.5 if strong else 0)
            if strong and self.f.totals != "boxed":
                self.rule(label_x, y + size + 2, right, 0.6)
            self.text(label_x, y, label, size, strong)
            self.text(right, y, value, size, strong, "right")
            y -= self.base + 6
        if breakdown_below:
            self.breakdown(self.margin, top - rows_height)
        elif breakdown_table:
            self.breakdown(self.margin, top)
        return min(y, top - height) - 10

    def breakdown(self, x, y):
        c = self.c
        heads = self.rng.choice(LABELS["tax_table"][c.language])
        widths = [70, 90, 80]
        for i, head in enumerate(heads):
            self.text(
                x + sum(widths[: i + 1]) - 4, y, head, self.base - 1, True, "right", self.accent
            )
        self.rule(x, y - 4, x + sum(widths), 0.5)
        y -= self.base + 6
        for rate, basis, tax in c.tax_breakdown:
            cells = [self.rate(rate), self.money(basis), self.money(tax)]
            for i, cell in enumerate(cells):
                self.text(x + sum(widths[: i + 1]) - 4, y, cell, self.base - 0.5, align="right")
            y -= self.base + 4

    # --- payment, notes, footer -----------------------------------------------------------
    def payment_lines(self):
        c, v, lines = self.c, self.c.vendor, []
        if c.document_type == "invoice":
            terms = self.rng.choice(TERMS[c.language])
            if c.terms_days == 0:
                terms = TERMS[c.language][-1]
            elif "{days}" not in terms:
                terms = TERMS[c.language][0]
            terms = terms.format(days=c.terms_days)
            lines.append(f"{self.label('payment_terms')} {terms}")
            self.printed["payment_terms"] = terms
        if v.iban and self.f.payment != "terms_only":
            if self.f.bank == "named":  # a bank named like a company, alone or labelled
                bank = self.bank_name()
                lines.append(bank if self.rng.random() < 0.5 else f"{self.label('bank')} {bank}")
            else:
                lines.append(f"{self.label('bank')} {v.bank_name}")
            lines.append(f"{self.label('iban')} {v.iban_printed}")
            self.printed["iban"] = v.iban
            if self.rng.random() < 0.8:
                lines.append(f"{self.label('bic')} {v.bic}")
                self.printed["bic"] = v.bic
        if c.payment_reference and c.document_type == "invoice":
            lines.append(f"{self.label('payment_reference')} {c.payment_reference}")
            self.printed["payment_reference"] = c.payment_reference
        return lines

    def payment_and_notes(self, y):
        c, left = self.c, self.margin
        notes = []
        if self.f.totals == "single":
            notes.append(self.rng.choice(SMALL_BUSINESS_NOTE[c.language]))
        elif any(ln.tax_rate == 0 for ln in c.lines):
            notes.append(EXEMPT_NOTE[c.language])
        pay = self.payment_lines()
        footer_payment = self.f.payment == "footer" and self.f.footer == "columns"
        if footer_payment:
            self.footer_payment = [
                ln for ln in pay if not ln.startswith(self.label("payment_terms"))
            ]
            pay = [ln for ln in pay if ln not in self.footer_payment]
        else:
            self.footer_payment = []
        block = (
            notes + pay + ([self.rng.choice(THANKS[c.language])] if self.rng.random() < 0.6 else [])
        )
        needed = len(block) * (self.base + 3)
        if y - needed < self.footer_reserve():
            self.page_end()
            self.canvas.showPage()
            self.page += 1
            y = self.height - self.margin - 20
        for line in block:
            self.text(left, y, line, self.base - 0.5)
            y -= self.base + 3
        if self.rng.random() < 0.12:
            self.stamp()

    def register_footer(self, size):
        """One or two centred grey lines: name, address, register and tax number."""
        v = self.c.vendor
        first = [v.name, *v.address_lines[:2]]
        second = []
        if not v.extra.get("person"):  # freelancers are in no company register
            second.append(f"{self.label('register', colon=False)} {v.register}")
        if v.tax_id:
            second.append(f"{self.label('vat_id')} {v.tax_id_printed}")
            self.printed["vendor_tax_id"] = v.tax_id
        grey = (0.4, 0.4, 0.4)
        for i, parts in enumerate((first, second)):
            if parts:
                line = " · ".join(parts)
                fit = size
                while fit > 4.5 and self.width_of(line, fit) > self.width - 2 * self.margin:
                    fit -= 0.5
                y = self.margin + 18 - i * (size + 3)
                self.text(self.width / 2, y, line, fit, align="center", color=grey)

    def stamp(self):
        words = {
            "en": ["PAID", "COPY"],
            "de": ["BEZAHLT", "KOPIE"],
            "fr": ["PAYÉ", "DUPLICATA"],
            "es": ["PAGADO", "COPIA"],
            "it": ["PAGATO", "COPIA"],
            "nl": ["BETAALD", "KOPIE"],
            "pt": ["PAGO", "CÓPIA"],
        }[self.c.language]
        self.canvas.saveState()
        self.canvas.translate(self.width * 0.55, self.height * 0.45)
        self.canvas.rotate(self.rng.choice([-25, -15, 15, 30]))
        color = self.rng.choice([(0.8, 0.1, 0.1), (0.1, 0.3, 0.7)])
        self.canvas.setStrokeColorRGB(*color)
        self.canvas.setLineWidth(2)
        self.canvas.rect(-70, -12, 140, 40, stroke=1, fill=0)
        self.text(0, 0, self.rng.choice(words), 26, True, "center", color)
        self.canvas.restoreState()

    def page_end(self):
        v, left, right = self.c.vendor, self.margin, self.width - self.margin
        size = self.base - 2
        if self.f.footer == "columns":
            columns = [[v.name, *v.address_lines]]
            self.printed["vendor_address"] = "\n".join(v.address_lines)
            second = [f"{self.label('phone')} {v.phone}", f"{self.label('email')} {v.email}"]
            self.printed["vendor_phone"], self.printed["vendor_email"] = v.phone, v.email
            if v.tax_id:
                second.append(f"{self.label('vat_id')} {v.tax_id_printed}")
                self.printed["vendor_tax_id"] = v.tax_id
            columns.append(second)
            columns.append(
                [f"{self.label('register')} {v.register}", f"{self.label('director')} {v.contact}"]
            )
            if self.footer_payment:
                columns.append(self.footer_payment)
            # columns as wide as their longest line; smaller type until they fit side by side
            while True:
                widths = [max(self.width_of(line, size) for line in col) for col in columns]
                gap = (right - left - sum(widths)) / (len(columns) - 1)
                if gap >= 8 or size <= 4.5:
                    break
                size -= 0.5
            top = self.margin + 50
            self.rule(left, top + size + 4, right, 0.4)
            x = left
            for col, col_w in zip(columns, widths, strict=True):
                yy = top
                for line in col:
                    self.text(x, yy, line, size)
                    yy -= size + 2
                x += col_w + gap
        elif self.f.footer == "line":
            parts = [v.name, *v.address_lines[:2]]
            if v.tax_id:
                parts.append(f"{self.label('vat_id')} {v.tax_id_printed}")
                self.printed["vendor_tax_id"] = v.tax_id
            self.text(self.width / 2, self.margin + 10, " · ".join(parts), size, align="center")
        elif self.f.footer == "register":
            self.register_footer(size)
        elif self.f.vendor == "sender_line":
            self.printed["vendor_address"] = "\n".join(v.address_lines)
        if self.total_pages and self.total_pages > 1:
            self.text(
                right,
                self.margin - 12,
                self.page_template.format(n=self.page, m=self.total_pages),
                size,
                align="right",
            )
