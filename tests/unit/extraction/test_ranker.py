"""The learned field ranker: its candidates and features, the shipped models, and that
training is reproducible."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pymupdf
import pytest

from workers.extraction import candidates, ranker
from workers.extraction.dates import infer_day_first
from workers.extraction.fields import Document, parse_invoice_pages, party_blocks
from workers.extraction.pdf_text import page_words

INVOICE = [
    (50, 60, "Nordlicht Werkstatt GmbH"),
    (50, 72, "Hafenstraße 4, 20457 Hamburg"),
    (50, 140, "Rechnungsempfänger:"),
    (50, 152, "Kranich Bau AG"),
    (50, 164, "Lindenweg 9"),
    (50, 176, "80331 München"),
    (350, 140, "Rechnungsnummer:"),
    (450, 140, "RE-2025/0117"),
    (350, 152, "Datum:"),
    (450, 152, "14.05.2025"),
    (350, 164, "Fällig am:"),
    (450, 164, "13.06.2025"),
    (60, 240, "Beschreibung"),
    (400, 240, "Betrag"),
    (60, 256, "Montage Regalsystem"),
    (400, 256, "840,00"),
    (300, 300, "Netto"),
    (400, 300, "840,00"),
    (300, 312, "MwSt. 19 %"),
    (400, 312, "159,60"),
    (300, 324, "Gesamt"),
    (400, 324, "999,60"),
]


def _pages(lines):
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    for x, y, text in lines:
        page.insert_text((x, y), text, fontsize=9)
    return [page_words(p) for p in pymupdf.open(stream=pdf.tobytes(), filetype="pdf")]


def _described(lines):
    pages = _pages(lines)
    doc = Document(pages)
    found = candidates.generate(doc, infer_day_first(doc.texts, doc.language, "EUR"))
    candidates.describe(doc, found, party_blocks(doc))
    return found


def _one(found, kind, value):
    matches = [cand for cand in found if cand.kind == kind and cand.value == value]
    assert matches, (
        f"no {kind} candidate {value!r} among {[c.value for c in found if c.kind == kind]}"
    )
    return matches[0]


def test_every_value_of_the_page_is_a_candidate_of_its_kind():
    found = _described(INVOICE)
    _one(found, "id", "RE-2025/0117")
    _one(found, "date", "2025-05-14")
    _one(found, "date", "2025-06-13")
    _one(found, "amount", Decimal("999.60"))
    _one(found, "name", "Kranich Bau AG")


def test_a_value_knows_the_label_left_of_it_and_not_the_others():
    found = _described(INVOICE)
    number = _one(found, "id", "RE-2025/0117")
    assert number.features["left_invoice_number"] < 10
    assert number.features["left_total_amount"] == candidates.FAR
    total = _one(found, "amount", Decimal("999.60"))
    assert total.features["left_total_amount"] < 40
    assert total.features["rank_desc"] == 0  # the largest amount of the page
    assert total.features["is_sum_of_two"] == 1.0  # 840,00 + 159,60


def test_a_name_under_a_customer_heading_is_in_the_customer_block():
    found = _described(INVOICE)
    customer = _one(found, "name", "Kranich Bau AG")
    assert customer.features["in_customer_block"] == 1.0
    assert customer.features["block_position"] == 0
    vendor = _one(found, "name", "Nordlicht Werkstatt GmbH")
    assert vendor.features["in_customer_block"] == 0.0
    assert vendor.features["legal_form"] == 1.0


def test_two_unheaded_blocks_side_by_side_are_marked_left_and_right():
    found = _described(
        [
            (50, 40, "INVOICE"),
            (400, 40, "Invoice #: 123"),
            (50, 150, "Sparkle Works, Inc."),
            (380, 150, "Acme Corp."),
            (50, 162, "12 Sunny Road"),
            (380, 162, "John Doe"),
            (50, 174, "Sunnyville, CA 12345"),
            (380, 174, "john@example.com"),
            (300, 300, "Total: $385.00"),
        ]
    )
    assert _one(found, "name", "Sparkle Works, Inc.").features["facing"] == 1.0
    assert _one(found, "name", "Acme Corp.").features["facing"] == -1.0
    assert _one(found, "name", "John Doe").features["facing"] == 0.0
    # A4, not US Letter
    assert _one(found, "name", "Acme Corp.").features["page_aspect"] == pytest.approx(595 / 842)


def test_a_labelled_meta_block_beside_an_address_is_no_facing_party():
    found = _described(INVOICE)
    assert all(cand.features.get("facing", 0.0) == 0.0 for cand in found)


def test_feature_vectors_have_the_columns_the_shipped_models_were_trained_on():
    models = ranker.models()
    assert models is not None, "the shipped models are missing: run `make train`"
    for name, spec in models.meta["fields"].items():
        kind = candidates.FIELD_KINDS[name]
        assert spec["columns"] == len(candidates.feature_names(kind))
        assert models.boosters[name].num_feature() == spec["columns"]


def test_the_ranker_reads_the_fields_of_a_plain_invoice():
    fields = parse_invoice_pages(_pages(INVOICE))
    assert fields["invoice_number"] == "RE-2025/0117"
    assert fields["invoice_date"] == "2025-05-14"
    assert fields["due_date"] == "2025-06-13"
    assert fields["total_amount"] == 99960
    assert fields["vendor_name"] == "Nordlicht Werkstatt GmbH"
    assert fields["customer_name"] == "Kranich Bau AG"
    for name in candidates.FIELD_KINDS:
        assert 0.0 <= fields["field_confidence"][name] <= 1.0


def test_without_the_ranker_the_rules_alone_answer(monkeypatch):
    monkeypatch.setenv("INVEX_RANKER", "0")
    assert ranker.models() is None
    assert parse_invoice_pages(_pages(INVOICE))["invoice_number"] == "RE-2025/0117"


@pytest.mark.parametrize("seed", [7])
def test_training_twice_on_the_same_documents_gives_the_same_model(seed):
    from training import ranker as training

    dataset = training.build_dataset(synth=6, scans=0, seed=seed, corpora=[], log=lambda *_: None)
    first = training.fit(dataset, seed=seed)
    second = training.fit(dataset, seed=seed)
    assert first
    assert first.keys() == second.keys()
    for name in first:
        assert first[name].model_to_string() == second[name].model_to_string()


def _scores(options, rule_value=None, rule_confidence=0.0):
    values = [value for value, _ in options]
    return ranker.FieldScores(
        values=values,
        probabilities=np.asarray([p for _, p in options]),
        agrees=np.asarray([float(rule_value == value) for value in values]),
        rule_value=rule_value,
        rule_confidence=rule_confidence,
    )


def _amounts(options):
    return _scores([(Decimal(value), p) for value, p in options])


def test_totals_that_do_not_add_up_give_way_to_a_likely_reading_that_does():
    decided = ranker.decide(
        {
            "subtotal_amount": _amounts([("840.00", 0.9), ("159.60", 0.05)]),
            "tax_amount": _amounts([("19.00", 0.55), ("159.60", 0.4)]),
            "total_amount": _amounts([("999.60", 0.95), ("840.00", 0.1)]),
        }
    )
    assert decided["tax_amount"] == (Decimal("159.60"), 0.4)
    assert decided["subtotal_amount"][0] == Decimal("840.00")
    assert decided["total_amount"][0] == Decimal("999.60")


def test_a_balanced_reading_the_model_finds_unlikely_does_not_replace_a_sure_one():
    decided = ranker.decide(
        {
            "subtotal_amount": _amounts([("840.00", 0.9)]),
            "tax_amount": _amounts([("19.00", 0.95), ("159.60", 0.01)]),
            "total_amount": _amounts([("999.60", 0.95)]),
        }
    )
    assert decided["tax_amount"] == (Decimal("19.00"), 0.95)


def test_the_rules_value_stays_where_the_model_is_unsure_with_its_doubt_as_confidence():
    decided = ranker.decide(
        {
            "invoice_date": _scores(
                [("2025-05-14", 0.3)], rule_value="2025-05-14", rule_confidence=0.9
            )
        }
    )
    assert decided["invoice_date"] == ("2025-05-14", 0.3)
