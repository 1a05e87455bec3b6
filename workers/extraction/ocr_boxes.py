"""What an OCR engine reads (text boxes) and the measure of a page the engines size their
input by. Apart from ocr.py, which loads the engines: they import these, not it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TextBox:
    """One text box as an engine reads it: a phrase, with its corners in page pixels."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float


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
