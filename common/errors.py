"""One error class per stable `code`, carrying its HTTP status, as in the contract.

Services raise these; the API renders every one (and the framework's own errors) in the
contract's shape. `message` is for humans; clients branch on `code`.
"""

from __future__ import annotations


class InvexError(Exception):
    status = 500
    type = "api_error"
    code = "internal_error"
    default_message = "Something went wrong on our side. It is safe to retry."

    def __init__(
        self,
        message: str | None = None,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.param = param
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self, request_id: str) -> dict:
        error = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }
        if self.param:
            error["param"] = self.param
        return {"error": error}


class InvalidRequest(InvexError):
    status, type, code = 400, "invalid_request_error", "invalid_request_error"
    default_message = "The request is not valid."


class ValidationFailed(InvexError):
    status, type, code = 400, "invalid_request_error", "validation_error"
    default_message = "A parameter is not valid."


class UnsupportedFormat(InvexError):
    status, type, code = 400, "invalid_request_error", "unsupported_format"
    default_message = "This export format is not available."


class InvalidVersion(InvexError):
    status, type, code = 400, "invalid_request_error", "invalid_version"
    default_message = "Unknown Invex-Version."


class AuthenticationRequired(InvexError):
    status, type, code = 401, "authentication_error", "authentication_required"
    default_message = "Send an API key: `Authorization: Bearer invx_...`."


class InvalidApiKey(InvexError):
    status, type, code = 401, "authentication_error", "invalid_api_key"
    default_message = "The API key is not valid or has been revoked."


class InsufficientScope(InvexError):
    status, type, code = 403, "permission_error", "insufficient_scope"
    default_message = "The API key lacks the scope this endpoint needs."


class ResourceNotFound(InvexError):
    status, type, code = 404, "invalid_request_error", "resource_not_found"
    default_message = "No such resource."


class MethodNotAllowed(InvexError):
    status, type, code = 405, "invalid_request_error", "method_not_allowed"
    default_message = "This method is not allowed on this path."


class IdempotencyConflict(InvexError):
    status, type, code = 409, "idempotency_error", "idempotency_conflict"
    default_message = "This Idempotency-Key was used with a different request."


class IdempotencyInProgress(InvexError):
    status, type, code = 409, "idempotency_error", "idempotency_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed."


class InvalidStateTransition(InvexError):
    status, type, code = 409, "invalid_request_error", "invalid_state_transition"
    default_message = "The resource cannot make this move from its current state."


class DeliveryInProgress(InvexError):
    status, type, code = 409, "invalid_request_error", "delivery_in_progress"
    default_message = "The delivery is being sent right now; retry it once that attempt ends."


class ExportNotReady(InvexError):
    status, type, code = 409, "invalid_request_error", "export_not_ready"
    default_message = "The export has no file: it is still running, or it failed."


class IntegrationNotConfigured(InvexError):
    status, type, code = 409, "invalid_request_error", "integration_not_configured"
    default_message = "This provider has no client ID and secret in the server's settings."


class IntegrationNotConnected(InvexError):
    status, type, code = 409, "invalid_request_error", "integration_not_connected"
    default_message = "Connect the provider first (POST /v1/integrations/{provider}/connect)."


class InvoiceNotApproved(InvexError):
    status, type, code = 409, "invalid_request_error", "invoice_not_approved"
    default_message = "Only an approved invoice can be published."


class InvalidOAuthState(InvexError):
    status, type, code = 400, "invalid_request_error", "invalid_oauth_state"
    default_message = "The authorization is unknown, used already or expired; connect again."


class ProviderFailed(InvexError):
    status, type, code = 502, "api_error", "provider_error"
    default_message = "The accounting provider refused or could not be reached."


class ResourceAlreadyExists(InvexError):
    status, type, code = 409, "invalid_request_error", "resource_already_exists"
    default_message = "A resource with these unique values already exists."


class LastOwner(InvexError):
    status, type, code = 409, "invalid_request_error", "last_owner"
    default_message = "An organisation keeps at least one active owner."


class FileTooLarge(InvexError):
    status, type, code = 413, "invalid_request_error", "file_too_large"
    default_message = "The upload is larger than the limit."

    def __init__(self, message: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        # The rest of the body is never read; closing is cheaper than draining it.
        self.headers.setdefault("Connection", "close")


class RangeNotSatisfiable(InvexError):
    status, type, code = 416, "invalid_request_error", "range_not_satisfiable"
    default_message = "The requested byte range lies outside the file."


class UnsupportedFileType(InvexError):
    status, type, code = 415, "invalid_request_error", "unsupported_file_type"
    default_message = "The file is not a PDF, PNG, JPEG, TIFF, WebP or UBL/CII XML invoice."


class UnprocessableInvoice(InvexError):
    status, type, code = 422, "invalid_request_error", "unprocessable_invoice"
    default_message = "The uploaded file is not a recognisable invoice."


class UnprocessableStatement(InvexError):
    status, type, code = 422, "invalid_request_error", "unprocessable_statement"
    default_message = "The uploaded file is not a bank statement this service reads."


class TooManyPages(InvexError):
    """The error names the document's real page count and the limit beside the message."""

    status, type, code = 422, "invalid_request_error", "too_many_pages"
    default_message = "The document has more pages than the limit."

    def __init__(self, pages: int, max_pages: int) -> None:
        super().__init__(
            f"The document has {pages} pages; at most {max_pages} are accepted.", param="file"
        )
        self.pages, self.max_pages = pages, max_pages

    def body(self, request_id: str) -> dict:
        body = super().body(request_id)
        body["error"].update(pages=self.pages, max_pages=self.max_pages)
        return body


class UnreadableFile(InvexError):
    status, type, code = 422, "invalid_request_error", "unreadable_file"
    default_message = "The file is damaged or truncated and cannot be read."


class RateLimited(InvexError):
    status, type, code = 429, "rate_limit_error", "rate_limited"
    default_message = "Too many requests. Retry after the time in Retry-After."


class MonthlyLimitReached(InvexError):
    status, type, code = 429, "rate_limit_error", "monthly_limit_reached"
    default_message = (
        "The plan's monthly page allotment and the top-up credits are used up. "
        "Top up, change the plan, or wait for the next month."
    )


class ServiceUnavailable(InvexError):
    status, type, code = 503, "api_error", "service_unavailable"
    default_message = "The database or the queue is unreachable. Retry shortly."

    def __init__(self, message: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", "5")


class InternalError(InvexError):
    pass
