"""Postal addresses from the lines under a party's name: which lines are a street, a
postcode and town, or a country, and where the address ends (contact details, tax ids,
bank details, another block).

Rules are generic: postcode forms of the EU, the UK, the US and India, and street words in
English, German, French, Spanish, Italian, Dutch and Portuguese. Patterns match folded
text (lower case, no accents: see `layout.fold`) unless they say otherwise.
"""

from __future__ import annotations

import re

from workers.extraction.labels import TAX_ID_LABEL
from workers.extraction.layout import fold

# "12345 Berlin", "D-12345 Berlin", "F-75001 Paris", "1000 Bruxelles", "1012 AB Amsterdam",
# "1000-001 Lisboa", "00-950 Warszawa", "Mumbai 400001", "Springfield, IL 62704", "SW1A 1AA".
_POSTCODE_CITY = re.compile(
    r"(?:^|[\s,])(?:[A-Z]{1,2}-)?\d{4,5}(?:\s?[A-Z]{2}(?![a-z]))?\s+[^\W\d][^\W\d'.-]+"
    r"|(?:^|[\s,])\d{4}-\d{3}\s+[^\W\d]+"
    r"|(?:^|[\s,])\d{2}-\d{3}\s+[^\W\d]+"
    r"|[^\W\d]{3,}[\s,-]+\d{3}\s?\d{3}(?!\d)"
    r"|[^\W\d]{2,},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?(?!\d)"
    r"|(?<![\w])[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}(?![\w])"
)
_STREET_WORDS = (
    # en
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|boulevard|blvd\.?|way|place"
    r"|square|court|ct\.?|highway|hwy|parkway|terrace|close|crescent|suite|floor|building"
    r"|p\.?\s?o\.?\s+box"
    # de
    r"|\w*strasse|\w*straße|\w*str\.?|\w*weg|\w*gasse|\w*platz|\w*allee|\w*ring|\w*damm"
    r"|\w*ufer|\w*chaussee|postfach"
    # fr
    r"|rue|avenue|boulevard|bd|chemin|place|allee|impasse|quai|route|cours|bp|cedex"
    # es
    r"|calle|c/|avenida|avda\.?|plaza|paseo|carretera|camino|apartado"
    # it
    r"|via|viale|piazza|piazzale|corso|vicolo|largo|strada|casella\s+postale"
    # nl
    r"|\w*straat|\w*laan|\w*plein|\w*gracht|\w*kade|\w*singel|\w*dijk|postbus"
    # pt
    r"|rua|travessa|praca|estrada|alameda"
)
_STREET = re.compile(r"(?<![\w])(?:" + _STREET_WORDS + r")(?![\w])")
_HOUSE_NUMBER = re.compile(r"(?<![\w/.-])\d{1,5}(?:\s?[a-z])?(?![\w/.-])|(?<![\w])n[°º.]\s?\d")
_COUNTRIES = re.compile(
    r"^(?:germany|deutschland|france|spain|espana|italy|italia|netherlands|nederland"
    r"|the\s+netherlands|belgium|belgique|belgie|belgien|portugal|austria|osterreich"
    r"|switzerland|schweiz|suisse|svizzera|united\s+kingdom|uk|great\s+britain|england"
    r"|scotland|wales|ireland|eire|usa|u\.s\.a\.|united\s+states(?:\s+of\s+america)?"
    r"|india|luxembourg|luxemburg|denmark|danmark|sweden|sverige|norway|norge|finland"
    r"|suomi|poland|polska|czech\s+republic|czechia|hungary|greece|canada|australia"
    r"|[a-z]{2})\.?$"
)
# Where an address ends: contact details, identifiers, bank details, labels of other values.
_STOP = re.compile(
    r"@|https?:|www\.|(?<![\w])(?:tel|phone|telefon|telephone|tél|fax|mobile|mobil|fon"
    r"|e-?mail|iban|bic|swift|bank|konto|blz|account|compte|cuenta|conto|rekening"
    r"|web|internet|registr\w*|handelsregister|hrb|amtsgericht|geschaftsfuhrer|siret|siren"
    r"|rcs|cif|nif|gstin|pan|cin|kvk|invoice|rechnung|facture|factura|fattura|factuur"
    r"|fatura|date|datum|fecha|data|customer|kunde|client|cliente|klant)(?![\w])"
)
_SEPARATORS = re.compile(r"\s+[|●•·]\s+|\s{3,}")


def is_postcode_line(text: str) -> bool:
    return bool(_POSTCODE_CITY.search(text.strip()))


def _is_street(text: str) -> bool:
    folded = fold(text)
    return bool(_STREET.search(folded) and _HOUSE_NUMBER.search(folded)) or bool(
        re.match(r"^\d{1,5}[a-z]?,?\s+[^\W\d]{2,}", folded)  # "221B Baker Street", "12, rue ..."
    )


def _is_country(text: str) -> bool:
    return bool(_COUNTRIES.match(fold(text).strip(" ,;")))


def is_stop(text: str) -> bool:
    folded = fold(text)
    return bool(_STOP.search(folded) or TAX_ID_LABEL.match(folded))


def address_parts(line_texts: list[str]) -> list[str]:
    """The parts of lines, split where a one-line sender address separates them
    ("Hafenstraße 12 · 20457 Hamburg · USt-IdNr. DE123")."""
    parts: list[str] = []
    for text in line_texts:
        parts.extend(part.strip(" ,;") for part in _SEPARATORS.split(text) if part.strip(" ,;"))
    return parts


def address_from(line_texts: list[str]) -> str | None:
    """The postal address at the start of the lines after a name, joined with newlines:
    street, postcode and town, country; a line of none of these may stand between the name
    and them ("c/o", "Building 4"). None when no street or postcode line is among them."""
    kept: list[str] = []
    pending: str | None = None
    anchored = False
    for part in address_parts(line_texts):
        if is_stop(part) or ":" in part:
            break
        street, postcode = _is_street(part), is_postcode_line(part)
        if street or postcode or (anchored and _is_country(part)):
            if pending is not None:
                kept.append(pending)
                pending = None
            kept.append(part)
            anchored = anchored or street or postcode
            continue
        if anchored or pending is not None or len(part) > 60:
            break
        pending = part  # a line between the name and the street ("c/o Finance")
    return "\n".join(kept) if anchored else None
