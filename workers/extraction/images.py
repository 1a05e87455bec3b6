"""Scanned pages as grey pixel arrays, ready for OCR: decoding with limits, and deskewing.

Every page leaves here as a `ScanImage`: an 8-bit grey array plus how many PDF points one
pixel spans, so OCR words can be given in points like text-layer words (the field parser's
distances are tuned in points).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import pymupdf
from PIL import Image, ImageOps, ImageSequence

from common.documents import MAX_IMAGE_PIXELS
from workers.extraction import sniff
from workers.extraction.errors import (
    EncryptedPdf,
    ImageTooLarge,
    UnprocessableInvoice,
    UnsupportedFileType,
)

# Pages without an embedded image that can be used as it is are rendered at this
# resolution: 150 dpi reads as well as 300 dpi with EasyOCR at half the time and memory.
RENDER_DPI = 150
# An embedded page image sharper than this is reduced to it before OCR: finer pixels only
# cost time (the recogniser sees every word at 64 pixels high anyway).
MAX_SCAN_DPI = 300
# Skew search: scans are rarely more than a few degrees off; phone photos of receipts can
# be more. Beyond this range the page is left as it is.
MAX_SKEW_DEGREES = 8.0
# Below this the rotation would move pixels by less than about one pixel across a line.
MIN_SKEW_DEGREES = 0.15
_IMAGE_TYPES = frozenset({sniff.PNG, sniff.JPEG, sniff.TIFF, sniff.WEBP})


@dataclass(frozen=True)
class ScanImage:
    """One page: `pixels` is a 2-D uint8 array (0 black, 255 white); `points_per_pixel`
    converts its coordinates to PDF points (72 per inch)."""

    pixels: np.ndarray
    points_per_pixel: float
    number: int = 0

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def load_scan_images(data: bytes, content_type: str) -> list[ScanImage]:
    """The pages of an image file (PNG, JPEG, multi-page TIFF, WebP) or of an image-only
    PDF as grey arrays. Refuses decompression bombs; the page limit is the pipeline's
    (`extract_document(max_pages=...)`), checked before OCR starts."""
    if content_type == sniff.PDF:
        return list(_pdf_pages(data))
    if content_type in _IMAGE_TYPES:
        return list(_image_pages(data))
    raise UnsupportedFileType(f"OCR cannot read {content_type} files.")


def _image_pages(data: bytes) -> Iterator[ScanImage]:
    try:
        with warnings.catch_warnings():
            # Sizes between our limit and Pillow's hard limit only warn; refused below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                for number, frame in enumerate(ImageSequence.Iterator(image)):
                    _check_pixel_count(*frame.size)
                    dpi = _dpi_of(frame)
                    points_per_pixel = 72.0 / dpi if dpi else 0.0
                    # Phone photos are often stored sideways with an EXIF orientation flag.
                    upright = ImageOps.exif_transpose(frame) if number == 0 else frame
                    yield ScanImage(_to_grey(upright), points_per_pixel, number)
    except Image.DecompressionBombError:
        raise ImageTooLarge from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnprocessableInvoice(f"The image is damaged and cannot be read ({exc}).") from None


def _dpi_of(image: Image.Image) -> float | None:
    """The resolution the file declares, when it is believable (many files say 72 or
    nothing whatever the truth; those are treated as unknown)."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return value if 100.0 <= value <= 1200.0 else None


def _to_grey(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas are paper, not ink: put the image on white before dropping alpha.
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    if image.mode.startswith(("I", "F")):
        # 16-bit and float scans: Pillow's conversion to 8 bits clips instead of scaling.
        values = np.asarray(image, dtype=np.float32)
        top = float(values.max()) or 1.0
        return np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def _check_pixel_count(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; at most {MAX_IMAGE_PIXELS:,} pixels are "
            "accepted."
        )
    if width < 1 or height < 1:
        raise UnprocessableInvoice("The image has no pixels.")


def _pdf_pages(data: bytes) -> Iterator[ScanImage]:
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except (RuntimeError, ValueError):
        raise UnprocessableInvoice("The PDF is damaged and cannot be read.") from None
    with doc:
        if doc.needs_pass and not doc.authenticate(""):
            raise EncryptedPdf
        for page in doc.pages():
            yield _pdf_page_image(doc, page)


def _pdf_page_image(doc: pymupdf.Document, page: pymupdf.Page) -> ScanImage:
    """The page's single full-page image taken as it is stored (no resampling, no time
    spent rendering), or else the page rendered at RENDER_DPI."""
    number = page.number or 0
    embedded = _sole_page_image(doc, page)
    if embedded is not None:
        return embedded
    zoom = RENDER_DPI / 72.0
    width, height = page.rect.width * zoom, page.rect.height * zoom
    _check_pixel_count(int(width), int(height))
    pixmap = page.get_pixmap(
        matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY, alpha=False
    )
    return ScanImage(_pixmap_array(pixmap), 1.0 / zoom, number)


def _sole_page_image(doc: pymupdf.Document, page: pymupdf.Page) -> ScanImage | None:
    images = page.get_images(full=True)
    if len(images) != 1:
        return None
    xref, smask, width, height = images[0][0], images[0][1], images[0][2], images[0][3]
    if smask:
        return None  # a masked image: what shows depends on the mask, let the renderer decide
    rects = page.get_image_rects(xref, transform=True)
    if len(rects) != 1:
        return None
    rect, matrix = rects[0]
    page_area = page.rect.width * page.rect.height
    # Only an upright, unflipped image covering (nearly) the whole page is the page.
    upright = matrix.a > 0 and matrix.d > 0 and abs(matrix.b) < 1e-6 and abs(matrix.c) < 1e-6
    covers = page_area > 0 and (rect & page.rect).get_area() >= 0.9 * page_area
    if not (upright and covers) or page.rotation % 360:
        return None
    _check_pixel_count(width, height)
    try:
        pixmap = pymupdf.Pixmap(doc, xref)
        if pixmap.colorspace is None or pixmap.colorspace.n != 1 or pixmap.alpha:
            pixmap = pymupdf.Pixmap(pymupdf.csGRAY, pixmap)
    except (RuntimeError, ValueError):
        return None  # an image format PyMuPDF cannot decode alone: rendering may still work
    pixels = _pixmap_array(pixmap)
    points_per_pixel = rect.width / pixels.shape[1]
    dpi = 72.0 / points_per_pixel
    if dpi > MAX_SCAN_DPI:
        factor = MAX_SCAN_DPI / dpi
        pixels = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        points_per_pixel = rect.width / pixels.shape[1]
    return ScanImage(pixels, points_per_pixel, page.number or 0)


def _pixmap_array(pixmap: pymupdf.Pixmap) -> np.ndarray:
    array = np.frombuffer(pixmap.samples, dtype=np.uint8)
    array = array.reshape(pixmap.height, pixmap.stride)[:, : pixmap.width * pixmap.n]
    if pixmap.n != 1:
        array = array.reshape(pixmap.height, pixmap.width, pixmap.n)[:, :, 0]
    return np.ascontiguousarray(array)


def skew_angle(pixels: np.ndarray) -> float:
    """The angle in degrees (counter-clockwise positive, as cv2 rotates) by which the text
    lines of a page are tilted, found as the rotation that makes the rows of ink most
    uneven (lines and gaps sharply apart). 0.0 when the page has too little ink to tell."""
    small, _ = _shrink(pixels, 1000)
    ink = _ink_mask(small)
    ys, xs = np.nonzero(ink)
    if len(xs) < 200:
        return 0.0
    if len(xs) > 200_000:  # a sample measures the profile as well and keeps this fast
        pick = np.random.default_rng(0).choice(len(xs), 200_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64) - small.shape[0] / 2
    bins = int(np.hypot(*small.shape)) + 2

    def sharpness(degrees: float) -> float:
        theta = np.deg2rad(degrees)
        rows = ys * np.cos(theta) + xs * np.sin(theta)
        counts = np.bincount((rows + bins / 2).astype(np.int64), minlength=bins)
        return float(np.dot(counts, counts))

    coarse = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 1e-9, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    best = max(fine, key=sharpness)
    if abs(best) >= MAX_SKEW_DEGREES - 0.25:
        return 0.0  # the search hit its edge: not a skewed text page we can trust
    return float(best)


def deskew(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The page rotated so that its text lines are horizontal, and the tilt that was undone
    (as `skew_angle` measures it)."""
    angle = skew_angle(pixels)
    if abs(angle) < MIN_SKEW_DEGREES:
        return pixels, 0.0
    height, width = pixels.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    rotated = cv2.warpAffine(
        pixels,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_paper_value(pixels),
    )
    return rotated, angle


def _paper_value(pixels: np.ndarray) -> int:
    return int(
        np.percentile(
            pixels[:: max(1, pixels.shape[0] // 200), :: max(1, pixels.shape[1] // 200)], 90
        )
    )


def _shrink(pixels: np.ndarray, longest: int) -> tuple[np.ndarray, float]:
    factor = min(1.0, longest / max(pixels.shape))
    if factor >= 1.0:
        return pixels, 1.0
    return cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), factor


def _ink_mask(pixels: np.ndarray) -> np.ndarray:
    """Dark marks against their local background, so uneven lighting in photos does not
    turn whole regions into ink."""
    block = max(15, (min(pixels.shape) // 20) | 1)
    return (
        cv2.adaptiveThreshold(
            pixels, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15
        )
        > 0
    )
