"""Which bank transactions pay which invoices: pure functions, no database.

Invex receives supplier invoices, so money leaving the account (a debit) pays an invoice,
and money coming in (a credit) settles a credit note (a supplier's refund). Incoming
payments are not matched to invoices: they are a customer paying us, which no invoice in
Invex describes.

A candidate pairing is scored from its evidence, each a reason in the match:

    reference          the invoice number or payment reference is in the remittance text,
                       compared without spacing or punctuation and with the letters OCR
                       confuses with digits (O/0, I/1/L, S/5, Z/2, B/8) made equal
    reference_fuzzy    the same, one or two characters off, or truncated
    structured_reference  the creditor reference (ISO 11649 RF..) equals the invoice's
    amount             the payment is the invoice's open amount
    discount           ... less its early-payment discount (skonto), stated or 1-3 %
    fee                ... give or take a bank fee (up to FEE_TOLERANCE)
    partial            less than the open amount, with a reference: a part payment
    combined           one payment for several invoices whose amounts add up to it
    foreign_currency   the payment is in another currency: the amount cannot be compared
    iban               the counterparty's IBAN is the vendor's
    name               the counterparty's name is like the vendor's (rapidfuzz)
    date               booked between the invoice date and 120 days after its due date

Scores above the threshold are applied; from SUGGEST_FROM up they are suggestions. When a
transaction's best two candidates score alike, neither is applied: a person chooses.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations

from rapidfuzz import fuzz

DEFAULT_THRESHOLD = Decimal("0.80")
SUGGEST_FROM = 0.40
# A transaction's best candidate must lead the next by this much to be applied.
AMBIGUITY_MARGIN = 0.10
# Bank fees taken from (or added to) a payment: a flat charge, at most this many minor
# units and this share of the invoice (beyond it, a smaller payment is a part payment).
FEE_TOLERANCE = 2500
FEE_SHARE = Decimal("0.10")
# An early-payment discount nobody stated: 1 % to 3 % of the open amount.
SKONTO_RANGE = (Decimal("0.01"), Decimal("0.03"))
# A reference key shorter than this matches too much text to count alone.
MIN_KEY = 4
# How many open invoices of one vendor a combined payment is searched among.
MAX_COMBINED_POOL = 14

WEIGHTS = {
    "reference": 0.50,
    "structured_reference": 0.55,
    "reference_fuzzy": 0.35,
    "amount": 0.35,
    "discount": 0.28,
    "fee": 0.28,
    "combined": 0.30,
    "partial": 0.12,
    "foreign_currency": 0.15,
    "iban": 0.20,
    "name": 0.12,
    "date": 0.05,
}

# Letters OCR reads for digits: made equal on both sides of every comparison.
_OCR = str.maketrans(
    {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "S": "5", "Z": "2", "B": "8", "G": "6"}
)
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def ref_key(text: str | None) -> str:
    """ "INV-2026/0042", "inv 2026 OO42" -> "1NV20260042": no case, spacing or punctuation,
    and the letters OCR confuses with digits read as those digits."""
    if not text:
        return ""
    return "".join(_TOKEN.findall(text)).upper().translate(_OCR)


def _digits_tail(key: str) -> str:
    """The key without its leading letters ("1NV20260042" keeps "20260042")."""
    match = re.search(r"\d.*$", key)
    return match.group(0) if match else ""


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    number: str | None
    payment_reference: str | None
    amount: int  # what is still open, minor units, positive
    currency: str | None
    vendor_name: str | None = None
    vendor_iban: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    credit_note: bool = False
    discount_amount: int | None = None
    discount_percent: Decimal | None = None


@dataclass(frozen=True)
class BankTransaction:
    id: str
    amount: int  # signed minor units
    currency: str
    booking_date: date
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance_text: str | None = None
    structured_reference: str | None = None
    end_to_end_id: str | None = None


@dataclass
class Proposal:
    """One transaction paying one or more invoices (`allocations`: invoice ID -> amount in
    the transaction's currency, and whether that settles the invoice)."""

    transaction_id: str
    allocations: list[tuple[str, int, bool]]
    score: float
    reasons: list[str]
    applied: bool = False


@dataclass
class _Index:
    by_key: dict[str, list[OpenInvoice]] = field(default_factory=lambda: defaultdict(list))
    by_amount: dict[tuple[int, str], list[OpenInvoice]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_iban: dict[str, list[OpenInvoice]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, set[str]] = field(default_factory=dict)  # invoice ID -> its keys


def _invoice_keys(invoice: OpenInvoice) -> set[str]:
    keys = set()
    for text in (invoice.number, invoice.payment_reference):
        key = ref_key(text)
        if len(key) >= MIN_KEY:
            keys.add(key)
            tail = _digits_tail(key)
            if len(tail) >= MIN_KEY + 1 and tail != key:
                keys.add(tail)
    return keys


def _build_index(invoices: list[OpenInvoice]) -> _Index:
    index = _Index()
    for invoice in invoices:
        keys = _invoice_keys(invoice)
        index.keys[invoice.id] = keys
        for key in keys:
            index.by_key[key].append(invoice)
        index.by_amount[(invoice.amount, (invoice.currency or "").upper())].append(invoice)
        if invoice.vendor_iban:
            index.by_iban[invoice.vendor_iban].append(invoice)
    return index


def _text_keys(tx: BankTransaction) -> set[str]:
    """Every run of one to four consecutive tokens of the payment's texts, as ref keys: a
    number written "INV 2026 0042" is three tokens."""
    keys = set()
    for text in (tx.remittance_text, tx.structured_reference, tx.end_to_end_id):
        tokens = _TOKEN.findall(text or "")
        for start in range(len(tokens)):
            for length in range(1, 5):
                if start + length > len(tokens):
                    break
                key = ref_key("".join(tokens[start : start + length]))
                if len(key) >= MIN_KEY:
                    keys.add(key)
    return keys


def amount_relation(paid: int, invoice: OpenInvoice) -> tuple[str | None, bool]:
    """How a payment of `paid` relates to the invoice's open amount: the reason, and
    whether it settles the invoice."""
    due = invoice.amount
    if paid == due:
        return "amount", True
    if invoice.discount_amount and paid == due - invoice.discount_amount:
        return "discount", True
    if invoice.discount_percent:
        discounted = (Decimal(due) * (1 - invoice.discount_percent / 100)).to_integral_value()
        if abs(paid - int(discounted)) <= 1:
            return "discount", True
    low, high = (Decimal(due) * (1 - s) for s in reversed(SKONTO_RANGE))
    if low - 1 <= paid <= high + 1 and paid < due:
        return "discount", True
    fee = min(FEE_TOLERANCE, int(Decimal(due) * FEE_SHARE) + 1)
    if 0 < abs(paid - due) <= fee:
        return "fee", True
    return None, False


def _name_similar(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return fuzz.token_set_ratio(a.lower(), b.lower()) >= 85


def _score_pair(
    tx: BankTransaction, invoice: OpenInvoice, text_keys: set[str], index: _Index, text: str
) -> tuple[float, list[str], bool]:
    reasons: list[str] = []
    paid = abs(tx.amount)
    structured = ref_key(tx.structured_reference)
    if structured and structured == ref_key(invoice.payment_reference):
        reasons.append("structured_reference")
    elif index.keys[invoice.id] & text_keys:
        reasons.append("reference")
    else:
        for key in index.keys[invoice.id]:
            if len(key) >= MIN_KEY + 2 and text and fuzz.partial_ratio(key, text) >= 88:
                reasons.append("reference_fuzzy")
                break
    has_reference = bool(reasons)
    settles = False
    if tx.currency.upper() != (invoice.currency or tx.currency).upper():
        reasons.append("foreign_currency")
        settles = has_reference
    else:
        kind, settles = amount_relation(paid, invoice)
        if kind:
            reasons.append(kind)
        elif has_reference and paid < invoice.amount:
            reasons.append("partial")
    if tx.counterparty_iban and tx.counterparty_iban == invoice.vendor_iban:
        reasons.append("iban")
    if _name_similar(tx.counterparty_name, invoice.vendor_name):
        reasons.append("name")
    if invoice.invoice_date and tx.booking_date < invoice.invoice_date - timedelta(days=3):
        return 0.0, reasons, settles  # paid before it was issued: not this invoice
    last = (invoice.due_date or invoice.invoice_date or tx.booking_date) + timedelta(days=120)
    if tx.booking_date <= last:
        reasons.append("date")
    score = round(sum(WEIGHTS[r] for r in reasons), 3)
    if not has_reference and "iban" not in reasons and "name" not in reasons:
        score = min(score, 0.45)  # an amount alone is a hint, never a match
    return min(score, 0.99), reasons, settles


def _combined(
    tx: BankTransaction, pool: list[OpenInvoice], text_keys: set[str], index: _Index
) -> Proposal | None:
    """One payment for several invoices: those its text names, or (without names) a
    subset of the vendor's open invoices, adding up to the payment."""
    paid = abs(tx.amount)
    named = [i for i in pool if index.keys[i.id] & text_keys]
    if len(named) >= 2:
        total = sum(i.amount for i in named)
        fee = min(FEE_TOLERANCE, int(Decimal(total) * FEE_SHARE) + 1)
        if abs(total - paid) <= fee:
            reasons = ["reference", "combined"]
            if tx.counterparty_iban and all(i.vendor_iban == tx.counterparty_iban for i in named):
                reasons.append("iban")
            score = min(
                0.99, WEIGHTS["reference"] + WEIGHTS["combined"] + 0.1 * ("iban" in reasons)
            )
            return Proposal(tx.id, [(i.id, i.amount, True) for i in named], score, reasons)
    if len(pool) > MAX_COMBINED_POOL:
        return None
    for size in (2, 3):
        for group in combinations(pool, size):
            if sum(i.amount for i in group) == paid:
                return Proposal(
                    tx.id,
                    [(i.id, i.amount, True) for i in group],
                    WEIGHTS["combined"] + WEIGHTS["iban"],
                    ["combined", "iban"],
                )
    return None


def propose(
    transactions: list[BankTransaction],
    invoices: list[OpenInvoice],
    threshold: Decimal = DEFAULT_THRESHOLD,
) -> list[Proposal]:
    """The matches for `transactions`, applied (score >= threshold, unambiguous, invoice
    still open) or suggested. Earlier transactions pay first, so several part payments of
    one invoice add up, and an invoice a payment settled takes no further full payment."""
    regular = _build_index([i for i in invoices if not i.credit_note])
    credit_notes = _build_index([i for i in invoices if i.credit_note])
    open_amount = {i.id: i.amount for i in invoices}
    proposals: list[Proposal] = []
    for tx in sorted(transactions, key=lambda t: (t.booking_date, t.id)):
        if tx.amount == 0:
            continue
        index = regular if tx.amount < 0 else credit_notes
        text_keys = _text_keys(tx)
        text = ref_key(" ".join(filter(None, (tx.remittance_text, tx.structured_reference))))
        candidates: dict[str, OpenInvoice] = {}
        for key in text_keys:
            for invoice in index.by_key.get(key, ()):
                candidates[invoice.id] = invoice
        for invoice in index.by_amount.get((abs(tx.amount), tx.currency.upper()), ())[:20]:
            candidates.setdefault(invoice.id, invoice)
        vendor_pool = index.by_iban.get(tx.counterparty_iban or "", [])
        for invoice in vendor_pool[:50]:
            candidates.setdefault(invoice.id, invoice)
        scored = []
        for invoice in candidates.values():
            current = _with_open_amount(invoice, open_amount[invoice.id])
            if current.amount <= 0:
                continue
            score, reasons, settles = _score_pair(tx, current, text_keys, index, text)
            if score >= SUGGEST_FROM:
                scored.append(
                    Proposal(tx.id, [(invoice.id, abs(tx.amount), settles)], score, reasons)
                )
        scored.sort(key=lambda p: -p.score)
        best = scored[0] if scored else None
        if best is None or ("amount" not in best.reasons and "discount" not in best.reasons):
            pool = [
                _with_open_amount(i, open_amount[i.id])
                for i in {**{i.id: i for i in vendor_pool}, **candidates}.values()
                if open_amount[i.id] > 0
            ]
            combined = _combined(tx, pool, text_keys, index)
            if combined and (best is None or combined.score > best.score):
                scored.insert(0, combined)
                best = combined
        if best is None:
            continue
        # a rival pays other invoices (a part of `best`, such as one invoice of a combined
        # payment, is the same reading, not a rival)
        best_ids = {a[0] for a in best.allocations}
        runner_up = next(
            (p for p in scored[1:] if not {a[0] for a in p.allocations} <= best_ids), None
        )
        clear = runner_up is None or best.score - runner_up.score >= AMBIGUITY_MARGIN
        best.applied = best.score >= float(threshold) and clear
        if best.applied:
            for invoice_id, amount, settles in best.allocations:
                open_amount[invoice_id] = 0 if settles else open_amount[invoice_id] - amount
        proposals.append(best)
        # a close second is offered too, so the person choosing sees both
        if not best.applied and runner_up is not None and runner_up.score >= SUGGEST_FROM:
            proposals.append(runner_up)
    return proposals


def _with_open_amount(invoice: OpenInvoice, amount: int) -> OpenInvoice:
    if amount == invoice.amount:
        return invoice
    return OpenInvoice(**{**invoice.__dict__, "amount": amount})
