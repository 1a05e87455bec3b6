"""A text PDF made to look scanned, photographed or faxed: an image-only PDF."""

import io
import random

import cv2
import numpy as np
import pymupdf
from PIL import Image

VARIANTS = ("standard", "phone", "fax")


def render_scan(pdf: bytes, seed: int, variant: str = "standard") -> bytes:
    """Each page rendered to grey, degraded as `variant` says, and stored as one image per page."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    rng = random.Random(f"scan:{seed}:{variant}")
    nprng = np.random.default_rng(rng.randrange(2**32))
    source = pymupdf.open(stream=pdf, filetype="pdf")
    out = pymupdf.open()
    for page in source:
        dpi = 150 if variant == "standard" else 200
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
        degrade = {"standard": _standard, "phone": _phone, "fax": _fax}[variant]
        target = out.new_page(width=page.rect.width, height=page.rect.height)
        target.insert_image(target.rect, stream=degrade(image, rng, nprng))
    out.set_metadata({})  # no creation time: the same seed gives the same bytes
    out_bytes = out.tobytes(garbage=3, deflate=True, no_new_id=True)
    source.close()
    out.close()
    return out_bytes


def _rotate(image, angle, border=255):
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(
        image,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def _jpeg(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _standard(image, rng, nprng):
    image = _rotate(image, rng.uniform(-1.2, 1.2))
    image = cv2.GaussianBlur(image, (0, 0), 0.6)
    speckle = nprng.random(image.shape) < 0.002
    image = image.copy()
    image[speckle] = nprng.integers(0, 120, int(speckle.sum()), dtype=np.uint8)
    return _jpeg(image, 70)


def _phone(image, rng, nprng):
    h, w = image.shape
    pad = int(0.06 * w)
    background = rng.randint(40, 110)
    canvas = np.full((h + 2 * pad, w + 2 * pad), background, dtype=np.uint8)
    canvas[pad : pad + h, pad : pad + w] = image
    H, W = canvas.shape
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    jitter = lambda k: rng.uniform(0, k)  # noqa: E731
    dst = np.float32(
        [
            [jitter(0.05 * W), jitter(0.04 * H)],
            [W - jitter(0.05 * W), jitter(0.04 * H)],
            [W - jitter(0.02 * W), H - jitter(0.02 * H)],
            [jitter(0.02 * W), H - jitter(0.02 * H)],
        ]
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(
        canvas, matrix, (W, H), borderMode=cv2.BORDER_CONSTANT, borderValue=background
    ).astype(np.float32)
    gx = np.linspace(0, 1, W, dtype=np.float32)[None, :]
    gy = np.linspace(0, 1, H, dtype=np.float32)[:, None]
    light = 0.7 + 0.3 * (rng.uniform(0.3, 1) * gx + rng.uniform(0.3, 1) * gy) / 2
    warped = warped * (light if rng.random() < 0.5 else light[::-1, ::-1])
    warped = cv2.GaussianBlur(warped, (0, 0), 1.0)
    warped += nprng.normal(0, 6, warped.shape).astype(np.float32)
    return _jpeg(np.clip(warped, 0, 255).astype(np.uint8), rng.randint(60, 85))


def _fax(image, rng, nprng):
    h, w = image.shape
    image = cv2.resize(image, (w, h // 2), interpolation=cv2.INTER_AREA)  # 200 x 100 dpi
    image = _rotate(image, rng.uniform(-0.8, 0.8))
    binary = np.where(image < rng.randint(140, 190), 0, 255).astype(np.uint8)
    noise = nprng.random(binary.shape) < 0.003
    binary[noise] = 255 - binary[noise]
    for _ in range(rng.randint(0, 4)):  # dropout lines of a dirty scan head
        row = rng.randrange(binary.shape[0])
        binary[row : row + rng.randint(1, 2), :] = 255
    binary = cv2.resize(binary, (w, h), interpolation=cv2.INTER_NEAREST)  # square pixels again
    buffer = io.BytesIO()
    Image.fromarray(binary).convert("1").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
