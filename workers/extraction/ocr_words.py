"""OCR words that the engine ran together, cut apart again before fields are read.

Recognisers that read a whole text line at once (PP-OCR, which RapidOCR runs) often drop the
narrow space between a label and its value or between a number and the word after it:
"HandelsrechnungNr.KR1234vom06.10.2018", "Invoice No.INV-77", "2.1vom". The field parser
looks for labels and values as separate words, so such a word is cut where a printed space
is certain to have been:

- before "Nr" / "No" glued to the end of a lower-case word ("RechnungNr." -> "Rechnung Nr.");
- after an abbreviation's dot followed by a letter or digit ("Nr.KR12" -> "Nr. KR12");
- around a short connecting word ("vom", "from", "du", ...) glued between a number and a
  date, or after a number at the end ("4711vom05.03.2018" -> "4711 vom 05.03.2018");
- between a word and a date glued to it ("Date05/01/2018" -> "Date 05/01/2018", "Date1"
  before "September 2023" -> "Date 1"), and
  between a date and the time glued after it ("03/02/201815:28").

Only these places: a general split of letters and digits would break invoice numbers such as
"RE1001" or "KR8765".

The opposite happens too, on faxes and letter-spaced headings: "I N V O I C E", "TO TAL",
"D ate". Neighbouring words are joined again where together they spell a word that labels
invoices and apart they do not (`join_split_words`).
"""

from __future__ import annotations

import re
from itertools import pairwise

from workers.extraction.layout import Page, Word, fold

# Words that join a number to a date in invoice headings, in the supported languages.
_CONNECTORS = r"(?:vom|am|bis|from|dated|of|on|du|le|del|de|al|van|dd)"
_DATE_AHEAD = r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d)"
# Each pattern marks one cut at the start of its group "at".
_CUTS = [
    # "RechnungNr." "InvoiceNo:" "BelegNr" (not "Nro", "Now", "None": a dot, colon, digit
    # or the end must follow).
    re.compile(r"[a-zäöüß]{3}(?P<at>(?:Nr|No)(?:[.:#]|\d|$))"),
    # "INVOICENO:", "RECEIPTNO.", "BILLNO" (upper case: only after the document's name).
    re.compile(
        r"(?i:invoice|receipt|bill|rechnung|beleg|facture|factura|fattura|factuur|order)"
        r"(?P<at>(?i:no|nr)(?:[.:#]|\d|$))"
    ),
    # "Invoice103767", "Rechnung4711": a document's name glued to its number.
    re.compile(
        r"(?:^|(?<=[^\w]))(?i:invoice|receipt|rechnung|facture|factura|fattura|factuur|fatura)"
        r"(?P<at>\d)"
    ),
    # "Incl.VAT", "inkl.MwSt": an abbreviation's dot glued to the next word.
    re.compile(r"(?<![\w])(?i:incl|excl|inkl|exkl|zzgl|ggf|bzw)\.(?P<at>[^\W\d_])"),
    # "DueDate", "TotalAmount", "InvoiceNumber": two label words without their space.
    re.compile(
        r"(?<![\w])(?i:due|invoice|total|sub|tax|vat|payment|order|bill|receipt|grand|net"
        r"|issue|customer|account)(?P<at>(?:Date|Total|Number|Amount|Due|Tax|Vat|VAT|No|Nr"
        r"|Terms|Id|ID)(?![a-z]))"
    ),
    # "Nr.KR1234", "No.123", "Nr.:4711"
    re.compile(r"(?<![\w])(?i:nr|no)\.?:?(?<=[.:])(?P<at>[A-Za-z0-9])"),
    # "4711vom05.03.2018", "4711vom": a connector glued after a number.
    re.compile(rf"\d(?P<at>{_CONNECTORS}(?:{_DATE_AHEAD}|$))"),
    # "03/02/201815:28": a date with a four-digit year glued to the time after it.
    re.compile(r"(?<!\d)\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d(?P<at>[012]?\d[:.][0-5]\d)"),
    # "Date1 September 2023": a date label glued to the day that begins a date in words.
    re.compile(r"(?<![\w])(?i:date|datum|fecha|data|dated|vom)(?P<at>\d{1,2}(?:st|nd|rd|th|\.)?$)"),
    # "Date05/01/2018", "vom06.10.2018": a date glued after a word.
    re.compile(rf"[a-zäöüß]{{2}}(?P<at>{_DATE_AHEAD})"),
]


def split_glued_text(text: str) -> list[str]:
    """`text` of one OCR word cut into the words that were printed ("4711vom05.03.2018" ->
    ["4711", "vom", "05.03.2018"]); one piece when nothing is glued."""
    pieces = _split_once(text)
    if len(pieces) == 1:
        return pieces
    # A cut can uncover another ("RechnungNr.4711": "Nr.4711" is only seen once cut off).
    return [part for piece in pieces for part in split_glued_text(piece)]


def _split_once(text: str) -> list[str]:
    cuts: set[int] = set()
    for pattern in _CUTS:
        for match in pattern.finditer(text):
            if 0 < match.start("at") < len(text):
                cuts.add(match.start("at"))
    # A connector cut before is also cut after, when a date follows it.
    for match in re.finditer(rf"(?<=\d)({_CONNECTORS})(?={_DATE_AHEAD})", text):
        cuts.add(match.end())
    if not cuts:
        return [text]
    bounds = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in pairwise(bounds) if text[a:b]]


def split_glued_words(page: Page) -> Page:
    """`page` with every glued word cut (`split_glued_text`), each piece given its share of
    the word's width."""
    words: list[Word] = []
    changed = False
    for word in page.words:
        pieces = split_glued_text(word.text)
        if len(pieces) == 1:
            words.append(word)
            continue
        changed = True
        step = (word.x1 - word.x0) / max(1, len(word.text))
        x = word.x0
        for piece in pieces:
            width = step * len(piece)
            # A hair of space between pieces keeps them separate words in one phrase.
            words.append(
                Word(piece, x, word.y0, x + width - 0.1 * step, word.y1, word.page, word.confidence)
            )
            x += width
    if not changed:
        return page
    return Page(number=page.number, width=page.width, height=page.height, words=tuple(words))


# Words of invoice labels and titles, folded, in the supported languages: a run of
# neighbouring words spelling one of them was one word printed with wide spacing.
_LABEL_WORDS = frozenset(
    """
    invoice receipt bill total subtotal amount date number due balance tax vat gst price
    quantity description name payment customer client vendor supplier order terms account
    document documento dokument beleg codice descrizione descripcion
    rechnung gutschrift datum betrag summe gesamt netto brutto steuer mwst menge preis
    beschreibung kunde nummer faellig zahlbar lieferant
    facture avoir montant numero echeance fournisseur quantite prix designation
    factura fecha importe cantidad precio cliente proveedor vencimiento
    fattura totale importo imponibile imposta quantita prezzo scadenza fornitore
    factuur totaal bedrag aantal prijs klant leverancier vervaldatum
    fatura valor quantidade preco fornecedor vencimento
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
_LONGEST = max(map(len, _LABEL_WORDS))
_PUNCTUATION = ":.#"


def join_split_words(page: Page) -> Page:
    """`page` with each run of neighbouring words that spells a label word joined into one
    ("TO TAL" -> "TOTAL"); runs whose words are label words themselves stay apart."""
    words = page.words
    # Folding is the cost: only short letter words can begin or continue a run.
    folded = [
        fold(word.text) if len(word.text) <= _LONGEST and word.text[:1].isalpha() else ""
        for word in words
    ]
    joined: list[Word] = []
    changed = False
    i = 0
    while i < len(words):
        run = _spelled_run(words, folded, i)
        if run < 2:
            joined.append(words[i])
            i += 1
            continue
        parts = words[i : i + run]
        joined.append(Word.spanning(parts, "".join(word.text for word in parts)))
        changed = True
        i += run
    if not changed:
        return page
    return Page(number=page.number, width=page.width, height=page.height, words=tuple(joined))


def _spelled_run(words: tuple[Word, ...], folded: list[str], start: int) -> int:
    """How many words from `start` spell one label word (0 when none do)."""
    text = folded[start]
    if not text.isalpha() or len(text) >= _LONGEST or start + 1 >= len(words):
        return 0
    if not folded[start + 1]:
        return 0
    for end in range(start + 1, min(len(words), start + 8)):
        previous, word = words[end - 1], words[end]
        height = max(1.0, previous.y1 - previous.y0)
        same_line = word.y0 < previous.y1 and previous.y0 < word.y1
        if not same_line or not 0 <= word.x0 - previous.x1 < 2 * height:
            return 0
        piece = folded[end]
        last = end == len(words) - 1 or not piece.isalpha()
        text += piece.rstrip(_PUNCTUATION)
        if not text.isalpha() or len(text) > _LONGEST:
            return 0
        if text in _LABEL_WORDS and not all(
            folded[k].rstrip(_PUNCTUATION) in _LABEL_WORDS for k in range(start, end + 1)
        ):
            return end - start + 1
        if last:
            return 0
    return 0
