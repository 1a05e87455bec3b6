"""`Idempotency-Key` on POST, PATCH and DELETE views (rules in common/idempotency.py)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, g, make_response, request

from api.auth import current_principal
from common import idempotency
from common.accounts.service import Principal


def request_fingerprint() -> str:
    """Method, path and body, hashed. Multipart bodies are hashed by their parsed parts:
    a client retrying an upload sends a new boundary, not a different request. The query
    counts too (an upload's `wait` or `schema_id` may be there); without one, the hash is
    the one it always was."""
    target = request.full_path if request.query_string else request.path
    digest = hashlib.sha256(f"{request.method} {target}\n".encode())
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
            body = json.dumps(payload).encode() + b"\n"  # as every JSON answer ends
    response = Response(body, status=stored.status, content_type=stored.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable | None = None, *, claimed_in_view: bool = False) -> Callable:
    """`Idempotency-Key` for a view. `claimed_in_view=True`: the view claims the key inside
    the statement that does its work (it passes `view_claim()` to its service, which raises
    KeyAlreadyClaimed when the key has a record); this then decides as for any view."""
    if view is None:
        return functools.partial(idempotent, claimed_in_view=claimed_in_view)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        idempotency.check_key(key)
        principal = current_principal()
        fingerprint = request_fingerprint()

        def run() -> Any:
            return view(*args, **kwargs)

        if claimed_in_view:
            g.idempotency_claim = idempotency.Claim(key, fingerprint)
            try:
                return _run_owning_key(run, principal, key, g.idempotency_claim)
            except idempotency.KeyAlreadyClaimed:
                g.idempotency_claim = None
            _rewind_uploads()  # the view runs again, from the first byte
        stored = idempotency.claim(principal.org_id, principal.livemode, key, fingerprint)
        if stored is not None:
            return _replay(stored)
        return _run_owning_key(run, principal, key, None)

    return wrapper


def _rewind_uploads() -> None:
    for upload in request.files.values():
        upload.stream.seek(0)


def view_claim(*, created_status: int | None) -> idempotency.Claim | None:
    """The key the current view is to claim in its own statement, if any. `created_status`:
    the view answers the created object under this status (Claim.created_status)."""
    claim: idempotency.Claim | None = g.get("idempotency_claim")
    if claim is not None:
        claim.created_status = created_status
    return claim


def _run_owning_key(
    run: Callable[[], Any],
    principal: Principal,
    key: str,
    in_view: idempotency.Claim | None,
) -> Response:
    """Run the view and store its answer under the key, or free the key on a 500. With
    `in_view`, the key is this request's only once the view's statement recorded it."""
    try:
        response = make_response(run())
    except idempotency.KeyAlreadyClaimed:
        raise
    except BaseException:
        # Nothing was stored: the client may retry with the same key.
        if in_view is None or in_view.recorded:
            idempotency.release(principal.org_id, principal.livemode, key)
        raise
    if in_view is not None and (not in_view.recorded or in_view.completed):
        return response  # refused before its work started, or its answer stored with it
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
