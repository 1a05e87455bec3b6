"""Positioned words, and the lines, phrases and neighbours a reader sees in them.

The model knows nothing of PyMuPDF or EasyOCR: a text-layer PDF and an OCR pass both turn
into `Page` objects (coordinates in points or pixels, origin top-left, y growing down), and
the field parser only ever reads these.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

# A horizontal gap wider than this share of the line height separates two phrases
# ("Invoice No:" and the value in the next column). Word spacing in proportional and
# typewriter fonts stays well under it; column gaps are well over it.
PHRASE_GAP_RATIO = 0.75


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int = 0
    confidence: float = 1.0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @staticmethod
    def spanning(words: Sequence[Word], text: str) -> Word:
        """One word reading `text` over the box of `words`, as sure as the least sure."""
        return Word(
            text,
            words[0].x0,
            min(word.y0 for word in words),
            words[-1].x1,
            max(word.y1 for word in words),
            words[0].page,
            min(word.confidence for word in words),
        )

    @property
    def y_center(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def x_center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]


@dataclass
class Line:
    """Words that share a baseline, left to right. A phrase (see `phrases`) is also a Line:
    the words of one line that stand close together."""

    words: list[Word]
    page: int
    index: int = 0  # position of the line in reading order over the whole document
    _text: str | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    # Cached like `text`: a line's words do not change once it is built, and the rules and
    # the ranker's features ask for its extent tens of thousands of times a document.
    @functools.cached_property
    def x1(self) -> float:
        return max(word.x1 for word in self.words)

    @functools.cached_property
    def y0(self) -> float:
        return min(word.y0 for word in self.words)

    @functools.cached_property
    def y1(self) -> float:
        return max(word.y1 for word in self.words)

    @functools.cached_property
    def height(self) -> float:
        return median(word.height for word in self.words)

    @property
    def confidence(self) -> float:
        return min(word.confidence for word in self.words)

    @property
    def text(self) -> str:
        if self._text is None:
            self._build_text()
        assert self._text is not None
        return self._text

    @property
    def starts(self) -> list[int]:
        """Offset in `text` where each word begins."""
        if self._starts is None:
            self._build_text()
        assert self._starts is not None
        return self._starts

    def _build_text(self) -> None:
        """Words joined by one space, or two across a column gap: "1  100,00" (a quantity
        and a price) must not read as "1 100,00" (one thousand one hundred)."""
        starts, parts, offset = [], [], 0
        previous: Word | None = None
        for word in self.words:
            if previous is not None:
                wide = word.x0 - previous.x1 > PHRASE_GAP_RATIO * max(
                    previous.height, word.height, 1.0
                )
                separator = "  " if wide else " "
                parts.append(separator)
                offset += len(separator)
            starts.append(offset)
            parts.append(word.text)
            offset += len(word.text)
            previous = word
        self._starts = starts
        self._text = "".join(parts)

    def words_in_span(self, start: int, end: int) -> list[Word]:
        """The words that a character span of `text` touches."""
        return [
            word
            for word, begin in zip(self.words, self.starts, strict=True)
            if begin < end and begin + len(word.text) > start
        ]

    def sub_line(self, words: list[Word]) -> Line:
        return Line(words=words, page=self.page, index=self.index)


class _FoldTable(dict[int, str]):
    """str.translate's table for `fold`, filled the first time each character is seen."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0].lower()
        folded = base if len(base) == 1 else char
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower case without accents, one character for one character, so that offsets found
    in the folded text are offsets in the original ("Fälligkeit" -> "falligkeit")."""
    return text.translate(_FOLD_TABLE)


def group_lines(words: list[Word] | tuple[Word, ...], page: int = 0) -> list[Line]:
    """Words of one page grouped into lines: a word joins the line whose vertical middle it
    shares. Superscripts and slightly skewed OCR boxes still land on the right line because
    the test uses half the smaller height, not exact baselines."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.y_center, w.x0)):
        if not word.text.strip():
            continue
        placed = False
        for members in reversed(lines[-4:]):
            anchor = members[0]
            tolerance = 0.5 * min(anchor.height, word.height)
            if abs(anchor.y_center - word.y_center) <= tolerance:
                members.append(word)
                placed = True
                break
        if not placed:
            lines.append([word])
    result = [Line(words=sorted(members, key=lambda w: w.x0), page=page) for members in lines]
    result.sort(key=lambda line: (line.y0, line.x0))
    return result


def phrases(line: Line, gap_ratio: float = PHRASE_GAP_RATIO) -> list[Line]:
    """A line cut at wide horizontal gaps: each phrase is what a reader takes as one label
    or one value."""
    groups: list[list[Word]] = [[line.words[0]]]
    for previous, word in zip(line.words, line.words[1:], strict=False):
        if word.x0 - previous.x1 > gap_ratio * max(previous.height, word.height, 1.0):
            groups.append([word])
        else:
            groups[-1].append(word)
    return [line.sub_line(group) for group in groups]


def overlap_x(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def right_of(line: Line, x: float) -> list[Word]:
    """The words of `line` that begin at or right of `x`."""
    return [word for word in line.words if word.x0 >= x - 0.5]


def lines_below(lines: list[Line], reference: Line, max_lines_gap: float = 2.6) -> list[Line]:
    """Lines under `reference` on the same page, nearest first, no further down than
    `max_lines_gap` line heights."""
    limit = reference.y1 + max_lines_gap * reference.height
    return [
        line
        for line in lines
        if line.page == reference.page
        and line.y0 >= reference.y1 - 0.2 * reference.height
        and line.y0 <= limit
        and line is not reference
    ]


def words_below(
    lines: list[Line],
    x0: float,
    x1: float,
    reference: Line,
    *,
    max_lines_gap: float = 2.6,
    tolerance: float = 4.0,
) -> list[Word]:
    """The first words under the span x0..x1 of `reference`, reading down (a column value
    under its header, a value under its label)."""
    for line in lines_below(lines, reference, max_lines_gap):
        found = [
            word
            for word in line.words
            if overlap_x(word.x0, word.x1, x0 - tolerance, x1 + tolerance) > 0
        ]
        if found:
            return found
    return []


@dataclass
class Block:
    """Lines stacked closely with a shared left edge: an address, a letterhead, a footer."""

    lines: list[Line]

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def y0(self) -> float:
        return self.lines[0].y0

    @property
    def y1(self) -> float:
        return self.lines[-1].y1


def group_blocks(phrase_lines: list[Line]) -> list[Block]:
    """Phrases stacked under each other (left edges within a few points, gaps under about
    one line height) grouped into blocks. Phrases must be in reading order."""
    blocks: list[Block] = []
    for phrase in phrase_lines:
        home = None
        for block in reversed(blocks[-12:]):
            last = block.lines[-1]
            if last.page != phrase.page:
                continue
            gap = phrase.y0 - last.y1
            aligned = abs(phrase.x0 - last.x0) <= max(6.0, 0.8 * last.height)
            if aligned and -0.3 * last.height <= gap <= 1.1 * last.height:
                home = block
                break
        if home is None:
            blocks.append(Block(lines=[phrase]))
        else:
            home.lines.append(phrase)
    return blocks


def document_lines(pages: list[Page]) -> list[Line]:
    """Every line of every page in reading order, numbered."""
    lines: list[Line] = []
    for page in pages:
        lines.extend(group_lines(page.words, page.number))
    for index, line in enumerate(lines):
        line.index = index
    return lines
