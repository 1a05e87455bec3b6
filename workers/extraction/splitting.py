"""Where one document ends and the next begins, in a file that holds several (a scanned batch,
a mail merge of invoices).

Decided from the pages themselves, a boundary before each page scored from what the two
pages on either side of it show:

- a page marker ("Page 2 of 3", "Seite 1 von 2", "2/3" alone in a margin) says outright
  whether a page starts a document or continues one, and whether its predecessor was last;
- the invoice number, date, vendor and customer each page shows: another number starts
  another document, the same one continues it;
- a document title (Invoice, Rechnung, Facture, ...) and a header (number, date) near the
  top of a page, or a totals block at the end of the page before.

Pure code: Pages in, the first page index of each document out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from workers.extraction.fields import parse_invoice_pages
from workers.extraction.labels import DOCUMENT_TITLES
from workers.extraction.layout import Page, Word, fold, group_lines

_PAGE_WORD = r"(?:page|seite|pagina|pag|blatt|blad|bladzijde|folio|hoja|p|pg|s)"
_OF_WORD = r"(?:of|von|de|di|sur|van|da|/|aus)"
# "Page 2 of 3", "Seite 2/3", "pagina 2 di 3", "p. 2 / 3", "Page 2" (total unknown).
PAGE_MARKER = re.compile(
    rf"(?<![\w]){_PAGE_WORD}\.?\s*:?\s*(\d{{1,3}})(?:\s*{_OF_WORD}\s*(\d{{1,3}}))?(?![\w/.,])"
)
# "2/3" or "2 / 3" as the whole text of a line in the top or bottom margin.
BARE_MARKER = re.compile(r"^-?\s*(\d{1,3})\s*/\s*(\d{1,3})\s*-?$")
MARGIN = 0.12  # share of the page height counted as its top or bottom margin
HEADER_ZONE = 0.45  # a title or header this high up the page opens a document
MIN_NUMBER_LENGTH = 3
# The field confidence from which a page's value counts as a clue.
SURE = {
    "invoice_number": 0.8,
    "invoice_date": 0.8,
    "total_amount": 0.5,
    "vendor_name": 0.8,
    "customer_name": 0.8,
}

# Words that say a page continues the one before ("carried forward", "Übertrag").
CONTINUATION = re.compile(
    r"(?<![\w])(?:ubertrag|continued|continuation|carried\s+forward|brought\s+forward"
    r"|fortsetzung|suite|report|a\s+reporter|riporto|transporte|suma\s+y\s+sigue"
    r"|vervolg|transport)(?![\w])"
)


@dataclass(frozen=True)
class PageSignals:
    """What one page says about where it sits in its document."""

    marker: tuple[int, int | None] | None  # (this page, of how many) from a page marker
    title: bool  # a document title near the top
    continuation: bool
    invoice_number: str | None
    invoice_date: str | None
    total: int | None
    vendor: str | None
    customer: str | None
    header: bool  # number or date read in the top part of the page


def page_signals(page: Page, source: str = "pdf_text") -> PageSignals:
    lines = group_lines(list(page.words), page.number)
    height = page.height or 1.0
    marker = _page_marker(lines, height)
    title = False
    continuation = False
    for line in lines:
        folded = fold(line.text)
        top = line.words[0].y0 / height
        if top < HEADER_ZONE and not title:
            title = any(
                (m := pattern.search(folded)) and len(folded[: m.start()].split()) <= 2
                for _, pattern in DOCUMENT_TITLES
            )
        if CONTINUATION.search(folded) and (top < 0.3 or top > 1 - 0.3):
            continuation = True
    fields = _fields_of(page, source)
    confidence = fields["field_confidence"]

    def sure(name: str) -> Any:
        # A continuation page still yields guesses (a delivery date, a table heading as
        # vendor); only values the reader is sure of say which document a page belongs to.
        return fields.get(name) if confidence.get(name, 0.0) >= SURE[name] else None

    number, date = sure("invoice_number"), sure("invoice_date")
    vendor, customer = sure("vendor_name"), sure("customer_name")
    if number and len(number) < MIN_NUMBER_LENGTH:
        number = None  # "1": a position or page number read as the invoice number
    return PageSignals(
        marker=marker,
        title=title,
        continuation=continuation,
        invoice_number=number,
        invoice_date=date,
        total=sure("total_amount"),
        vendor=vendor,
        customer=customer,
        # what a first page shows: its number with a date or a party (a number alone can
        # be one a continuation page cites), or its title and date, or both parties
        header=bool(
            (number and (date or vendor or customer)) or (title and date) or (vendor and customer)
        ),
    )


def _fields_of(page: Page, source: str) -> dict[str, Any]:
    # One page read alone, as if it were the whole document.
    alone = Page(0, page.width, page.height, tuple(_on_page(w, 0) for w in page.words))
    return parse_invoice_pages([alone], source=source)


def _on_page(word: Word, number: int) -> Word:
    if word.page == number:
        return word
    return Word(word.text, word.x0, word.y0, word.x1, word.y1, number, word.confidence)


def _page_marker(lines: list[Any], height: float) -> tuple[int, int | None] | None:
    found: tuple[int, int | None] | None = None
    for line in lines:
        folded = fold(line.text).strip()
        in_margin = line.words[0].y0 / height < MARGIN or line.words[-1].y1 / height > 1 - MARGIN
        match = PAGE_MARKER.search(folded)
        if match:
            number = int(match.group(1))
            total = int(match.group(2)) if match.group(2) else None
            # "p 3" or "s 2" alone is too common a pair of tokens to trust outside a margin.
            short_word = match.group(0).split()[0].rstrip(".:") in {"p", "s", "pg"}
            if total is not None and not 1 <= number <= total:
                continue
            if short_word and (total is None or not in_margin):
                continue
            if number >= 1 and (total is not None or found is None):
                found = (number, total)
                if total is not None:
                    return found
            continue
        bare = BARE_MARKER.match(folded)
        if bare and in_margin:
            number, total = int(bare.group(1)), int(bare.group(2))
            if 1 <= number <= total <= 99:
                return (number, total)
    return found


def _same_text(a: str | None, b: str | None, threshold: float = 85.0) -> bool | None:
    """Whether two values read on two pages agree; None when either page lacks it."""
    if not a or not b:
        return None
    return fuzz.ratio(fold(a), fold(b)) >= threshold


def boundary_score(previous: PageSignals, page: PageSignals) -> float:
    """Above zero: `page` starts a new document. Each clue adds its weight."""
    score = 0.0
    if page.marker is not None:
        number, _ = page.marker
        score += 4.0 if number == 1 else -4.0
    if previous.marker is not None:
        number, total = previous.marker
        if total is not None:
            score += 2.0 if number == total else -3.0
    same_number = _same_text(previous.invoice_number, page.invoice_number, 90.0)
    if same_number is True:
        score -= 3.0
    elif same_number is False and page.header:
        score += 2.5
    if previous.invoice_date and page.invoice_date and page.header:
        score += 2.5 if previous.invoice_date != page.invoice_date else -0.5
    same_vendor = _same_text(previous.vendor, page.vendor)
    if same_vendor is False:
        score += 1.0
    same_customer = _same_text(previous.customer, page.customer)
    if same_customer is False:
        score += 0.5
    if page.title:
        score += 1.0
    if page.header:
        score += 0.75
    if not page.header:
        score -= 2.0
    if page.continuation:
        score -= 1.5
    if previous.total is not None:
        score += 0.5
    return score


def document_starts(signals: list[PageSignals]) -> list[int]:
    """The index of the first page of each document (always starting with 0)."""
    starts = [0] if signals else []
    for index in range(1, len(signals)):
        if boundary_score(signals[index - 1], signals[index]) > 0:
            starts.append(index)
    return starts


def split_pages(pages: list[Page], source: str = "pdf_text") -> list[tuple[int, int]]:
    """The documents in `pages`, as (first, last) page indexes, inclusive."""
    starts = document_starts([page_signals(page, source) for page in pages])
    ends = [*(start - 1 for start in starts[1:]), len(pages) - 1]
    return list(zip(starts, ends, strict=True))
