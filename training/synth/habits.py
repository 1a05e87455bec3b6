"""Headers as invoicing software and templates draw them (families L27 on).

Party blocks side by side with no heading, short headings ("To", "Billed to", "Kunde") or the
role in a shaded box; the title carrying the number ("Rechnung Nr. 4711"); labels above values
in a narrow column or a shaded label row over a row of values; a boxed amount due before the
table. `HabitHeader` is mixed into `render.Renderer` and records what it prints the same way.
"""

from .parties import BRAND_PARTS, CITIES

# (vendor heading or None, customer heading) per language
PARTY_HEADS = {
    "en": [
        ("From", "To"),
        ("FROM", "TO"),
        (None, "Bill to"),
        (None, "Billed to"),
        (None, "Client"),
        (None, "Customer"),
        ("From", "Bill to"),
        ("Issued by", "Issued to"),
    ],
    "de": [("Von", "An"), (None, "Kunde"), (None, "Rechnung an"), ("Absender", "Empfänger")],
    "fr": [("De", "À"), (None, "Destinataire"), (None, "Client"), ("Émetteur", "Destinataire")],
    "es": [("De", "Para"), (None, "Cliente"), (None, "Facturar a"), ("Emisor", "Cliente")],
    "it": [("Da", "A"), (None, "Cliente"), (None, "Spett.le"), ("Fornitore", "Cliente")],
    "nl": [("Van", "Aan"), (None, "Klant"), (None, "Factuur aan"), ("Leverancier", "Klant")],
    "pt": [("De", "Para"), (None, "Cliente"), ("Fornecedor", "Cliente"), (None, "Faturar a")],
}
BOX_HEADS = {
    "en": [("Supplier", "Customer"), ("Seller", "Buyer"), ("Issuer", "Recipient")],
    "de": [("Leistungserbringer", "Leistungsempfänger"), ("Verkäufer", "Käufer")],
    "fr": [("Vendeur", "Acheteur"), ("Émetteur", "Destinataire"), ("Fournisseur", "Client")],
    "es": [("Emisor", "Receptor"), ("Proveedor", "Cliente"), ("Vendedor", "Comprador")],
    "it": [
        ("Cedente/prestatore (fornitore)", "Cessionario/committente (cliente)"),
        ("Cedente/prestatore", "Cessionario/committente"),
        ("Fornitore", "Cliente"),
    ],
    "nl": [("Leverancier", "Afnemer"), ("Verkoper", "Koper")],
    "pt": [("Fornecedor", "Cliente"), ("Emitente", "Adquirente"), ("Fornecedor", "Destinatário")],
}
NAME_LABEL = {
    "en": "Name",
    "de": "Name",
    "fr": "Raison sociale",
    "es": "Razón social",
    "it": "Denominazione",
    "nl": "Naam",
    "pt": "Nome",
}
TITLE_NUMBER = {
    "en": ["{t} #{n}", "{t} {n}", "{t} No. {n}"],
    "de": ["{t} Nr. {n}", "{t} {n}", "{t} Nr.: {n}"],
    "fr": ["{t} N° {n}", "{t} n° {n}", "{t} {n}"],
    "es": ["{t} Nº {n}", "{t} {n}", "{t} n.º {n}"],
    "it": ["{t} n. {n}", "{t} N. {n}", "{t} {n}"],
    "nl": ["{t} {n}", "{t} nr. {n}"],
    "pt": ["{t} N.º {n}", "{t} {n}", "{t} nº {n}"],
}
CREATED = {
    "en": ["Created", "Issued", "Date", "Date of issue", "Invoice date"],
    "de": ["Datum", "Rechnungsdatum", "Erstellt am"],
    "fr": ["Date", "Émise le", "Date d'émission"],
    "es": ["Fecha", "Fecha de emisión", "Emitida"],
    "it": ["Data", "Emessa il", "Data documento"],
    "nl": ["Datum", "Factuurdatum"],
    "pt": ["Data", "Data de emissão", "Emitida em"],
}
DUE = {
    "en": ["Due", "Due date", "Payment due", "Date due"],
    "de": ["Fällig", "Fällig am", "Zahlbar bis"],
    "fr": ["Échéance", "À payer avant le"],
    "es": ["Vencimiento", "Vence"],
    "it": ["Scadenza", "Da pagare entro"],
    "nl": ["Vervaldatum", "Te betalen voor"],
    "pt": ["Vencimento", "Data de vencimento"],
}
ID_LABEL = {
    "en": ["ID", "Invoice", "Number", "Invoice number"],
    "de": ["Nr.", "Nummer", "Rechnungsnummer"],
    "fr": ["N°", "Numéro", "Facture"],
    "es": ["Número", "Nº"],
    "it": ["Numero", "N."],
    "nl": ["Nummer", "Nr."],
    "pt": ["Número", "N.º"],
}
DOC_TYPE = {
    "en": ("Document type", ["Invoice", "Tax invoice"]),
    "de": ("Belegart", ["Rechnung"]),
    "fr": ("Type de document", ["Facture"]),
    "es": ("Tipo de documento", ["Factura", "Factura completa"]),
    "it": ("Tipo documento", ["TD01 fattura", "Fattura"]),
    "nl": ("Documenttype", ["Factuur"]),
    "pt": ("Tipo de documento", ["Fatura", "Fatura-recibo"]),
}
RECIPIENT_CODE = {
    "en": "Recipient code",
    "de": "Empfängerkennung",
    "fr": "Code destinataire",
    "es": "Código destinatario",
    "it": "Codice destinatario",
    "nl": "Ontvangercode",
    "pt": "Código destinatário",
}
ITEM_PRICE_HEADS = {
    "en": [("Item", "Price"), ("Description", "Price"), ("Service", "Amount")],
    "de": [("Leistung", "Preis"), ("Beschreibung", "Betrag")],
    "fr": [("Article", "Prix"), ("Désignation", "Montant")],
    "es": [("Concepto", "Precio"), ("Descripción", "Importe")],
    "it": [("Descrizione", "Prezzo"), ("Voce", "Importo")],
    "nl": [("Omschrijving", "Prijs"), ("Item", "Bedrag")],
    "pt": [("Descrição", "Preço"), ("Serviço", "Valor")],
}
SERVICE_DATE = {
    "en": ["Date", "Service date", "Date of service"],
    "de": ["Datum", "Leistungsdatum"],
    "fr": ["Date"],
    "es": ["Fecha"],
    "it": ["Data"],
    "nl": ["Datum"],
    "pt": ["Data"],
}
SMALL_BUSINESS_NOTE = {
    "en": ["Not registered for VAT.", "No sales tax charged."],
    "de": ["Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."],
    "fr": ["TVA non applicable, art. 293 B du CGI."],
    "es": ["Operación exenta de IVA."],
    "it": ["Operazione in franchigia da IVA."],
    "nl": ["Vrijgesteld van btw (KOR)."],
    "pt": ["IVA - regime de isenção."],
}
# Bank names that read like company names: the vendor is not the bank.
BANK_PATTERNS = {
    "DE": ["Sparkasse {city}", "Volksbank {city} eG", "{brand}bank AG", "{brand} Bank eG"],
    "AT": ["Raiffeisenbank {city}", "{brand}bank AG"],
    "CH": ["{brand} Bank AG", "Kantonalbank {city}"],
    "FR": ["Crédit {brand} SA", "Banque {brand}", "Caisse d'Épargne {city}"],
    "BE": ["{brand} Bank NV", "Banque {brand} SA"],
    "ES": ["Banco {brand} S.A.", "Caja {city}"],
    "IT": ["Banca {brand} S.p.A.", "Banca di Credito Cooperativo di {city}"],
    "NL": ["{brand} Bank N.V.", "{brand}bank"],
    "PT": ["Banco {brand} S.A.", "Caixa {brand}"],
    "GB": ["{brand} Bank plc", "{city} Building Society"],
    "US": ["{brand} Bank, N.A.", "First {brand} Bank"],
    "IN": ["{brand} Bank Ltd.", "{city} Co-operative Bank"],
}


class HabitHeader:
    """The header of L27 on: letterhead, title, parties, meta and a boxed amount due."""

    # --- styles of type ---------------------------------------------------------------------
    def grey_label(self, x, y, text, align="left", size=None):
        size = size or self.base - 1.5
        color = (0.45, 0.45, 0.45) if self.f.look == "html" else self.accent
        self.text(x, y, text, size, self.f.look != "html", align, color)

    def habit_title(self, x, y, text, align):
        size = self.base + self.rng.choice([9, 12, 15])
        if self.f.look == "html":  # a large light title
            self.text(x, y, text, size, False, align, (0.35, 0.35, 0.35), font=self.title_font)
        else:
            self.text(x, y, text, size, True, align, self.accent, font=self.title_font)
        return y - size - 6

    # --- the header ---------------------------------------------------------------------------
    def habit_header(self):
        c, f = self.c, self.f
        left, right = self.margin, self.width - self.margin
        top = self.height - self.margin
        self.printed["vendor_name"] = c.vendor.name
        items = self.meta_items()
        with_number = f.meta.startswith("title_")
        if with_number:
            items = [(k, v) for k, v in items if k != "invoice_number"]
        y = top
        title_align = "right" if f.vendor == "logo" or self.rng.random() < 0.5 else "left"
        tx = right if title_align == "right" else left
        if f.vendor == "logo":
            self.wordmark(left, top)
        title = self.title()
        if with_number:
            number = self.c.number
            template = self.rng.choice(TITLE_NUMBER[c.language])
            if c.hash_number and "#" not in template:
                number = "#" + number
            title = template.format(t=title, n=number)
        if self.rng.random() < 0.5:
            title = title.upper()
        y = self.habit_title(tx, top - self.base - 8, title, title_align)
        if f.meta == "title_line":
            y = self.dated_lines(tx, y, items, title_align)
        y = min(y, top - 56) - 10
        narrow = f.meta in ("narrow", "title_narrow")
        narrow_w = self.narrow_width(items) if narrow else 0
        row_right = right - (narrow_w + 16 if narrow else 0)
        row_top = y
        if f.customer in ("below", "bill_ship"):
            y_end = self.party(left, y, min(260, row_right - left), c.vendor, customer=False)
        else:
            col_w = (row_right - left - 16) / 2
            vendor_x, customer_x = (left, left + col_w + 16)
            if f.customer == "left":
                vendor_x, customer_x = customer_x, vendor_x
            y_end = min(
                self.party(vendor_x, y, col_w, c.vendor, customer=False),
                self.party(customer_x, y, col_w, c.customer, customer=True),
            )
        if narrow:
            y_end = min(y_end, self.narrow_meta(right - narrow_w, row_top, items))
        y = y_end - 14
        if f.customer in ("below", "bill_ship"):
            col_w = (right - left - 16) / 2
            y_end = self.party(left, y, col_w, c.customer, customer=True)
            if f.customer == "bill_ship" and c.ship_to:
                heading = self.rng.choice(["Ship to", "Deliver to"]) if c.language == "en" else None
                y_end = min(
                    y_end,
                    self.party(
                        left + col_w + 16,
                        y,
                        col_w,
                        c.ship_to,
                        customer=False,
                        heading=heading or self.label("ship_to", colon=False),
                    ),
                )
            y = y_end - 14
        if f.meta in ("header_row", "title_row"):
            y = self.label_row(y, items) - 8
        if f.totals == "due_top":
            y = self.due_box(y) - 8
        return y - 6

    def wordmark(self, x, top):
        """The vendor's name as its logo: white on a coloured plate, or large accent letters."""
        name = self.c.vendor.name
        size = self.rng.choice([14, 16, 18, 20])
        while size > 9 and self.width_of(name, size, True) > self.width * 0.45:
            size -= 1
        if self.rng.random() < 0.5:
            w = self.width_of(name, size, True) + 16
            self.canvas.setFillColorRGB(*self.accent)
            self.canvas.roundRect(x, top - size - 12, w, size + 14, 4, stroke=0, fill=1)
            self.text(x + 8, top - size - 4, name, size, True, color=(1, 1, 1))
        else:
            self.text(x, top - size, name, size, True, color=self.accent)

    def dated_lines(self, x, y, items, align):
        """The lines under a title with number: 'Created: January 1, 2023', 'Due: ...'."""
        lang = self.c.language
        colon = ":" if self.colon else ""
        for key, value in items:
            if key == "invoice_date":
                line = value
                if self.rng.random() < 0.75:
                    line = f"{self.rng.choice(CREATED[lang])}{colon} {value}"
            elif key == "due_date":
                line = f"{self.rng.choice(DUE[lang])}{colon} {value}"
            else:
                line = f"{self.meta_label(key)} {value}"
            self.text(x, y, line, self.base, align=align)
            y -= self.base + 3
        return y

    def narrow_labels(self, items):
        lang, rng = self.c.language, self.rng
        labels = []
        for key, value in items:
            if key == "invoice_number" and rng.random() < 0.5:
                label = rng.choice(ID_LABEL[lang])
            elif key == "invoice_date" and rng.random() < 0.5:
                label = rng.choice(CREATED[lang])
            elif key == "due_date" and rng.random() < 0.5:
                label = rng.choice(DUE[lang])
            else:
                label = self.meta_label(key).rstrip(":")
            labels.append((label, value))
        return labels

    def narrow_width(self, items):
        self._narrow = self.narrow_labels(items)
        return max(
            max(self.width_of(label, self.base - 1.5, True), self.width_of(value))
            for label, value in self._narrow
        )

    def narrow_meta(self, x, y, items):
        """Labels above values in a narrow column: 'ID' then the number on the next line."""
        for label, value in self._narrow:
            self.grey_label(x, y, label)
            self.text(x, y - self.base - 2, value, self.base, False)
            y -= 2 * self.base + 9
        return y

    def label_row(self, y, items):
        """A shaded row of labels over a row of values, ruled as a grid."""
        c, left, right = self.c, self.margin, self.width - self.margin
        cells = [(self.meta_label(k).rstrip(":"), v) for k, v in items]
        if self.f.parties == "boxed" or self.rng.random() < 0.3:
            head, values = DOC_TYPE[c.language]
            cells.insert(0, (head, self.rng.choice(values)))
        if c.language == "it" and self.rng.random() < 0.7:
            cells.append((RECIPIENT_CODE["it"], f"{self.rng.randint(0, 9999999):07d}"))
        size = self.base
        while True:
            widths = [
                max(self.width_of(h, size - 1.5, True), self.width_of(v, size)) + 10
                for h, v in cells
            ]
            if sum(widths) <= right - left or size <= self.base - 2:
                break
            size -= 0.5
        rows = [list(range(len(cells)))]
        if sum(widths) > right - left:
            half = (len(cells) + 1) // 2
            rows = [list(range(half)), list(range(half, len(cells)))]
        shade = [0.88 + 0.1 * a for a in self.accent]
        h = size + 6
        for row in rows:
            spare = (right - left - sum(widths[i] for i in row)) / len(row)
            x = left
            self.canvas.setFillColorRGB(*shade)
            self.canvas.rect(left, y - 4, right - left, h, stroke=0, fill=1)
            self.canvas.setStrokeColorRGB(0.55, 0.55, 0.55)
            self.canvas.setLineWidth(0.5)
            for i in row:
                w = widths[i] + spare
                self.canvas.rect(x, y - 4 - h, w, 2 * h, stroke=1, fill=0)
                head, value = cells[i]
                self.text(x + 4, y, head, size - 1.5, True, color=(0.25, 0.25, 0.25))
                self.text(x + 4, y - h, value, size)
                x += w
            y -= 2 * h + 6
        return y

    def party(self, x, y, width, party, customer, heading=None):
        """A party block: heading (none, short, or the role in a shaded box), name, address."""
        c, f, rng = self.c, self.f, self.rng
        lang = c.language
        if heading is None and f.parties == "headed":
            if not hasattr(self, "_heads"):
                self._heads = rng.choice(PARTY_HEADS[lang])
            heading = self._heads[1 if customer else 0]
        elif heading is None and f.parties == "boxed":
            if not hasattr(self, "_heads"):
                self._heads = rng.choice(BOX_HEADS[lang])
            heading = self._heads[1 if customer else 0]
        name_shown = customer or f.vendor != "logo"
        if not name_shown and f.parties == "unlabelled":
            # HTML templates put the logo above and the name over the sender's address too
            name_shown = rng.random() < 0.5
        labelled = f.parties == "boxed" and rng.random() < 0.5
        name = f"{NAME_LABEL[lang]}: {party.name}" if labelled else party.name
        lines = list(party.address_lines)
        if not customer and party is c.vendor:
            self.printed["vendor_address"] = "\n".join(lines)
            if rng.random() < 0.6:
                lines.append(f"{self.label('email')} {party.email}")
                self.printed["vendor_email"] = party.email
            if rng.random() < 0.4:
                lines.append(f"{self.label('phone')} {party.phone}")
                self.printed["vendor_phone"] = party.phone
        tax_id = party.tax_id and (f.parties == "boxed" or rng.random() < 0.5)
        if tax_id:
            lines.append(f"{self.label('vat_id')} {party.tax_id_printed}")
            if customer:
                self.printed["customer_tax_id"] = party.tax_id
            elif party is c.vendor:
                self.printed["vendor_tax_id"] = party.tax_id
        if customer:
            self.printed["customer_name"] = party.name
            self.printed["customer_address"] = "\n".join(party.address_lines)
        size = self.base
        natural = max(
            [self.width_of(line, size) for line in lines]
            + ([self.width_of(name, size + 1, True)] if name_shown else [])
        )
        if natural > width - 8:
            size = max(5.5, size * (width - 8) / natural)
        if heading and f.parties == "boxed":
            self.canvas.setFillColorRGB(*[0.85 + 0.12 * a for a in self.accent])
            self.canvas.rect(x, y - 4, width, self.base + 6, stroke=0, fill=1)
            self.text(x + 4, y, heading, self.base - 0.5, True)
            y -= self.base + 8
        elif heading:
            self.grey_label(x, y, heading.upper() if rng.random() < 0.3 else heading)
            y -= self.base + 4
        if name_shown:
            self.text(x, y, name, size + 1, rng.random() < 0.7)
            y -= size + 4
        for line in lines:
            self.text(x, y, line, size)
            y -= size + 2.5
        return y

    def due_box(self, y):
        """The amount due as a boxed figure before the table."""
        c, right = self.c, self.width - self.margin
        label = self.label("amount_due", colon=False)
        if self.rng.random() < 0.4:
            label = f"{label} ({c.currency})"
        figure = self.money(c.amount_due)
        size = self.base + 8
        w = max(self.width_of(figure, size, True), self.width_of(label, self.base - 1)) + 20
        h = size + self.base + 16
        self.canvas.setFillColorRGB(*[0.9 + 0.08 * a for a in self.accent])
        self.canvas.setStrokeColorRGB(*self.accent)
        self.canvas.rect(right - w, y - h + self.base, w, h, stroke=1, fill=1)
        self.grey_label(right - w + 10, y - 2, label, size=self.base - 1)
        self.text(right - 10, y - size - 6, figure, size, True, "right")
        self.printed["amount_due"] = c.amount_due
        return y - h

    def bank_name(self):
        v = self.c.vendor
        patterns = BANK_PATTERNS.get(v.country, ["{brand} Bank"])
        city = self.rng.choice(CITIES[v.country])[1] if v.country in CITIES else ""
        if not city:
            patterns = [p for p in patterns if "{city}" not in p] or ["{brand} Bank"]
        return self.rng.choice(patterns).format(city=city, brand=self.rng.choice(BRAND_PARTS))
