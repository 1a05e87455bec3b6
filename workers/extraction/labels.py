"""The words invoices put before their values, in English, German, French, Spanish, Italian,
Dutch and Portuguese.

Patterns match folded text (lower case, no accents: see `layout.fold`). Each field has
strong labels (they name the field unambiguously: "Rechnungsnummer") and weak ones (they
usually do: "Date", "Total"); the parser trusts a value less when only a weak label found it.
"""

from __future__ import annotations

import re
import re._constants as _regex_ops
import re._parser as _regex_parser  # the stdlib's reading of a pattern: see _first_characters
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_NO = r"(?:n(?:o|r|um|umber|ummer|umero|°|º|o\.|r\.)\.?|#|nbr|id|ref)"
_INVOICE = (
    r"(?:invoice|inv|bill|\w*rechnung\w*|facture|factura|fattura|factuur|fatura"
    r"|nota|gutschrift|avoir|credit\s?note|receipt|quittung|recu|recibo|ricevuta)"
)


@dataclass(frozen=True)
class Label:
    field: str
    pattern: re.Pattern[str]
    strength: float  # how surely the label names the field, 0..1
    # The characters a match can begin with (`_first_characters`); None: not known.
    first: frozenset[str] | None = None
    # Texts one of which every match contains (`_required_texts`); None: not known.
    required: tuple[str, ...] | None = None


def _labels(field: str, strength: float, *patterns: str) -> list[Label]:
    return [
        Label(
            field,
            # A label ending in a mark ("Nr.", "#") may touch its value: "Invoice#2015".
            re.compile(r"(?<![\w])" + pattern + r"(?:(?<!\w)|(?![\w]))"),
            strength,
            _first_characters(pattern),
            _required_texts(pattern),
        )
        for pattern in patterns
    ]


def _first_characters(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can begin with, read from the regex parser's
    tree; None where that is not a short list (a class such as \\w, a negated set) or
    the pattern can match an empty string."""
    parsed = _regex_parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    first, can_be_empty = _first_of(parsed)
    return None if first is None or can_be_empty else frozenset(first)


def _first_of(items: Iterable[tuple[Any, Any]]) -> tuple[set[str] | None, bool]:
    """(the first characters of a sequence of regex items, whether it can match empty)."""
    found: set[str] = set()
    for op, value in items:
        first, can_be_empty = _first_of_item(op, value)
        if first is None:
            return None, False
        found |= first
        if not can_be_empty:
            return found, False
    return found, True


def _first_of_item(op: Any, value: Any) -> tuple[set[str] | None, bool]:
    ops = _regex_ops
    if op is ops.LITERAL:
        return {chr(value)}, False
    if op is ops.IN:
        chars: set[str] = set()
        for kind, member in value:
            if kind is ops.LITERAL:
                chars.add(chr(member))
            elif kind is ops.RANGE and member[1] - member[0] < 64:
                chars.update(map(chr, range(member[0], member[1] + 1)))
            else:
                return None, False
        return chars, False
    if op is ops.SUBPATTERN:
        _, add_flags, _, body = value
        return (None, False) if add_flags else _first_of(body)
    if op is ops.BRANCH:
        chars, can_be_empty = set(), False
        for alternative in value[1]:
            first, empty = _first_of(alternative)
            if first is None:
                return None, False
            chars |= first
            can_be_empty = can_be_empty or empty
        return chars, can_be_empty
    if op in (ops.MAX_REPEAT, ops.MIN_REPEAT, ops.POSSESSIVE_REPEAT):
        low, _, body = value
        first, empty = _first_of(body)
        return (None, False) if first is None else (first, empty or low == 0)
    if op in (ops.AT, ops.ASSERT, ops.ASSERT_NOT):
        return set(), True  # zero width: the next item begins the match
    return None, False


def _required_texts(pattern: str) -> tuple[str, ...] | None:
    """Texts one of which every match of `pattern` contains, the most telling that the
    regex parser's tree shows ("betalen" for "te\\s+betalen", "invoice" or "bill" or
    "receipt" for "(?:invoice|bill|receipt)\\s*(?:no|#)"); None where it shows none."""
    parsed = _regex_parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _required_in(parsed)


def _required_in(items: Iterable[tuple[Any, Any]]) -> tuple[str, ...] | None:
    options: list[tuple[str, ...]] = []
    run = ""  # consecutive literal characters: they stand side by side in every match
    for op, value in items:
        if op is _regex_ops.LITERAL:
            run += chr(value)
            continue
        if run:
            options.append((run,))
            run = ""
        found = _required_in_item(op, value)
        if found:
            options.append(found)
    if run:
        options.append((run,))
    if not options:
        return None
    # The longest shortest text, then the fewest texts: the rarest in a phrase.
    return max(options, key=lambda texts: (min(map(len, texts)), -len(texts)))


def _required_in_item(op: Any, value: Any) -> tuple[str, ...] | None:
    ops = _regex_ops
    if op is ops.SUBPATTERN:
        _, add_flags, _, body = value
        return None if add_flags else _required_in(body)
    if op is ops.BRANCH:
        texts: list[str] = []
        for alternative in value[1]:
            found = _required_in(alternative)
            if found is None:
                return None
            texts.extend(found)
        return tuple(dict.fromkeys(texts))
    if op in (ops.MAX_REPEAT, ops.MIN_REPEAT, ops.POSSESSIVE_REPEAT):
        low, _, body = value
        return _required_in(body) if low >= 1 else None
    if op is ops.IN and all(kind is ops.LITERAL for kind, _ in value):
        return tuple(chr(member) for _, member in value)
    return None


LABELS: list[Label] = [
    # invoice number
    *_labels(
        "invoice_number",
        1.0,
        r"(?:invoice|bill|receipt)\s*(?:number|no\.?|nr\.?|num\.?|#|id)",
        r"rechnungs?-?\s?(?:nummer|nr\.?)",
        r"\w*rechnung\w*\)?\s+(?:nr\.?|nummer|no\.?)",
        r"gutschrifts?-?\s?(?:nummer|nr\.?)",
        r"beleg-?\s?(?:nummer|nr\.?)",
        r"(?:numero|n[°º]|no\.?)\s*(?:de\s+)?(?:la\s+)?facture",
        r"facture\s*(?:n[°º]|no\.?|num(?:ero)?\.?)",
        r"avoir\s*(?:n[°º]|no\.?)",
        r"(?:numero|n[°º]|no\.?)\s*(?:de\s+)?factura",
        r"factura\s*(?:n[°º]|no\.?|num\.?)",
        r"(?:numero|n[°º]|no\.?)\s*(?:di\s+|della\s+)?fattura",
        r"fattura\s*(?:n[°º.]?|nr\.?)",
        r"factuur\s*(?:nummer|nr\.?|no\.?)",
        r"factuurnummer",
        r"fatura\s*(?:n[°º]|no\.?)",
        r"(?:numero|n[°º])\s*(?:da\s+)?fatura",
        r"invoice\s+id",
    ),
    # "Handelsrechnung (380) Nr. 4711", "Gutschrift (Selbst ausgestellte Rechnung) Nr. 4711"
    *_labels("invoice_number", 1.0, _INVOICE + r"\s*\([^)]{1,40}\)\s*" + _NO),
    *_labels("invoice_number", 0.6, _INVOICE, r"factuur", r"document\s*(?:no\.?|nr\.?)"),
    # "Numero documento", "Document number", "Nº do documento": the document is the invoice
    *_labels(
        "invoice_number",
        0.8,
        r"(?:numero|n[°º.]?|nr\.?)\s*(?:del\s+|do\s+|de\s+)?documento",
        r"document\s+number",
        r"documentnummer",
    ),
    # dates
    *_labels(
        "invoice_date",
        1.0,
        r"(?:invoice|bill|receipt)\s*date",
        r"date\s+of\s+(?:invoice|issue)",
        r"rechnungs-?\s?datum",
        r"belegdatum",
        r"date\s+(?:de\s+)?(?:la\s+)?facture",
        r"date\s+d'?\s?emission",
        r"fecha\s+(?:de\s+)?(?:la\s+)?(?:factura|emision)",
        r"data\s+(?:della\s+)?fattura",
        r"data\s+(?:de\s+)?emissao",
        r"data\s+(?:da\s+)?fatura",
        r"factuur\s?datum",
        r"issue\s+date",
        r"date\s+issued",
        r"issued\s+(?:at|on)",
        r"ausgestellt\s+am",
        r"emise?\s+le",
        r"emitida\s+el",
        r"(?:data|fecha)\s+(?:del?\s+|do\s+)?documento",
        r"document\s+date",
        r"documentdatum",
    ),
    *_labels("invoice_date", 0.6, r"date", r"datum", r"fecha", r"data", r"vom", r"dated"),
    *_labels(
        "due_date",
        1.0,
        r"due\s+date",
        r"payment\s+due",
        r"due\s+by",
        r"due\s+on",
        r"faelligkeit\w*",
        r"falligkeit\w*",
        r"fallig\s+am",
        r"zahlbar\s+bis",
        r"netto\s+bis",
        r"zahlungsziel",
        r"(?:date\s+d'?\s?)?echeance",
        r"a\s+payer\s+avant\s+le",
        r"(?:fecha\s+de\s+)?vencimiento",
        r"(?:data\s+di\s+)?scadenza",
        r"vervaldatum",
        r"te\s+betalen\s+voor",
        r"(?:data\s+de\s+)?vencimento",
        r"remit\s+(?:until|by|before)",
        r"pay(?:able)?\s+(?:by|until|before)",
        r"(?:uberweisen|zahlen|begleichen)\s+sie\s+(?:\w+\s+){0,3}bis(?:\s+zum)?",
        r"zahlbar\s+(?:ohne\s+abzug\s+)?bis(?:\s+zum)?",
        r"payer\s+avant\s+le",
    ),
    # order reference
    *_labels(
        "purchase_order",
        1.0,
        # not the "PO" of a value such as "PO-13307"
        r"(?:purchase\s+order|p\.?\s?o\.?(?![-/]?\d))\s*(?:number|no\.?|nr\.?|#)?",
        r"(?:your\s+)?order\s*(?:number|no\.?|#|ref\w*)",
        r"bestell(?:ung|nummer|nr\.?)",
        r"ihre\s+bestellung",
        r"bon\s+de\s+commande",
        r"commande\s*(?:n[°º])?",
        r"pedido",
        r"ordine",
        r"bestelnummer",
        r"uw\s+order",
        r"order",
        r"ordernummer",
        r"uw\s+bestelling",
        r"auftrag(?:snummer|s-?nr\.?)?",
        r"encomenda",
    ),
    # amounts
    *_labels(
        "total_amount",
        1.0,
        r"(?:grand|invoice)\s+total",
        r"total\s+(?:amount|due|incl\.?\w*|eur|usd)",
        r"total\s+ttc",
        r"montant\s+ttc",
        r"net\s+a\s+payer",
        r"gesamtbetrag",
        r"rechnungsbetrag",
        r"bruttosumme",
        r"brutto(?:betrag)?",
        r"endbetrag",
        r"gesamtsumme",
        r"rechnungssumme(?!\s+ohne)",
        r"summe\s+brutto",
        r"total\s+(?:factura|a\s+pagar)",
        r"importe\s+total",
        r"totale\s+(?:fattura|documento)",
        r"factuur\s?totaal",
        r"totaal\s+(?:incl\.?\w*|bedrag)",
        r"te\s+betalen",
        r"valor\s+total",
        r"total\s+(?:da\s+)?fatura",
        r"amount\s+payable",
        r"total\s+payable",
        r"rounded\s+total",
        r"total\s+(?:after\s+)?round\w*",
        r"total\s+incl(?:usive|\.)?\s+(?:of\s+)?(?:gst|vat|tax)",
    ),
    *_labels(
        "total_amount",
        0.7,
        r"total",
        r"totale",
        r"totaal",
        r"summe",
        r"gesamt",
        r"importe",
        r"montant",
        r"amount",
        r"betrag",
        r"bedrag",
    ),
    *_labels(
        "subtotal_amount",
        1.0,
        r"sub-?\s?total",
        r"zwischensumme",
        r"nettobetrag",
        r"netto(?:summe)?",
        r"summe\s+netto",
        r"rechnungssumme\s+ohne\s+ust\.?",
        r"gesamt\s+netto",
        r"warenwert",
        r"total\s+(?:hors\s+taxes|h\.?t\.?)",
        r"montant\s+h\.?t\.?",
        r"sous-?\s?total",
        r"base\s+imponible",
        r"imponibile",
        r"totale\s+imponibile",
        r"subtotaal",
        r"totaal\s+excl\.?\w*",
        r"grondslag",
        r"total\s+(?:excl\.?\w*|net|before\s+tax)",
        r"net\s+(?:amount|total)",
        r"amount\s+excl\.?\w*",
        r"taxable\s+amount",
        r"valor\s+liquido",
        r"total\s+liquido",
        r"base\s+tributavel",
    ),
    *_labels(
        "tax_amount",
        1.0,
        r"(?:total\s+)?(?:vat|tax|gst|sales\s+tax)\s*(?:amount|total)",
        r"steuerbetrag",
        r"mehrwertsteuer(?:betrag)?",
        r"umsatzsteuer(?:betrag)?",
        r"mwst\.?(?:-?betrag)?",
        r"ust\.?(?:-?betrag)?",
        r"montant\s+(?:de\s+la\s+)?tva",
        r"total\s+tva",
        r"tva",
        r"cuota\s+(?:de\s+)?iva",
        r"importe\s+iva",
        r"iva",
        r"btw(?:\s?bedrag)?",
        r"imposta",
        r"total\s+(?:de\s+)?impostos?",
    ),
    *_labels("tax_amount", 0.7, r"vat", r"tax", r"taxes", r"gst", r"igst", r"cgst", r"sgst"),
    *_labels(
        "amount_due",
        1.0,
        r"amount\s+due",
        r"balance\s+due",
        r"zahlbetrag",
        r"zu\s+zahlen(?:der\s+betrag)?",
        r"offener\s+betrag",
        r"reste\s+a\s+payer",
        r"montant\s+du",
        r"saldo",
        r"importe\s+a\s+pagar",
        r"da\s+pagare",
        r"openstaand\s+bedrag",
    ),
    *_labels(
        "discount_amount",
        1.0,
        r"discount",
        r"rabatt",
        r"remise",
        r"descuento",
        r"sconto",
        r"korting",
        r"desconto",
    ),
]
# Every label begins where a word does (after a character that is not a word character, or
# at the start): only the labels that can begin with a character standing there are tried.
_WORD_STARTS = re.compile(r"(?<![\w]).", re.DOTALL)
_LABELS_BY_FIRST: dict[str, list[int]] = {}
for _index, _label in enumerate(LABELS):
    for _char in _label.first or ():
        _LABELS_BY_FIRST.setdefault(_char, []).append(_index)
_LABELS_ANY_FIRST = [index for index, label in enumerate(LABELS) if label.first is None]


# OCR reads a label's I and O as 1 and 0 ("INVO1CE"); between two letters they are letters.
_DIGIT_AS_LETTER = re.compile(r"(?<=[a-z])[01](?=[a-z])")


def label_text(folded: str) -> str:
    """Folded text as label patterns read it: digits standing for letters inside a word are
    letters. One character for one, so offsets stay those of the text."""
    if "0" not in folded and "1" not in folded:
        return folded
    return _DIGIT_AS_LETTER.sub(lambda m: "o" if m.group() == "0" else "i", folded)


def labels_that_may_match(folded: str) -> list[Label]:
    """The labels whose patterns may match in `folded`, in the order of LABELS: most phrases
    (amounts, descriptions) begin no word with a label's first character, and most labels
    that begin with one of theirs lack a text every match of theirs contains."""
    indexes = set(_LABELS_ANY_FIRST)
    for char in set(_WORD_STARTS.findall(folded)):
        indexes.update(_LABELS_BY_FIRST.get(char, ()))
    tried = []
    for index in sorted(indexes):
        label = LABELS[index]
        if label.required is None or any(map(folded.__contains__, label.required)):
            tried.append(label)
    return tried


# The mark between the parts of a one-line sender address ("Name · Street 1 · Town"); OCR
# often glues it to the word before, so only the space after it is required.
PART_SEPARATOR = re.compile(r"\s*[|●•·]\s+")
# OCR also drops the spaces around a sender line's hyphens, and the hyphen is then no
# separator unless a street number and a postcode follow: "MaxMustermann-Str.1-12345Stadt".
_HYPHENED_SENDER = re.compile(r"^([^\d\-]*[^\W\d])\s*-\s*[^-]*\d[^-]*-\s*\d{4,5}")


def sender_line_name(text: str) -> str | None:
    """The name at the head of a one-line sender address ("Name · Street 1 · Town"), or
    None where the text is not one."""
    head = PART_SEPARATOR.split(text, maxsplit=1)
    if len(head) == 2:
        return head[0]
    hyphened = _HYPHENED_SENDER.match(text)
    return hyphened.group(1) if hyphened else None


# A party's name written as "Name: ..." under its heading.
NAME_PREFIX = re.compile(
    r"^(?:name|firma|company|nom|raison\s+sociale|nombre|razon\s+social"
    r"|ragione\s+sociale|naam|nome|denominazione|denominacion(?:\s+social)?|company\s+name"
    r"|firmenname|bedrijfsnaam)\s*:\s*"
)
# Where the parties are introduced. The block under (or right of) these names the party.
VENDOR_HEADINGS = re.compile(
    r"^(?:seller|vendor|supplier|from|issued\s+by|sold\s+by|bill\s+from|verkaufer|lieferant"
    r"|rechnungssteller|leistungserbringer|auftragnehmer|fournisseur|vendeur|emetteur"
    r"|proveedor|vendedor|emisor|fornitore|cedente|leverancier|verkoper|fornecedor)\b"
    r"\s*[:.]?"
)
CUSTOMER_HEADINGS = re.compile(
    r"^(?:bill(?:ed)?\s+to|invoice\s+to|sold\s+to|to|customer|client|buyer|billing\s+address"
    r"|kaufer(?:/leistungsempfanger)?|leistungsempfanger|rechnungsempfanger|rechnungsadresse"
    r"|kunde|auftraggeber|empfanger|factur(?:e|ee)\s+a|adresse\s+de\s+facturation|adresse\s+du\s+client|destinataire"
    r"|acheteur|cliente|facturar\s+a|comprador|destinatario|committente|cessionario"
    r"|factuuradres|klant|afnemer|koper|faturar\s+a|adquirente)\b\s*[:.]?"
)
# Parties of no interest here whose blocks must not be read as vendor or customer.
OTHER_PARTY_HEADINGS = re.compile(
    r"^(?:ship\s+to|deliver\s+to|shipping\s+address|delivery\s+address|lieferadresse"
    r"|lieferanschrift|warenempfanger|abweichender\s+\w+|adresse\s+de\s+livraison"
    r"|livraison|afleveradres|entrega|consegna|payee|zahlungsempfanger)\b"
)
ACCOUNT_HOLDER = re.compile(
    r"(?:account\s+(?:holder|name)|kontoinhaber|titulaire\s+du\s+compte|titular"
    r"|intestatario|rekeninghouder|ten\s+name\s+van)\s*[:.]?\s*"
)
# Legal forms that mark a company name.
LEGAL_FORM = re.compile(
    r"(?<![\w])(?:gmbh|ag|kg|ohg|ug|e\.\s?k\.|gbr|se|ltd\.?|limited|llc|inc\.?|corp\.?|plc|llp"
    r"|co\.|s\.?a\.?r\.?l\.?|s\.?a\.?s\.?|s\.?a\.?|eurl|sasu|s\.?l\.?|s\.?r\.?l\.?"
    # "S.p.A." / "SpA" at the end of a name, not the word "spa" ("Hydrating spa mask").
    r"|s\.p\.a\.?|spa(?=\W*$)"
    r"|b\.?v\.?|n\.?v\.?|vof|lda\.?|pvt\.?|oy|ab|as|a/s|aps|sarl|sas"
    # Malaysia, Singapore: Sendirian Berhad, Berhad, Private Limited.
    r"|s[dao0]n\.?\s*b[hn]d\.?|bhd\.?|berhad|s/b|pte\.?\s*ltd\.?)(?![\w])"
)

# Tax identifiers and the labels that mark them.
TAX_ID_LABEL = re.compile(
    r"(?:ust\.?-?\s?id\.?-?\s?nr\.?|ust-?idnr\.?|umsatzsteuer-?\s?id\w*|steuer-?\s?nr\.?"
    r"|steuernummer|vat\s*(?:reg\w*\.?\s*)?(?:no\.?|number|id|#)?|tax\s*id|tin|gstin"
    r"|gst(?:\s*(?:no\.?|number|reg\w*))?"
    r"|n[°º]?\s*tva(?:\s+intracom\w*)?|tva\s+intracom\w*|tva|siret|siren|cif|nif|nipc"
    r"|p\.?\s?iva|partita\s+iva|btw(?:-?\s?(?:nummer|nr\.?|id))?|vat/tin)\s*[:.]?"
)
# Words that say the identifier that follows is the reader's own ("your VAT number").
CUSTOMER_MARKERS = re.compile(r"(?<![\w])(?:uw|ihre|your|votre|su|vostra|vossa|kunden)(?![\w])")

DOCUMENT_TITLES = [
    (
        "credit_note",
        re.compile(
            r"(?<![\w])(?:credit\s?note|gutschrift|avoir|nota\s+de\s+credito"
            r"|nota\s+di\s+credito|creditnota|credit\s+memo)(?![\w])"
        ),
    ),
    (
        "quote",
        re.compile(
            r"(?<![\w])(?:quote|quotation|angebot|devis|presupuesto|preventivo"
            r"|offerte|orcamento|estimate)(?![\w])"
        ),
    ),
    (
        # Not "Purchase order no.: 4711" on an invoice: a title stands without a value.
        "purchase_order",
        re.compile(
            r"(?<![\w])(?:purchase\s+order|bestellschein|einkaufsbestellung|bon\s+de\s+commande"
            r"|orden\s+de\s+compra|ordine\s+d[i']?\s?acquisto|inkooporder|bestelbon"
            r"|ordem\s+de\s+compra|nota\s+de\s+encomenda)(?![\w])"
            r"(?!\s*(?:n[°º]|no\b|nr\b|number|num|#|:|ref|date|datum|du\b|de\b|del\b))"
        ),
    ),
    (
        "receipt",
        re.compile(
            r"(?<![\w])(?:receipt|quittung|kassenbon|recu|recibo|ricevuta"
            r"|kassabon|bon)(?![\w])"
        ),
    ),
    (
        "invoice",
        re.compile(
            r"(?<![\w])(?:invoice|\w*rechnung|facture|factura|fattura|factuur"
            r"|fatura|tax\s+invoice|bill)(?![\w])"
        ),
    ),
]

# Words that start a section after the line items (the table is over when one appears).
SECTION_ENDS = re.compile(
    r"^(?:zahlungsbedingungen|\w*steueraufschlusselung|belegsummen|zu-\s+und\s+abschlage"
    r"|payment\s+terms|terms\s+and\s+conditions|notes?|conditions\s+de\s+paiement"
    r"|modes?\s+de\s+reglement|condiciones\s+de\s+pago|condizioni\s+di\s+pagamento"
    r"|betalingsvoorwaarden|condicoes\s+de\s+pagamento|bankverbindung|bank\s+details)\s*:?\s*$"
)
