"""`Idempotency-Key` on POST, PATCH and DELETE views (rules in common/idempotency.py)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request

from api.auth import current_principal
from common import idempotency


def request_fingerprint() -> str:
    """Method, path and body, hashed. Multipart bodies are hashed by their parsed parts:
    a client retrying an upload sends a new boundary, not a different request."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        parts = sorted((k, v) for k, v in request.form.items(multi=True))
        digest.update(json.dumps(parts).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            file_hash = hashlib.sha256()
            while chunk := upload.stream.read(1 << 16):
                file_hash.update(chunk)
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}:{file_hash.hexdigest()}".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(stored: idempotency.StoredResponse) -> Response:
    body = stored.body
    if stored.content_type.startswith("application/json"):
        payload = json.loads(body)
        if isinstance(payload, dict):
            payload["_meta"] = {"idempotent_replay": True}
            body = json.dumps(payload).encode()
    response = Response(body, status=stored.status, content_type=stored.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        idempotency.check_key(key)
        principal = current_principal()
        stored = idempotency.claim(principal.org_id, principal.livemode, key, request_fingerprint())
        if stored is not None:
            return _replay(stored)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            # Nothing was stored: the client may retry with the same key.
            idempotency.release(principal.org_id, principal.livemode, key)
            raise
        if response.status_code >= 500:
            idempotency.release(principal.org_id, principal.livemode, key)
        else:
            idempotency.complete(
                principal.org_id,
                principal.livemode,
                key,
                idempotency.StoredResponse(
                    response.status_code, response.get_data(), response.content_type or ""
                ),
            )
        return response

    return wrapper
