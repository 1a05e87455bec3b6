"""One renderer for every error: ours, the framework's (404, 405, 413, 415, 422) and
anything unexpected, always in the contract's shape and never with a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from common import errors

log = logging.getLogger(__name__)

HTTP_STATUS_TO_ERROR: dict[int, type[errors.InvexError]] = {
    400: errors.InvalidRequest,
    401: errors.AuthenticationRequired,
    403: errors.InsufficientScope,
    404: errors.ResourceNotFound,
    405: errors.MethodNotAllowed,
    413: errors.FileTooLarge,
    415: errors.UnsupportedFileType,
    422: errors.ValidationFailed,
    429: errors.RateLimited,
    503: errors.ServiceUnavailable,
}


def render_error(error: errors.InvexError):
    response = jsonify(error.body(getattr(g, "request_id", "")))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _first_param(messages: object, path: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """The name and message of the first invalid parameter in webargs' nested messages."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            # webargs nests by location first ("query", "json", "multipart")
            inner_path = (
                path
                if key in ("query", "json", "form", "files", "multipart", "headers", "view_args")
                else (*path, str(key))
            )
            return _first_param(value, inner_path)
    if isinstance(messages, list) and messages:
        return (".".join(path) or None), str(messages[0])
    return (".".join(path) or None), "A parameter is not valid."


def http_exception_to_error(exc: HTTPException) -> errors.InvexError:
    if exc.code == 422:  # webargs: the request did not match the schema
        messages = (getattr(exc, "data", None) or {}).get("messages", {})
        param, message = _first_param(messages)
        if message == "Unknown field.":
            message = f"Unknown parameter `{param}`."
        return errors.ValidationFailed(f"{param}: {message}" if param else message, param=param)
    if exc.code == 413:
        return errors.FileTooLarge()
    error_class = HTTP_STATUS_TO_ERROR.get(exc.code or 500, errors.InternalError)
    return error_class()


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.InvexError, render_error)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return render_error(http_exception_to_error(exc))
        # Flask calls this inside its own except block, so the traceback is at hand.
        log.exception(  # noqa: LOG004
            "unhandled error on request %s", getattr(g, "request_id", "?")
        )
        return render_error(errors.InternalError())
