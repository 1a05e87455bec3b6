"""A bill in Xero: the supplier found by tax number or name or created (a Contact), the
bill (an Invoice of type ACCPAY) created with an Idempotency-Key, the original document
attached. Request bodies are built from xero-python's own models and serialised by it, so
their shape is the SDK's; they are sent with httpx (common/integrations/http.py) because
the retry rules need the 429's Retry-After and the per-tenant limiter runs before each call.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from xero_python.accounting import (
    Contact,
    Contacts,
    CurrencyCode,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
)
from xero_python.api_client.serializer import serialize

from common.integrations.bills import Bill
from common.integrations.http import call
from common.integrations.limiter import xero_limiter
from common.integrations.providers import ProviderError
from common.integrations.service import Credentials

# Waits longer than this for the tenant's minute are retried by the task instead.
LONGEST_WAIT = 5.0


class XeroPublisher:
    def __init__(self, credentials: Credentials, *, sleep: Callable[[float], None] = time.sleep):
        self.credentials = credentials
        self.base = f"{credentials.provider.api_url}/api.xro/2.0"
        self.sleep = sleep

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        wait = xero_limiter().wait_for(self.credentials.tenant_id)
        if wait > LONGEST_WAIT:
            raise ProviderError(
                "Xero's limit of 60 calls a minute for this organisation is used up.",
                status=429,
                retry_after=wait,
            )
        if wait:
            self.sleep(wait)
            return self._call(method, path, **kwargs)
        headers = {"xero-tenant-id": self.credentials.tenant_id, **kwargs.pop("headers", {})}
        return call(
            method,
            f"{self.base}{path}",
            label="Xero",
            access_token=self.credentials.access_token,
            headers=headers,
            **kwargs,
        )

    def find_or_create_vendor(self, bill: Bill) -> str:
        for condition in (
            f'TaxNumber=="{_quoted(bill.vendor_tax_id)}"' if bill.vendor_tax_id else None,
            f'Name=="{_quoted(bill.vendor_name)}"',
        ):
            if condition is None:
                continue
            found = self._call(
                "GET", "/Contacts", params={"where": condition, "summaryOnly": "true"}
            )
            contacts = found.get("Contacts") or []
            if contacts:
                return str(contacts[0]["ContactID"])
        contact = Contact(
            name=bill.vendor_name,
            tax_number=bill.vendor_tax_id,
            email_address=bill.vendor_email,
        )
        created = self._call("PUT", "/Contacts", json=serialize(Contacts(contacts=[contact])))
        return str(created["Contacts"][0]["ContactID"])

    def create_bill(self, bill: Bill, vendor_id: str, idempotency_key: str) -> str:
        items = [
            LineItem(
                description=line.description,
                quantity=float(line.quantity),
                unit_amount=float(line.unit_amount),
                line_amount=float(line.line_amount),
                account_code=bill.expense_account,
                tax_type=line.tax_code,
            )
            for line in bill.lines
        ]
        invoice = Invoice(
            type="ACCPAY",
            contact=Contact(contact_id=vendor_id),
            line_items=items,
            date=_date(bill.date),
            due_date=_date(bill.due_date),
            invoice_number=bill.number,
            reference=bill.reference,
            currency_code=_currency(bill.currency),
            line_amount_types=LineAmountTypes.EXCLUSIVE,
            status="DRAFT",
        )
        created = self._call(
            "PUT",
            "/Invoices",
            json=serialize(Invoices(invoices=[invoice])),
            headers={"Idempotency-Key": idempotency_key},
        )
        return str(created["Invoices"][0]["InvoiceID"])

    def attach(
        self,
        external_id: str,
        file_name: str,
        content_type: str,
        data: bytes,
        idempotency_key: str,
    ) -> str:
        name = quote(file_name or "invoice", safe="")
        attached = self._call(
            "PUT",
            f"/Invoices/{external_id}/Attachments/{name}",
            content=data,
            # the content type Xero's OpenAPI document (and xero-python) give this body
            headers={
                "Content-Type": "application/octet-stream",
                "Idempotency-Key": idempotency_key,
            },
        )
        return str(attached["Attachments"][0]["AttachmentID"])


def _quoted(value: str) -> str:
    # Xero's `where` is a C#-like expression: a double quote in a name would end the string
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _currency(code: str | None) -> CurrencyCode | None:
    if not code:
        return None  # the organisation's base currency
    try:
        return CurrencyCode(code.upper())
    except ValueError:
        raise ProviderError(f"Xero does not know the currency {code!r}.", status=400) from None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
