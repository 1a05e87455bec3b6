"""Reconciliation accuracy and speed on a generated, labelled set (issue 18's goals:
precision of applied matches >= 0.99, recall of applied + suggested >= 0.95, 10,000
transactions against 10,000 open invoices in under 10 s).

Invoices from a few hundred vendors; payments made from them with realistic noise: typos,
OCR confusions, spacing and truncation in the remittance text, combined and partial
payments, fees and skonto, missing references, payments in another currency, and unrelated
transactions (card payments, salaries, incoming money). The generator is deterministic
(`--seed`). `--through-parsers` also writes the payments as statements in every format
(camt.053.001.08, MT940 with German ?-subfields, OFX 1.x SGML, a Sparkasse CSV export in
cp1252), reads them back with the service's parsers and reconciles what they read, so the
formats' own losses count too: MT940's 27-character ?2x subfields and 65-character lines,
its 27-character name and 270-character purpose, OFX's 32-character NAME, one currency per
MT940 and OFX statement, and no creditor-reference field outside camt (the RF reference
goes into the purpose text, as banks put it there).

    python bench/reconcile_speed.py [--invoices 10000] [--seed 7] [--through-parsers]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import string
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.bank.matching import BankTransaction, OpenInvoice, propose
from common.bank.statements.formats import parse_statement
from tests.unit.bank.documents import Payment, camt053, mt940, ofx

WORDS = (
    "Nord",
    "Sued",
    "Alpha",
    "Beta",
    "Meyer",
    "Schmidt",
    "Tech",
    "Bau",
    "Logistik",
    "Papier",
    "Druck",
    "Energie",
    "Service",
    "Handel",
    "Software",
    "Consult",
    "Metall",
)
FORMS = ("GmbH", "AG", "KG", "SARL", "Ltd", "BV", "GmbH & Co. KG")


@dataclass
class Case:
    invoices: list[OpenInvoice]
    transactions: list[BankTransaction]
    truth: dict[str, set[str]]  # transaction ID -> the invoices it pays


def _iban(rng: random.Random) -> str:
    """A German IBAN with valid check digits (the parsers drop one that has none)."""
    bban = "".join(rng.choices(string.digits, k=18))
    check = 98 - int(bban + "131400") % 97  # "DE00" moved to the end, D=13, E=14
    return f"DE{check:02d}{bban}"


def _noisy_reference(rng: random.Random, number: str) -> str:
    roll = rng.random()
    if roll < 0.15:  # spacing and punctuation
        return number.replace("-", " ").replace("/", " ")
    if roll < 0.25:  # OCR confusions
        return number.replace("0", "O", 1).replace("1", "I", 1)
    if roll < 0.32:  # a typo: one character replaced
        at = rng.randrange(len(number))
        return number[:at] + rng.choice(string.digits) + number[at + 1 :]
    if roll < 0.38:  # lower case, no separators
        return number.lower().replace("-", "")
    return number


def _remittance(rng: random.Random, references: list[str]) -> str:
    prefix = rng.choice(("", "Rechnung ", "Invoice ", "RE ", "Rg.-Nr. ", "Facture ", "Payment "))
    text = prefix + ", ".join(references)
    if rng.random() < 0.3:
        text += rng.choice((" Kunde 4711", " vielen Dank", " KD-NR 99812", " Auftrag 5531"))
    if rng.random() < 0.08:  # truncated by the bank at 35 characters
        text = text[:35]
    return text


def generate(n_invoices: int, seed: int) -> Case:
    rng = random.Random(seed)
    vendors = []
    for v in range(max(20, n_invoices // 25)):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(FORMS)}"
        vendors.append((f"{name} {v}" if rng.random() < 0.3 else name, _iban(rng)))
    invoices: list[OpenInvoice] = []
    start = date(2026, 1, 1)
    for i in range(n_invoices):
        name, iban = rng.choice(vendors)
        issued = start + timedelta(days=rng.randrange(90))
        number = rng.choice(("INV-{y}-{n:05d}", "RE{n:06d}", "{n:07d}", "F/{y}/{n:04d}"))
        number = number.format(y=2026, n=i + 1000)
        credit_note = rng.random() < 0.03
        invoices.append(
            OpenInvoice(
                id=f"inv_{i:06d}",
                number=number,
                payment_reference=f"RF{rng.randrange(10, 99)}{i:08d}"
                if rng.random() < 0.1
                else None,
                amount=rng.randrange(500, 500_000),
                currency="EUR",
                vendor_name=name,
                vendor_iban=iban if rng.random() < 0.7 else None,
                invoice_date=issued,
                due_date=issued + timedelta(days=30),
                credit_note=credit_note,
                discount_percent=Decimal(2) if rng.random() < 0.05 else None,
            )
        )
    transactions: list[BankTransaction] = []
    truth: dict[str, set[str]] = {}
    pending = list(invoices)
    rng.shuffle(pending)
    t = 0

    def add(amount: int, paid: list[OpenInvoice], **kw) -> None:
        nonlocal t
        t += 1
        tx_id = f"btx_{t:07d}"
        first = paid[0] if paid else None
        vendor_name, vendor_iban = (
            (first.vendor_name, first.vendor_iban or _iban(rng)) if first else ("", None)
        )
        if first and rng.random() < 0.2:
            vendor_iban = None
        booking = (first.invoice_date if first else start) + timedelta(days=rng.randrange(1, 45))
        transactions.append(
            BankTransaction(
                id=tx_id,
                amount=amount,
                currency=kw.pop("currency", "EUR"),
                booking_date=booking,
                counterparty_name=kw.pop("name", vendor_name),
                counterparty_iban=kw.pop("iban", vendor_iban),
                **kw,
            )
        )
        truth[tx_id] = {i.id for i in paid}

    while pending:
        invoice = pending.pop()
        sign = 1 if invoice.credit_note else -1
        roll = rng.random()
        ref = invoice.payment_reference or invoice.number or ""
        if roll < 0.05 and pending:  # combined payment, two or three invoices of one vendor
            same = [
                i
                for i in pending[-40:]
                if i.vendor_name == invoice.vendor_name and i.credit_note == invoice.credit_note
            ][:2]
            group = [invoice, *same]
            for other in same:
                pending.remove(other)
            add(
                sign * sum(i.amount for i in group),
                group,
                remittance_text=_remittance(rng, [i.number or "" for i in group]),
            )
        elif roll < 0.09:  # two part payments
            first = invoice.amount // 2
            add(sign * first, [invoice], remittance_text=_remittance(rng, [ref]))
            add(sign * (invoice.amount - first), [invoice], remittance_text=_remittance(rng, [ref]))
        elif roll < 0.13:  # a bank fee taken from the payment
            add(
                sign * (invoice.amount - rng.randrange(100, 1500)),
                [invoice],
                remittance_text=_remittance(rng, [ref]),
            )
        elif roll < 0.16 and invoice.discount_percent:  # skonto
            add(
                sign * int(invoice.amount * 0.98),
                [invoice],
                remittance_text=_remittance(rng, [ref]),
            )
        elif roll < 0.22:  # no reference at all, only the amount and the payee
            add(
                sign * invoice.amount,
                [invoice],
                remittance_text=rng.choice(("", "Zahlung", "Danke")),
            )
        elif roll < 0.24:  # paid in USD
            add(
                sign * int(invoice.amount * 1.08),
                [invoice],
                currency="USD",
                remittance_text=_remittance(rng, [ref]),
            )
        elif roll < 0.27:  # never paid (yet)
            continue
        elif invoice.payment_reference and rng.random() < 0.5:
            add(
                sign * invoice.amount,
                [invoice],
                structured_reference=invoice.payment_reference,
                remittance_text=None,
            )
        else:
            add(sign * invoice.amount, [invoice], remittance_text=_remittance(rng, [ref]))
    for _ in range(n_invoices // 5):  # unrelated: card payments, salaries, customers paying us
        amount = rng.choice((-1, 1)) * rng.randrange(100, 300_000)
        add(
            amount,
            [],
            name=rng.choice(("REWE", "Shell", "Payroll", "Customer AG", "Amazon")),
            iban=_iban(rng),
            remittance_text=rng.choice(
                ("Kartenzahlung", "Gehalt", "Order 7781", "Abschlag", "Miete Maerz")
            ),
        )
    rng.shuffle(transactions)
    return Case(invoices, transactions, truth)


def score(case: Case, proposals) -> dict[str, float]:
    applied_pairs = correct_applied = found = 0
    wanted = sum(len(v) for v in case.truth.values())
    for p in proposals:
        ids = {a[0] for a in p.allocations}
        right = ids & case.truth.get(p.transaction_id, set())
        if p.applied:
            applied_pairs += len(ids)
            correct_applied += len(right)
    seen: set[tuple[str, str]] = set()
    for p in proposals:
        for invoice_id, _, _ in p.allocations:
            if invoice_id in case.truth.get(p.transaction_id, set()):
                seen.add((p.transaction_id, invoice_id))
    found = len(seen)
    return {
        "precision_applied": correct_applied / applied_pairs if applied_pairs else 1.0,
        "recall_all": found / wanted if wanted else 1.0,
        "applied_share": correct_applied / wanted if wanted else 0.0,
    }


def _payments(case: Case, *, structured_field: bool) -> list[Payment]:
    """The generated transactions as a statement writes them, bank reference = their ID."""
    payments = []
    for tx in case.transactions:
        remittance = tx.remittance_text
        if tx.structured_reference and not structured_field:
            remittance = f"{remittance or ''} {tx.structured_reference}".strip()
        payments.append(
            Payment(
                amount=tx.amount,
                booking_date=tx.booking_date,
                name=tx.counterparty_name or None,
                iban=tx.counterparty_iban,
                remittance=remittance or None,
                structured=tx.structured_reference if structured_field else None,
                end_to_end=tx.end_to_end_id,
                reference=tx.id,
                currency=tx.currency,
            )
        )
    return payments


def _sparkasse_csv(payments: list[Payment]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(
        [
            "Auftragskonto",
            "Buchungstag",
            "Valutadatum",
            "Buchungstext",
            "Verwendungszweck",
            "Beguenstigter/Zahlungspflichtiger",
            "Kontonummer/IBAN",
            "Betrag",
            "Waehrung",
        ]
    )
    for p in payments:
        day = p.booking_date.strftime("%d.%m.%y")
        amount = f"{p.amount / 100:.2f}".replace(".", ",")
        writer.writerow(
            [
                "DE02120300000000202051",
                day,
                day,
                "LASTSCHRIFT" if p.amount < 0 else "GUTSCHRIFT",
                # a Sparkasse export keeps the first 140 characters of the purpose
                (p.remittance or "")[:140],
                p.name or "",
                p.iban or "",
                amount,
                p.currency,
            ]
        )
    return out.getvalue().encode("cp1252", "replace")


def statements(case: Case) -> dict[str, bytes]:
    camt_payments = _payments(case, structured_field=True)
    flat = _payments(case, structured_field=False)
    return {
        "camt.053": camt053(camt_payments),
        "mt940": mt940(flat),
        "ofx": ofx(flat),
        "csv": _sparkasse_csv(flat),
    }


def read_back(case: Case, document: bytes) -> list[BankTransaction]:
    """The transactions a parser reads, in the statement's order, under the generated IDs
    (the file keeps that order; a count that differs is a parser losing bookings)."""
    parsed = parse_statement(document).transactions
    if len(parsed) != len(case.transactions):
        raise SystemExit(f"read {len(parsed)} transactions of {len(case.transactions)}")
    return [
        BankTransaction(
            id=original.id,
            amount=tx.amount,
            currency=tx.currency,
            booking_date=tx.booking_date,
            counterparty_name=tx.counterparty_name,
            counterparty_iban=tx.counterparty_iban,
            remittance_text=tx.remittance_text,
            structured_reference=tx.structured_reference,
            end_to_end_id=tx.end_to_end_id,
        )
        for original, tx in zip(case.transactions, parsed, strict=True)
    ]


def report(label: str, case: Case, transactions: list[BankTransaction], parse_s: float) -> None:
    started = time.perf_counter()
    proposals = propose(transactions, case.invoices)
    elapsed = time.perf_counter() - started
    figures = score(case, proposals)
    print(
        f"{label:<10} precision {figures['precision_applied']:.4f}  "
        f"recall {figures['recall_all']:.4f}  applied {figures['applied_share']:.4f}  "
        f"parse {parse_s:5.2f} s  match {elapsed:5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--through-parsers", action="store_true")
    args = parser.parse_args()
    case = generate(args.invoices, args.seed)
    print(
        f"invoices {len(case.invoices)}, transactions {len(case.transactions)}, "
        f"paying {sum(1 for v in case.truth.values() if v)}; "
        "goals: precision >= 0.99, recall >= 0.95, match < 10 s"
    )
    report("direct", case, case.transactions, 0.0)
    if not args.through_parsers:
        return
    for kind, document in statements(case).items():
        started = time.perf_counter()
        transactions = read_back(case, document)
        report(kind, case, transactions, time.perf_counter() - started)


if __name__ == "__main__":
    main()
