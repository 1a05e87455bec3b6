"""Why a document could not be extracted: one class per stable error `code`.

The API and the worker record `code` and `message` as they are (`invoice.error`), so a
message is written for the person who uploaded the file.
"""

from __future__ import annotations


class ExtractionError(Exception):
    code = "extraction_failed"
    default_message = "The document could not be extracted."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class UnprocessableInvoice(ExtractionError):
    code = "unprocessable_invoice"
    default_message = "The uploaded file is not a recognisable invoice."


class EncryptedPdf(ExtractionError):
    code = "encrypted_pdf"
    default_message = "The PDF is password-protected; upload it without a password."


class TooManyPages(ExtractionError):
    code = "too_many_pages"
    default_message = "The document has more pages than the limit."


class UnsupportedFileType(ExtractionError):
    code = "unsupported_file_type"
    default_message = "The file is not a PDF, PNG, JPEG, TIFF, WebP or UBL/CII XML e-invoice."


class ExtractionTimeout(ExtractionError):
    code = "extraction_timeout"
    default_message = "Extraction took longer than the time allowed for one document."


class ImageTooLarge(UnprocessableInvoice):
    """A decompression bomb or an absurdly large image. It keeps the code
    `unprocessable_invoice` (the contract's 422) so clients need no new case; the message
    says what was wrong."""

    default_message = "The image is too large to process (more than the allowed pixel count)."
