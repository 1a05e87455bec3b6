"""The RapidOCR engine (`INVEX_OCR_ENGINE=rapidocr`, the default): PaddleOCR's PP-OCR
detector (DB) and multilingual recogniser (SVTR, Latin scripts with their accents) run on
onnxruntime. The models ship inside the `rapidocr` wheel; they are named here by path, so
RapidOCR's downloader is never reached, and a missing file stops the engine at load
instead of fetching anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import cv2
import numpy as np

from workers.extraction.ocr_boxes import TextBox

if TYPE_CHECKING:
    from rapidocr.utils.output import RapidOCROutput

# The wheel's own models (rapidocr 3.10: PP-OCRv6 small detection and recognition, the
# PP-OCR mobile text-direction classifier).
_MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
# Boxes read with less confidence than this are dropped by RapidOCR (its default is 0.5).
# Kept lower: the field parser weighs confidence itself, and a faint total is better
# read doubtfully than not at all.
TEXT_SCORE = 0.3


class RapidOcrEngine:
    """One RapidOCR pipeline per process; onnxruntime sessions may be run from several
    threads at once."""

    name = "rapidocr"

    def __init__(self, threads: int, *, word_boxes: bool = True, classify: bool = False) -> None:
        import rapidocr  # noqa: PLC0415 - imported with the model, only where OCR runs

        # RapidOCR logs every model path it loads at INFO and every blank page at WARNING;
        # neither is news in a worker's log.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        models = Path(rapidocr.__file__).parent / "models"
        missing = [name for name in _MODELS.values() if not (models / name).is_file()]
        if missing:
            raise RuntimeError(
                f"rapidocr's models are missing from its package ({', '.join(missing)}); "
                "reinstall rapidocr (nothing is downloaded at run time)"
            )
        self.word_boxes = word_boxes
        self._params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": TEXT_SCORE,
            "Global.use_cls": classify,
            "Global.return_word_box": word_boxes,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            **{f"{task}.model_path": str(models / name) for task, name in _MODELS.items()},
        }
        self._lock = threading.Lock()
        self._build(threads)

    def _build(self, threads: int) -> None:
        from rapidocr import RapidOCR  # noqa: PLC0415

        params = {**self._params, "EngineConfig.onnxruntime.intra_op_num_threads": threads}
        pipeline = RapidOCR(params=params)
        # Load the models now rather than on the first page (RapidOCR loads lazily). The
        # detector first scales an image's short side up to 736 px, so a blank square is the
        # cheapest page to warm it with: a wide strip becomes four times the pixels.
        pipeline(np.full((32, 32, 3), 255, dtype=np.uint8))
        self.pipeline = pipeline

    def set_threads(self, count: int) -> None:
        # onnxruntime fixes a session's threads when it is created: build new sessions.
        with self._lock:
            self._build(count)

    def read_page(self, pixels: np.ndarray) -> list[TextBox]:
        # Detection, classification and recognition all run, so the answer is the full
        # RapidOCROutput, not one stage's output.
        result = cast("RapidOCROutput", self.pipeline(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)))
        if result.boxes is None or result.txts is None or result.scores is None:
            return []
        # RapidOCR annotates word_results as one line of words; it holds a tuple per line.
        word_lines = cast("Sequence[Sequence[tuple[str, float, Any]]]", result.word_results)
        if self.word_boxes and word_lines:
            return [
                _box(text, score, corners)
                for line in word_lines
                for text, score, corners in line
                if text.strip()
            ]
        return [
            _box(text, score, corners)
            for corners, text, score in zip(result.boxes, result.txts, result.scores, strict=True)
            if text.strip()
        ]


def _box(text: str, score: float, corners: Any) -> TextBox:
    points = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return TextBox(text, float(score), float(x0), float(y0), float(x1), float(y1))
