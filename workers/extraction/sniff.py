"""Sniffing lives in common/documents.py (the API and the credits use it too); these names
stay for the extraction code and training/ that import them from here."""

from common.documents import (
    JPEG,
    PDF,
    PNG,
    SNIFF_BYTES,
    TIFF,
    WEBP,
    XML,
    sniff_content_type,
)

__all__ = ["JPEG", "PDF", "PNG", "SNIFF_BYTES", "TIFF", "WEBP", "XML", "sniff_content_type"]
