"""The synthetic invoice generator: reproducible, and its truth is what the page prints."""

from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pymupdf
import pytest
from stdnum import iban as stdnum_iban

from training.synth import LANGUAGES, LAYOUT_FAMILIES, generate, render_scan
from training.synth.__main__ import main as cli_main

# training/ is outside coverage's source, and tracing the drawing of hundreds of invoices
# doubled this module's CPU for no line counted.
pytestmark = pytest.mark.no_cover

# enough draws for every layout family and language to occur (all have by seed 118)
SEEDS = range(160)
# the families of invoicing-software habits, each drawn often enough to meet its variants
HABIT_FAMILIES = [f for f in LAYOUT_FAMILIES.values() if f.parties]
HABIT_SEEDS = range(1000, 1012)
ONLY_TOTAL = {f.id for f in LAYOUT_FAMILIES.values() if f.totals in ("single", "gross")}


@pytest.fixture(scope="module")
def documents():
    drawn = [generate(seed) for seed in SEEDS]
    pinned = [
        generate(seed, layout=int(family.id[1:]))
        for family in HABIT_FAMILIES
        for seed in HABIT_SEEDS
    ]
    return drawn + pinned


@cache  # four tests read the text of every drawn document
def page_text(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return "\n".join(page.get_text() for page in doc)


def test_the_same_seed_gives_byte_identical_pdf_and_identical_truth():
    first, second = generate(1234), generate(1234)
    assert first.pdf == second.pdf
    assert first.truth == second.truth
    assert generate(1235).pdf != first.pdf


def test_there_are_at_least_24_layout_families():
    assert len(LAYOUT_FAMILIES) >= 24


def test_at_least_14_families_reproduce_habits_of_invoicing_software():
    assert len(HABIT_FAMILIES) >= 14


def test_every_language_and_every_layout_family_occurs(documents):
    assert {d.language for d in documents} == set(LANGUAGES)
    assert {d.layout for d in documents} == set(LAYOUT_FAMILIES)


def test_layout_and_language_can_be_pinned():
    doc = generate(5, layout=7, language="nl")
    assert (doc.layout, doc.language) == ("L07", "nl")


def test_the_text_layer_prints_the_invoice_number_and_the_total(documents):
    for doc in documents:
        text = page_text(doc.pdf)
        assert doc.truth["invoice_number"] in text, doc.seed
        assert doc.printed_total in text, doc.seed


def test_subtotal_plus_tax_is_the_total(documents):
    for doc in documents:
        if doc.layout in ONLY_TOTAL:
            continue
        t = doc.truth
        assert Decimal(t["subtotal_amount"]) + Decimal(t["tax_amount"]) == Decimal(
            t["total_amount"]
        ), doc.seed


def test_lines_sum_to_the_subtotal_before_document_allowances_and_charges(documents):
    for doc in documents:
        t, extra = doc.truth, doc.truth_extra
        lines = sum(Decimal(line["total"]) for line in t["line_items"])
        assert lines == Decimal(extra["line_total_amount"]), doc.seed
        if doc.layout in ONLY_TOTAL:  # no discount, charge or subtotal: the lines and their tax
            taxes = sum(Decimal(row["tax"]) for row in extra["tax_breakdown"])
            assert lines + taxes == Decimal(t["total_amount"]), doc.seed
            continue
        sign = -1 if Decimal(t["total_amount"]) < 0 else 1
        adjust = Decimal(extra["charge_amount"]) - Decimal(extra["allowance_amount"])
        assert lines + sign * adjust == Decimal(t["subtotal_amount"]), doc.seed


def test_tax_breakdown_sums_to_the_tax(documents):
    for doc in documents:
        if doc.layout in ONLY_TOTAL:
            continue
        taxes = sum(Decimal(row["tax"]) for row in doc.truth_extra["tax_breakdown"])
        assert taxes == Decimal(doc.truth["tax_amount"]), doc.seed


def test_amounts_have_the_currency_decimals(documents):
    for doc in documents:
        places = 0 if doc.truth["currency"] == "JPY" else 2
        for key in ("subtotal_amount", "tax_amount", "total_amount"):
            if key not in doc.truth and doc.layout in ONLY_TOTAL:
                continue
            assert -Decimal(doc.truth[key]).as_tuple().exponent == places, (doc.seed, key)


def test_amount_due_is_the_total_less_what_was_paid(documents):
    with_due = [d for d in documents if "amount_due" in d.truth]
    assert with_due
    assert any(d.truth["amount_due"] != d.truth["total_amount"] for d in with_due)
    for doc in with_due:
        assert (
            Decimal(doc.truth["amount_due"]) <= Decimal(doc.truth["total_amount"])
            or Decimal(doc.truth["total_amount"]) < 0
        )


def test_credit_notes_printed_negative_have_negative_truth(documents):
    credit = [d for d in documents if d.document_type == "credit_note"]
    assert credit
    kinds = Counter(Decimal(d.truth["total_amount"]) < 0 for d in credit)
    assert kinds[True]  # printed negative
    assert kinds[False]  # titled credit note, printed positive
    for doc in credit:
        negative = Decimal(doc.truth["total_amount"]) < 0
        assert all((Decimal(li["total"]) < 0) == negative for li in doc.truth["line_items"])
    assert all(
        Decimal(d.truth["total_amount"]) > 0 for d in documents if d.document_type == "invoice"
    )


def test_keys_absent_from_the_page_are_absent_from_the_truth(documents):
    # L09, L14 and L21 never print a due date; credit notes have none either
    for doc in documents:
        if doc.layout in ("L09", "L14", "L21") or doc.document_type == "credit_note":
            assert "due_date" not in doc.truth, doc.seed
    assert any("due_date" in d.truth for d in documents)


def test_printed_tax_ids_and_ibans_have_valid_check_digits(documents):
    from training.synth.parties import VAT_MODULE

    for doc in documents:
        tax_id = doc.truth.get("vendor_tax_id")
        if tax_id and tax_id[:2] in VAT_MODULE:
            assert VAT_MODULE[tax_id[:2]].is_valid(tax_id), (doc.seed, tax_id)
        if "iban" in doc.truth:
            assert stdnum_iban.is_valid(doc.truth["iban"]), (doc.seed, doc.truth["iban"])


def test_some_tables_run_over_several_pages(documents):
    multi = [d for d in documents if d.page_count > 1]
    assert multi
    for doc in multi[:5]:
        with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
            assert len(pdf) == doc.page_count


@pytest.mark.parametrize("variant", ["standard", "phone", "fax"])
def test_a_scan_is_image_only_with_the_source_page_count(variant):
    doc = next(d for d in (generate(s) for s in range(200)) if d.page_count > 1)
    scan = render_scan(doc.pdf, 7, variant)
    with pymupdf.open(stream=scan, filetype="pdf") as pdf:
        assert len(pdf) == doc.page_count
        assert all(not page.get_text().strip() for page in pdf)
        assert all(page.get_images() for page in pdf)
    assert render_scan(doc.pdf, 7, variant) == scan


def test_the_cli_writes_pdfs_scans_and_a_manifest(tmp_path):
    import json

    assert (
        cli_main(
            [
                "--out",
                str(tmp_path),
                "--count",
                "6",
                "--seed",
                "40",
                "--scans",
                "0.5",
                "--layouts",
                "L01,L04",
            ]
        )
        == 0
    )
    entries = [json.loads(line) for line in (tmp_path / "manifest.jsonl").open()]
    texts = [e for e in entries if e["kind"] == "pdf-text"]
    scans = [e for e in entries if e["kind"] == "pdf-scan"]
    assert len(texts) == 6
    assert {e["truth_extra"]["producer"] for e in texts} == {"synth-L01", "synth-L04"}
    for entry in entries:
        assert (tmp_path / entry["file"]).exists()
    for entry in scans:
        assert entry["truth_extra"]["scan_of"] in {e["file"] for e in texts}


def test_every_printed_text_field_occurs_in_the_text_layer(documents):
    def squash(text):
        return " ".join(text.split())

    for doc in documents:
        text = squash(page_text(doc.pdf))
        t = doc.truth
        for key in (
            "vendor_name",
            "customer_name",
            "vendor_email",
            "vendor_phone",
            "bic",
            "payment_terms",
            "payment_reference",
        ):
            if key in t:
                assert squash(t[key]) in text, (doc.seed, key, t[key])
        for key in ("vendor_address", "customer_address"):
            for line in t.get(key, "").split("\n"):
                assert squash(line) in text, (doc.seed, key, line)
        if "iban" in t:
            assert t["iban"] in text.replace(" ", ""), doc.seed


def test_every_line_total_is_printed_in_the_documents_number_format(documents):
    for doc in documents:
        text = page_text(doc.pdf)
        for line in doc.truth["line_items"]:
            assert doc.format_line_total(line["total"]) in text, (doc.seed, line)


def test_another_process_with_another_hash_seed_draws_the_same_bytes():
    import hashlib
    import os
    import subprocess
    import sys

    code = (
        "import hashlib; from training.synth import generate; "
        "print(hashlib.sha256(b''.join(generate(s).pdf for s in range(8))).hexdigest())"
    )
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    here = hashlib.sha256(b"".join(generate(s).pdf for s in range(8))).hexdigest()
    assert out.stdout.strip() == here


def test_families_printing_one_total_line_have_no_subtotal_or_tax_in_truth(documents):
    only_total = [d for d in documents if d.layout in ONLY_TOTAL]
    assert only_total
    for doc in only_total:
        assert "subtotal_amount" not in doc.truth, doc.seed
        assert "tax_amount" not in doc.truth, doc.seed


def test_a_family_without_tax_prints_a_total_equal_to_its_lines(documents):
    single = [d for d in documents if LAYOUT_FAMILIES[d.layout].totals == "single"]
    assert single
    for doc in single:
        lines = sum(Decimal(line["total"]) for line in doc.truth["line_items"])
        assert lines == Decimal(doc.truth["total_amount"]), doc.seed


def test_item_and_price_tables_give_lines_without_quantity_or_unit_price(documents):
    item_price = [d for d in documents if LAYOUT_FAMILIES[d.layout].columns == "item_price"]
    assert item_price
    for doc in item_price:
        for line in doc.truth["line_items"]:
            assert line["quantity"] is None, doc.seed
            assert line["unit_price"] is None, doc.seed


def test_vouchers_print_a_negative_line_on_a_positive_invoice(documents):
    vouchered = [
        d
        for d in documents
        if LAYOUT_FAMILIES[d.layout].voucher
        and any(Decimal(line["total"]) < 0 for line in d.truth["line_items"])
    ]
    assert vouchered
    assert all(Decimal(d.truth["total_amount"]) > 0 for d in vouchered)


def test_whole_amount_tables_print_the_currency_symbol_without_decimals(documents):
    whole = [d for d in documents if LAYOUT_FAMILIES[d.layout].whole]
    assert whole
    for doc in whole:
        text = page_text(doc.pdf)
        for line in doc.truth["line_items"]:
            sign = "-" if Decimal(line["total"]) < 0 else ""
            printed = doc.format_line_total(line["total"])
            assert any(f"{sign}{symbol}{printed}" in text for symbol in "$€£¥"), (doc.seed, line)


def test_a_vendor_named_as_a_person_occurs_in_the_freelancer_families(documents):
    freelancers = [d for d in documents if LAYOUT_FAMILIES[d.layout].person_vendor]
    legal_forms = {"Ltd", "GmbH", "Inc.", "LLC", "S.r.l.", "SARL", "S.L.", "B.V.", "Lda", "AG"}
    assert any(not set(d.truth["vendor_name"].split()) & legal_forms for d in freelancers)


def test_a_bank_named_like_a_company_is_not_the_vendor(documents):
    named = [
        d for d in documents if LAYOUT_FAMILIES[d.layout].bank == "named" and "iban" in d.truth
    ]
    assert named
    for doc in named:
        assert "bank" not in doc.truth["vendor_name"].lower(), doc.seed


def test_a_boxed_amount_due_before_the_table_is_in_truth(documents):
    due_top = [d for d in documents if LAYOUT_FAMILIES[d.layout].totals == "due_top"]
    assert due_top
    for doc in due_top:
        assert "amount_due" in doc.truth, doc.seed


def test_unlabelled_wordmark_families_print_the_vendor_over_its_address_or_not():
    # HTML templates print the name over the sender's address as well as in the logo
    counts = set()
    for seed in HABIT_SEEDS:
        made = generate(seed, layout=27)
        counts.add(page_text(made.pdf).count(made.truth["vendor_name"]))
    assert counts == {1, 2}
