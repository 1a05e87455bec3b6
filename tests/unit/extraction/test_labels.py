"""Which labels the field parser tries on a phrase: only those that can begin with a
character that begins one of its words and whose matches' texts stand in it, never fewer
than those that match."""

import pytest

from training.synth.vocab import LABELS as PRINTED
from workers.extraction.labels import (
    LABELS,
    _first_characters,
    _required_texts,
    label_text,
    labels_that_may_match,
)
from workers.extraction.layout import fold

PHRASES = [
    "Invoice No.: 2024-0042",
    "Invoice #INV-7",
    "Bill number",
    "Rechnungsnummer: 4711",
    "Handelsrechnung (380) Nr. 4711",
    "Gutschrift (Selbst ausgestellte Rechnung) Nr. 9",
    "Teilrechnung Nr. 3",
    "N° de facture : F-12",
    "Facture n° 77",
    "Nº do documento 5",
    "Numero fattura 2/2024",
    "Factuurnummer 99",
    "Rechnungsdatum 01.02.2024",
    "Date d'émission : 3 mars 2024",
    "Fecha de emisión",
    "Fälligkeitsdatum",
    "Zahlbar ohne Abzug bis zum 12.03.2024",
    "Überweisen Sie den Betrag bis zum 1.4.",
    "Payment due",
    "PO Number: 4500012345",
    "Your order ref: A-1",
    "Grand total EUR 1.234,56",
    "Total TTC",
    "Gesamtbetrag",
    "Sub-total",
    "Total HT",
    "Zwischensumme (netto)",
    "MwSt. 19 %",
    "VAT amount",
    "IVA 21%",
    "Amount due",
    "Saldo",
    "Rabatt 5 %",
    "-Total:",
    "*Discount",
    "€Total",
    "x.total",
    "Total°",
    "1.234,56 €",
    "Hydrating spa mask",
    "",
]


@pytest.mark.parametrize("text", PHRASES)
def test_every_label_that_matches_a_phrase_is_tried(text: str) -> None:
    folded = fold(text)
    tried = labels_that_may_match(folded)
    matching = [label for label in LABELS if label.pattern.search(folded)]
    assert [label for label in matching if label not in tried] == []


def test_every_label_that_matches_a_printed_label_of_the_generator_is_tried() -> None:
    texts = [
        text
        for languages in PRINTED.values()
        if isinstance(languages, dict)
        for synonyms in languages.values()
        for text in (synonyms if isinstance(synonyms, list) else [synonyms])
        if isinstance(text, str)
    ]
    assert len(texts) > 300
    missed = {}
    for text in texts:
        for written in (text, f"{text.upper()}:", f"({text}) 12,50"):
            folded = fold(written)
            tried = labels_that_may_match(folded)
            lost = [
                label for label in LABELS if label.pattern.search(folded) and label not in tried
            ]
            if lost:
                missed[written] = lost
    assert missed == {}


def test_labels_are_tried_in_their_listed_order() -> None:
    tried = labels_that_may_match(fold("Invoice total and tax amount"))
    positions = [LABELS.index(label) for label in tried]
    assert positions == sorted(positions)


def test_a_phrase_without_a_label_word_tries_no_label() -> None:
    assert labels_that_may_match(fold("1.234,56 € 19 %")) == []


def test_a_label_is_not_tried_without_a_text_its_matches_contain() -> None:
    tried = labels_that_may_match(fold("Te koop"))  # begins like "te betalen"
    assert [label.pattern.pattern for label in tried if "betalen" in label.pattern.pattern] == []


@pytest.mark.parametrize(
    ("pattern", "first"),
    [
        (r"total", {"t"}),
        (r"n[°º]\s*tva", {"n"}),
        (r"(?:numero|n[°º])\s*fatura", {"n"}),
        (r"(?:date\s+d'?\s?)?echeance", {"d", "e"}),
        (r"a?b", {"a", "b"}),
        (r"[a-c]x", {"a", "b", "c"}),
        (r"(?=x)y", {"y"}),
    ],
)
def test_first_characters_of_a_pattern(pattern: str, first: set[str]) -> None:
    assert _first_characters(pattern) == first


@pytest.mark.parametrize(
    "pattern", [r"\w*rechnung", r"[^x]y", r".a", r"a?", r"(?i)total", r"(?i:t)x"]
)
def test_first_characters_unknown_where_any_character_may_begin(pattern: str) -> None:
    assert _first_characters(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        (r"te\s+betalen", ("betalen",)),
        (r"(?:invoice|bill|receipt)\s*(?:no|#)", ("invoice", "bill", "receipt")),
        (r"(?:invoice|bill|receipt)\s*date", ("date",)),
        (r"\w*rechnung\w*\)?\s+(?:nr\.?|nummer)", ("rechnung",)),
        (r"n[°º]\s*tva", ("tva",)),
        (r"(?:a|b)+c?", ("a", "b")),
        (r"sub-?\s?total", ("total",)),
    ],
)
def test_texts_every_match_of_a_pattern_contains(pattern: str, required: tuple[str, ...]) -> None:
    assert _required_texts(pattern) == required


@pytest.mark.parametrize("pattern", [r"\w+", r"x?", r"(?:a|\d)", r"(?i)total"])
def test_no_required_text_where_the_pattern_shows_none(pattern: str) -> None:
    assert _required_texts(pattern) is None


@pytest.mark.parametrize(
    ("read", "as_labels_read_it"),
    [
        ("invo1ce", "invoice"),
        ("t0tal", "total"),
        ("rechnungsnumm1er", "rechnungsnummier"),
        ("inv-2024-01", "inv-2024-01"),  # digits beside digits stay digits
        ("ab12cd", "ab12cd"),
        ("1nvoice", "1nvoice"),  # only between two letters
    ],
)
def test_ocr_digits_between_letters_are_read_as_letters_by_labels(read, as_labels_read_it):
    assert label_text(read) == as_labels_read_it
    assert len(label_text(read)) == len(read)  # offsets of the text hold


def test_a_label_ending_in_a_mark_may_touch_its_value():
    hits = [
        (label.field, match.group())
        for label in LABELS
        for match in label.pattern.finditer(label_text(fold("INVO1CE#2015-11-04")))
    ]

    assert ("invoice_number", "invoice#") in hits


def test_a_label_ending_in_a_letter_still_needs_a_boundary():
    folded = fold("Totalbetrag 100")
    assert not [
        label
        for label in LABELS
        if label.field == "total_amount"
        and any(m.group() == "total" for m in label.pattern.finditer(folded))
    ]
