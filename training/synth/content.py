"""What an invoice says: parties, numbers, dates, lines and exactly consistent amounts."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .parties import COUNTRIES, Party, make_party
from .vocab import MONTHS

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "DKK", "NOK", "PLN", "CZK", "INR", "AUD", "CAD"]
EXPONENT = {"JPY": 0}
# Symbols that name one currency alone; others print their code somewhere too.
SYMBOLS = {
    "EUR": "€",
    "GBP": "£",
    "USD": "$",
    "JPY": "¥",
    "AUD": "A$",
    "CAD": "C$",
    "CHF": "Fr.",
    "SEK": "kr",
    "DKK": "kr.",
    "NOK": "kr",
    "INR": "Rs.",
}
UNAMBIGUOUS_SYMBOLS = {"EUR", "GBP", "USD", "JPY"}
TAX_RATES = {
    "DE": ["19", "7"],
    "AT": ["20", "10", "13"],
    "CH": ["8.1", "2.6", "3.8"],
    "FR": ["20", "10", "5.5"],
    "BE": ["21", "6", "12"],
    "ES": ["21", "10", "4"],
    "IT": ["22", "10", "4"],
    "NL": ["21", "9"],
    "PT": ["23", "13", "6"],
    "GB": ["20", "5"],
    "US": ["7.25", "8.875", "6", "8.25"],
    "AU": ["10"],
    "CA": ["13", "5"],
    "IN": ["18", "12", "5"],
}
PRODUCTS = {
    "en": [
        "Consulting services",
        "Software licence, annual",
        "Office chair, ergonomic",
        "A4 copy paper, 500 sheets",
        "Installation labour",
        "Network cable CAT6 5 m",
        "Maintenance contract",
        "Travel expenses",
        "Project management",
        "Toner cartridge black",
        "Web hosting package",
        "Steel bracket 40 mm",
        "Training workshop",
        "Design revisions",
        "Delivery pallet",
        "LED panel 60x60",
        "Support hours",
        "Cleaning service",
    ],
    "de": [
        "Beratungsleistung",
        "Softwarelizenz, jährlich",
        "Bürostuhl, ergonomisch",
        "Kopierpapier A4, 500 Blatt",
        "Montagearbeiten",
        "Netzwerkkabel CAT6 5 m",
        "Wartungsvertrag",
        "Reisekosten",
        "Projektleitung",
        "Tonerkartusche schwarz",
        "Webhosting-Paket",
        "Stahlwinkel 40 mm",
        "Schulung vor Ort",
        "Gestaltung Korrekturen",
        "Europalette",
        "LED-Panel 60x60",
        "Supportstunden",
        "Unterhaltsreinigung",
    ],
    "fr": [
        "Prestation de conseil",
        "Licence logicielle annuelle",
        "Fauteuil de bureau",
        "Papier A4, ramette 500 feuilles",
        "Main-d'œuvre installation",
        "Câble réseau CAT6 5 m",
        "Contrat de maintenance",
        "Frais de déplacement",
        "Gestion de projet",
        "Cartouche de toner noir",
        "Hébergement web",
        "Équerre acier 40 mm",
        "Formation",
        "Retouches graphiques",
        "Palette de livraison",
        "Dalle LED 60x60",
        "Heures de support",
        "Nettoyage des locaux",
    ],
    "es": [
        "Servicios de consultoría",
        "Licencia de software anual",
        "Silla de oficina ergonómica",
        "Papel A4, paquete 500 hojas",
        "Mano de obra instalación",
        "Cable de red CAT6 5 m",
        "Contrato de mantenimiento",
        "Gastos de viaje",
        "Gestión de proyecto",
        "Cartucho de tóner negro",
        "Alojamiento web",
        "Escuadra de acero 40 mm",
        "Curso de formación",
        "Revisiones de diseño",
        "Palé de entrega",
        "Panel LED 60x60",
        "Horas de soporte",
        "Servicio de limpieza",
    ],
    "it": [
        "Servizi di consulenza",
        "Licenza software annuale",
        "Sedia da ufficio ergonomica",
        "Carta A4, risma 500 fogli",
        "Manodopera installazione",
        "Cavo di rete CAT6 5 m",
        "Contratto di manutenzione",
        "Spese di trasferta",
        "Gestione progetto",
        "Cartuccia toner nero",
        "Hosting web",
        "Staffa in acciaio 40 mm",
        "Corso di formazione",
        "Revisioni grafiche",
        "Bancale di consegna",
        "Pannello LED 60x60",
        "Ore di assistenza",
        "Servizio di pulizia",
    ],
    "nl": [
        "Adviesdiensten",
        "Softwarelicentie, jaarlijks",
        "Bureaustoel, ergonomisch",
        "Kopieerpapier A4, 500 vel",
        "Installatiewerkzaamheden",
        "Netwerkkabel CAT6 5 m",
        "Onderhoudscontract",
        "Reiskosten",
        "Projectleiding",
        "Tonercartridge zwart",
        "Webhostingpakket",
        "Stalen hoekbeugel 40 mm",
        "Training op locatie",
        "Ontwerpcorrecties",
        "Europallet",
        "LED-paneel 60x60",
        "Supporturen",
        "Schoonmaakdienst",
    ],
    "pt": [
        "Serviços de consultoria",
        "Licença de software anual",
        "Cadeira de escritório",
        "Papel A4, resma 500 folhas",
        "Mão de obra instalação",
        "Cabo de rede CAT6 5 m",
        "Contrato de manutenção",
        "Despesas de deslocação",
        "Gestão de projeto",
        "Tinteiro toner preto",
        "Alojamento web",
        "Esquadro de aço 40 mm",
        "Formação",
        "Revisões de design",
        "Palete de entrega",
        "Painel LED 60x60",
        "Horas de suporte",
        "Serviço de limpeza",
    ],
}
DETAILS = {
    "en": [
        "incl. setup and configuration at customer site",
        "period {m}",
        "as per quote {q}",
        "colour: anthracite, size L",
    ],
    "de": [
        "inkl. Einrichtung und Konfiguration vor Ort",
        "Zeitraum {m}",
        "gemäß Angebot {q}",
        "Farbe: anthrazit, Größe L",
    ],
    "fr": [
        "y compris mise en service sur site",
        "période {m}",
        "selon devis {q}",
        "coloris anthracite, taille L",
    ],
    "es": [
        "incluye instalación y configuración en cliente",
        "periodo {m}",
        "según presupuesto {q}",
        "color antracita, talla L",
    ],
    "it": [
        "inclusa installazione e configurazione in sede",
        "periodo {m}",
        "come da preventivo {q}",
        "colore antracite, taglia L",
    ],
    "nl": [
        "incl. installatie en configuratie op locatie",
        "periode {m}",
        "volgens offerte {q}",
        "kleur antraciet, maat L",
    ],
    "pt": [
        "inclui instalação e configuração no cliente",
        "período {m}",
        "conforme orçamento {q}",
        "cor antracite, tamanho L",
    ],
}
UNITS = {
    "en": ["pcs", "h", "ea", "box", "kg", "m", "day"],
    "de": ["Stk.", "Std.", "St", "Pkt.", "kg", "m", "Tag"],
    "fr": ["pce", "h", "u", "lot", "kg", "m", "jour"],
    "es": ["ud.", "h", "uds", "caja", "kg", "m", "día"],
    "it": ["pz", "h", "nr", "conf.", "kg", "m", "gg"],
    "nl": ["st", "uur", "stuks", "doos", "kg", "m", "dag"],
    "pt": ["un", "h", "un.", "cx", "kg", "m", "dia"],
}


def exponent(currency):
    return EXPONENT.get(currency, 2)


def money(value, currency):
    return Decimal(value).quantize(Decimal(1).scaleb(-exponent(currency)), ROUND_HALF_UP)


@dataclass
class NumberStyle:
    thousands: str
    decimal: str

    def format(self, value, places):
        value = Decimal(value)
        sign = "-" if value < 0 else ""
        text = f"{abs(value):,.{places}f}"  # 1,234.56
        whole, _, frac = text.partition(".")
        whole = whole.replace(",", self.thousands)
        return sign + whole + (self.decimal + frac if places else "")


@dataclass
class MoneyStyle:
    numbers: NumberStyle
    currency: str
    mode: str  # "code_before", "code_after", "symbol_before", "symbol_after", "bare"

    def format(self, value, places=None):
        places = exponent(self.currency) if places is None else places
        text = self.numbers.format(value, places)
        symbol = SYMBOLS.get(self.currency, self.currency)
        return {
            "code_before": f"{self.currency} {text}",
            "code_after": f"{text} {self.currency}",
            "symbol_before": f"{symbol}{text}" if len(symbol) == 1 else f"{symbol} {text}",
            "symbol_after": f"{text} {symbol}",
            "bare": text,
        }[self.mode]

    @property
    def code_printed(self):
        return self.mode.startswith("code") or (
            self.mode.startswith("symbol") and self.currency in UNAMBIGUOUS_SYMBOLS
        )


def format_date(date, style, language):
    months = MONTHS[language]
    return {
        "iso": date.isoformat(),
        "dmy_dot": f"{date.day:02d}.{date.month:02d}.{date.year}",
        "dmy_slash": f"{date.day:02d}/{date.month:02d}/{date.year}",
        "dmy_dash": f"{date.day:02d}-{date.month:02d}-{date.year}",
        "mdy_slash": f"{date.month:02d}/{date.day:02d}/{date.year}",
        "long": f"{date.day} {months[date.month - 1]} {date.year}",
        "long_de": f"{date.day}. {months[date.month - 1]} {date.year}",
        "long_us": f"{months[date.month - 1]} {date.day}, {date.year}",
        "long_es": f"{date.day} de {months[date.month - 1]} de {date.year}",
        "abbr": f"{date.day:02d}-{months[date.month - 1][:3].title()}-{date.year}",
    }[style]


DATE_STYLES = {
    "en": ["iso", "dmy_slash", "long", "abbr", "dmy_dot"],
    "de": ["dmy_dot", "dmy_dot", "long_de", "iso"],
    "fr": ["dmy_slash", "dmy_slash", "long", "iso"],
    "es": ["dmy_slash", "dmy_dash", "long_es", "long"],
    "it": ["dmy_slash", "dmy_dot", "long", "dmy_dash"],
    "nl": ["dmy_dash", "dmy_slash", "long", "iso"],
    "pt": ["dmy_slash", "iso", "long_es", "dmy_dash"],
}
NUMBER_STYLES = {
    "en": [(",", "."), (",", "."), ("", "."), (" ", ".")],
    "de": [(".", ","), (".", ","), ("", ","), ("'", ".")],
    "fr": [(" ", ","), (" ", ","), ("", ","), (".", ",")],
    "es": [(".", ","), (".", ","), ("", ","), (" ", ",")],
    "it": [(".", ","), (".", ","), ("", ","), ("'", ",")],
    "nl": [(".", ","), (".", ","), ("", ","), (",", ".")],
    "pt": [(" ", ","), (".", ","), ("", ","), (" ", ",")],
}


def habit_number(rng, date, shape, language):
    """Number shapes of small invoicing tools: month names or slashes, short counters, or the
    issue date itself."""
    n = rng.randint(1, 400)
    if shape == "short":
        return str(rng.choice([n, n % 40 + 1, rng.randint(100, 9999)]))
    if shape == "iso_date":
        return (date - dt.timedelta(days=rng.randrange(3))).isoformat()
    month = MONTHS["en" if rng.random() < 0.7 else language][date.month - 1]
    return rng.choice(
        [
            f"INV/{date.year}/{month}/{n:03d}",
            f"{date.year}/INV/{n:03d}",
            f"INV/{date.year}/{n:05d}",
            f"{n:03d}/{date.year}",
            f"{date.year}/{date.month:02d}/{n:03d}",
        ]
    )


def invoice_number(rng, date):
    y, yy, n = date.year, date.year % 100, rng.randint(1, 99999)
    shape = rng.randrange(14)
    return [
        f"INV-{y}-{n % 10000:04d}",
        f"RE{y}/{n % 1000}",
        f"F-{n:06d}",
        f"{y}-{n:05d}",
        f"A{n % 1000}",
        f"{n}",
        f"{rng.choice('ABCDRSX')}{yy:02d}{n:05d}",
        f"FA/{y}/{n % 1000}",
        f"FT {y}/{n % 1000}",
        f"SI-{n}",
        f"{n:08d}",
        f"{y}{date.month:02d}-{n % 1000:03d}",
        f"{rng.choice(['IN', 'RG', 'FC', 'FV'])}{y % 100:02d}.{n:05d}",
        f"{n % 10000}/{yy:02d}",
    ][shape]


@dataclass
class Line:
    description: str
    detail: str | None
    article: str
    quantity: Decimal
    quantity_places: int
    unit: str | None
    unit_price: Decimal
    price_places: int
    discount_pct: Decimal | None
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass
class Content:
    language: str
    document_type: str
    credit_negative: bool  # a credit note that prints its amounts negative
    vendor: Party
    customer: Party
    ship_to: Party | None
    number: str
    hash_number: bool  # printed "#4411": the '#' is a marker, the number is "4411"
    issue_date: dt.date
    due_date: dt.date | None
    delivery_date: dt.date | None
    currency: str
    money_style: MoneyStyle
    date_style: str
    lines: list[Line]
    line_total: Decimal
    discount: Decimal  # document-level allowance, positive
    discount_pct: Decimal | None
    shipping: Decimal  # document-level charge, positive
    tax_breakdown: list[tuple[Decimal, Decimal, Decimal]]  # (rate, basis, tax)
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    prepaid: Decimal
    amount_due: Decimal
    terms_days: int
    payment_reference: str | None
    customer_number: str
    order_ref: str | None
    extra: dict = field(default_factory=dict)

    def signed(self, value):
        return -value if self.credit_negative else value

    def date(self, date):
        return format_date(date, self.date_style, self.language)


def _description(rng, language, year):
    text = rng.choice(PRODUCTS[language])
    if rng.random() < 0.2:
        text += " " + rng.choice(["XL", "Pro", "Basic", "Plus", "v2", "Typ B", "Premium", "S"])
    if rng.random() < 0.12:  # long enough to wrap in most tables
        detail = rng.choice(DETAILS[language]).format(
            m=f"{rng.randint(1, 12):02d}/{year}", q=f"Q-{rng.randint(1000, 9999)}"
        )
        text += ", " + detail + ", " + rng.choice(PRODUCTS[language]).lower()
    return text


@dataclass(frozen=True)
class Habits:
    """Content habits of a layout family (layouts.Family fields); the defaults draw as before."""

    person_vendor: float = 0.0  # chance the vendor is a freelancer named as a person
    number: str = ""  # "" | short | iso_date | month_path (see habit_number)
    words: bool = False  # dates in words
    whole: bool = False  # whole prices and quantities: tables print "$12,500"
    voucher: bool = False  # a negative voucher line in the table
    tax_free: bool = False  # no tax at all (small business): only a total is printed
    plain_total: bool = False  # no document discount, shipping or prepayment
    long_desc: bool = False  # descriptions wrapping over several lines, bullet details


VOUCHERS = {
    "en": ["Voucher", "Discount voucher", "Promo code {code}"],
    "de": ["Gutschein", "Rabattgutschein {code}"],
    "fr": ["Bon de réduction", "Code promo {code}"],
    "es": ["Vale de descuento", "Código promocional {code}"],
    "it": ["Buono sconto", "Codice promozionale {code}"],
    "nl": ["Kortingsbon", "Kortingscode {code}"],
    "pt": ["Vale de desconto", "Código promocional {code}"],
}
WORD_DATES = {
    "en": ["long", "long_us"],
    "de": ["long_de"],
    "fr": ["long"],
    "es": ["long_es", "long"],
    "it": ["long"],
    "nl": ["long"],
    "pt": ["long_es", "long"],
}


def _long_description(rng, language, year):
    """A paragraph of three to five printed lines built from the product and detail words."""
    parts = [rng.choice(PRODUCTS[language])]
    for _ in range(rng.randint(3, 6)):
        if rng.random() < 0.5:
            parts.append(rng.choice(PRODUCTS[language]).lower())
        else:
            parts.append(
                rng.choice(DETAILS[language]).format(
                    m=f"{rng.randint(1, 12):02d}/{year}", q=f"Q-{rng.randint(1000, 9999)}"
                )
            )
    return ", ".join(parts)


def _bullets(rng, language, year):
    picks = rng.sample(PRODUCTS[language], rng.randint(2, 4))
    if rng.random() < 0.5:
        picks.append(
            rng.choice(DETAILS[language]).format(
                m=f"{rng.randint(1, 12):02d}/{year}", q=f"Q-{rng.randint(1000, 9999)}"
            )
        )
    return "\n".join(picks)


def make_content(rng, language, *, us_dates=False, max_lines=40, habits=Habits()):
    h = habits
    person = h.person_vendor and rng.random() < h.person_vendor
    vendor = make_party(rng, language, is_company=False) if person else make_party(rng, language)
    vendor.extra["person"] = bool(person)
    customer = make_party(
        rng,
        language,
        is_company=rng.random() < 0.85,
        country=vendor.country if rng.random() < 0.8 else None,
    )
    ship_to = make_party(rng, language, country=customer.country) if rng.random() < 0.5 else None
    default_currency = COUNTRIES[vendor.country][1]
    roll = rng.random()
    currency = default_currency if roll < 0.7 else "JPY" if roll < 0.72 else rng.choice(CURRENCIES)
    numbers = NumberStyle(*rng.choice(NUMBER_STYLES[language]))
    if currency == "CHF" and rng.random() < 0.5:
        numbers = NumberStyle("'", ".")
    mode = rng.choice(["code_before", "code_after", "symbol_before", "symbol_after", "bare"])
    if h.whole:  # "$12,500": a symbol before whole amounts
        if currency not in UNAMBIGUOUS_SYMBOLS:
            currency = rng.choice(["USD", "USD", "EUR", "GBP"])
        mode = "symbol_before"
    if mode.startswith("symbol") and currency not in SYMBOLS:
        mode = "code_after"
    money_style = MoneyStyle(numbers, currency, mode)
    date_style = rng.choice(DATE_STYLES[language])
    if language == "en" and (us_dates or vendor.country == "US") and rng.random() < 0.7:
        date_style = rng.choice(["mdy_slash", "long_us"])
    elif vendor.country in ("US", "CA") and date_style.startswith("dmy"):
        date_style = "iso"  # Americans do not write day-first numeric dates
    if h.words:
        date_style = rng.choice(WORD_DATES[language])
        if language == "en" and vendor.country in ("US", "CA"):
            date_style = "long_us"
    issue = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2900))
    terms = rng.choice([0, 7, 10, 14, 14, 30, 30, 30, 45, 60])
    document_type = "credit_note" if rng.random() < 0.1 else "invoice"
    credit_negative = document_type == "credit_note" and rng.random() < 0.5

    rates = [Decimal(r) for r in TAX_RATES[vendor.country]]
    if h.tax_free:
        rates = [Decimal(0)]
    n_lines = min(max_lines, rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 20, 28, 40]))
    use_rates = rates[:1] if rng.random() < 0.6 else rates
    exempt_possible = rng.random() < 0.15
    unit_price_places = exponent(currency) + (
        rng.choice([0, 0, 0, 1, 2]) if exponent(currency) else 0
    )
    lines = []
    line_discounts = rng.random() < 0.2 and not h.whole
    for _ in range(n_lines):
        q_places = 0 if rng.random() < 0.8 or h.whole else rng.choice([1, 2, 3])
        if q_places:
            qty = Decimal(rng.randint(1, 4000)).scaleb(-q_places).normalize()
            qty = qty.quantize(Decimal(1).scaleb(-q_places))
        else:
            qty = Decimal(rng.choice([1, 1, 1, 2, 3, 4, 5, 10, 12, 20, 25, 50, 100, 250]))
        price = Decimal(str(round(10 ** rng.uniform(-0.5, 3.4), 2)))
        if currency == "JPY":
            price *= 100
        places = unit_price_places if price < 20 else exponent(currency)
        if h.whole:
            price = Decimal(max(1, round(price * rng.choice([1, 10, 50])), 1)).quantize(
                Decimal(1).scaleb(-exponent(currency))
            )
            places = exponent(currency)
        price = price.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if price <= 0:
            price = Decimal(1).quantize(Decimal(1).scaleb(-places))
        if price > 200 and qty > 20:
            qty = Decimal(rng.randint(1, 5)).quantize(qty)
        disc = Decimal(rng.choice([0, 0, 5, 10, 15, 20, 2.5])) if line_discounts else None
        if disc is not None:
            disc = disc.quantize(Decimal("0.1")) if disc % 1 else Decimal(int(disc))
        rate = rng.choice(use_rates)
        if exempt_possible and rng.random() < 0.3:
            rate = Decimal(0)
        net = money(qty * price * (1 - (disc or Decimal(0)) / 100), currency)
        tax = money(net * rate / 100, currency)
        description = _description(rng, language, issue.year)
        detail = (
            rng.choice(DETAILS[language]).format(
                m=f"{rng.randint(1, 12):02d}/{issue.year}", q=f"Q-{rng.randint(1000, 9999)}"
            )
            if rng.random() < 0.15
            else None
        )
        if h.long_desc and rng.random() < 0.5:
            if rng.random() < 0.5:
                description = _long_description(rng, language, issue.year)
            else:
                detail = _bullets(rng, language, issue.year)
        lines.append(
            Line(
                description=description,
                detail=detail,
                article=f"{rng.choice(['', 'A', 'SKU-', 'ART'])}{rng.randint(1000, 999999)}",
                quantity=qty,
                quantity_places=q_places,
                unit=rng.choice(UNITS[language]),
                unit_price=price,
                price_places=places,
                discount_pct=disc,
                tax_rate=rate,
                net=net,
                tax=tax,
                gross=net + tax,
            )
        )
    if h.voucher and document_type == "invoice" and rng.random() < 0.6:
        lines.append(_voucher(rng, language, lines, currency))
    line_total = sum((ln.net for ln in lines), Decimal(0))
    main_rate = max(ln.tax_rate for ln in lines)
    main_base = sum((ln.net for ln in lines if ln.tax_rate == main_rate), Decimal(0))
    discount, discount_pct, shipping = Decimal(0), None, Decimal(0)
    if rng.random() < 0.15 and not h.plain_total:
        discount_pct = Decimal(rng.choice([2, 3, 5, 10]))
        discount = money(main_base * discount_pct / 100, currency)
        if rng.random() < 0.5:
            discount_pct = None  # printed as a plain amount
    if rng.random() < 0.2 and not h.plain_total:
        shipping = money(Decimal(rng.randint(400, 9900)) / 100, currency) * (
            100 if currency == "JPY" else 1
        )
    breakdown = []
    for rate in sorted({ln.tax_rate for ln in lines}, reverse=True):
        basis = sum((ln.net for ln in lines if ln.tax_rate == rate), Decimal(0))
        if rate == main_rate:  # document-level allowance and charge carry the main rate
            basis += shipping - discount
        breakdown.append((rate, basis, money(basis * rate / 100, currency)))
    subtotal = line_total - discount + shipping
    tax = sum((t for _, _, t in breakdown), Decimal(0))
    total = subtotal + tax
    prepaid = Decimal(0)
    if document_type == "invoice" and rng.random() < 0.12 and not h.plain_total:
        prepaid = money(total * Decimal(rng.choice([10, 20, 30, 50])) / 100, currency)
    number = invoice_number(rng, issue)
    if h.number:
        number = habit_number(rng, issue, h.number, language)
    hash_number = number.isdigit() and rng.random() < 0.3
    return Content(
        language=language,
        document_type=document_type,
        credit_negative=credit_negative,
        vendor=vendor,
        customer=customer,
        ship_to=ship_to,
        number=number,
        hash_number=hash_number,
        issue_date=issue,
        due_date=issue + dt.timedelta(days=terms) if document_type == "invoice" else None,
        delivery_date=issue - dt.timedelta(days=rng.randrange(10)) if rng.random() < 0.3 else None,
        currency=currency,
        money_style=money_style,
        date_style=date_style,
        lines=lines,
        line_total=line_total,
        discount=discount,
        discount_pct=discount_pct,
        shipping=shipping,
        tax_breakdown=breakdown,
        subtotal=subtotal,
        tax=tax,
        total=total,
        prepaid=prepaid,
        amount_due=total - prepaid,
        terms_days=terms,
        payment_reference=(
            number
            if rng.random() < 0.5
            else f"RF{rng.randint(10, 99)}{rng.randint(10**9, 10**10 - 1)}"
        )
        if rng.random() < 0.5
        else None,
        customer_number=f"{rng.choice(['', 'K', 'C', 'D'])}{rng.randint(10000, 99999)}",
        order_ref=f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.4 else None,
    )


def _voucher(rng, language, lines, currency):
    """A negative line (voucher, promo code) worth a small part of the goods, at the main rate."""
    worth = sum((ln.net for ln in lines), Decimal(0)) * Decimal(rng.choice([5, 8, 10])) / 100
    step = Decimal(10) if worth >= 100 else Decimal(1)
    price = -max(step, (worth / step).to_integral_value() * step)
    price = price.quantize(Decimal(1).scaleb(-exponent(currency)))
    rate = max(ln.tax_rate for ln in lines)
    tax = money(price * rate / 100, currency)
    code = f"{rng.choice(['SAVE', 'WELCOME', 'PROMO'])}{rng.randint(5, 30)}"
    text = rng.choice(VOUCHERS[language]).format(code=code)
    return Line(
        description=text,
        detail=None,
        article="",
        quantity=Decimal(1),
        quantity_places=0,
        unit="",
        unit_price=price,
        price_places=exponent(currency),
        discount_pct=None,
        tax_rate=rate,
        net=price,
        tax=tax,
        gross=price + tax,
    )
