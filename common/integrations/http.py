"""One outgoing call to a provider's API, with its failures as ProviderError (status,
Retry-After and the provider's own message kept for the retry decision and the event)."""

from __future__ import annotations

from typing import Any

import httpx

from common.integrations.providers import TIMEOUT, USER_AGENT, ProviderError, retry_after_seconds

MAX_ERROR_TEXT = 500


def call(
    method: str,
    url: str,
    *,
    label: str,
    access_token: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    all_headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    try:
        response = httpx.request(method, url, headers=all_headers, timeout=TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderError(f"{label} unreachable: {type(exc).__name__}") from None
    if response.status_code >= 400:
        raise ProviderError(
            f"{label} answered {response.status_code}: {provider_message(response)}",
            status=response.status_code,
            retry_after=retry_after_seconds(response),
        )
    try:
        body = response.json()
    except ValueError:
        raise ProviderError(f"{label} answered something that is not JSON.") from None
    return body if isinstance(body, dict) else {"data": body}


def provider_message(response: httpx.Response) -> str:
    """The provider's own explanation: Xero's ValidationErrors or Detail/Message,
    QuickBooks' Fault.Error[].Message/Detail; else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:MAX_ERROR_TEXT]
    if not isinstance(body, dict):
        return response.text[:MAX_ERROR_TEXT]
    messages: list[str] = []
    for element in body.get("Elements") or []:
        for error in element.get("ValidationErrors") or []:
            messages.append(str(error.get("Message")))
    fault = body.get("Fault") or body.get("fault") or {}
    for error in fault.get("Error") or fault.get("error") or []:
        messages.append(str(error.get("Detail") or error.get("Message") or error.get("message")))
    if not messages:
        messages.append(str(body.get("Detail") or body.get("Message") or body.get("Title") or ""))
    return "; ".join(m for m in messages if m)[:MAX_ERROR_TEXT] or response.text[:MAX_ERROR_TEXT]
