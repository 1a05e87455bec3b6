"""A bill in QuickBooks Online: the supplier found by display name or created (a Vendor),
the Bill created with `requestid` (QuickBooks' idempotency: a retried create with the same
ID answers the first result), the original document uploaded as an Attachable linked to it.

Bodies are python-quickbooks' objects (Bill, Vendor, Attachable) as the SDK serialises them;
they are sent with httpx because the SDK's client turns every HTTP failure into one
exception without the status's Retry-After, and keeps its API host as a class constant.
A vendor's TaxIdentifier is masked in QuickBooks' answers, so vendors are matched by name.
"""

from __future__ import annotations

import json
from typing import Any

from quickbooks.objects.attachable import Attachable
from quickbooks.objects.base import AttachableRef, EmailAddress, Ref
from quickbooks.objects.bill import Bill as QuickBooksBill
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
)
from quickbooks.objects.vendor import Vendor

from common.integrations.bills import Bill
from common.integrations.http import call
from common.integrations.providers import ProviderError
from common.integrations.service import Credentials

MINOR_VERSION = "75"


def _ref(value: str) -> Ref:
    ref = Ref()
    ref.value = value
    return ref


def _body(obj: Any) -> dict[str, Any]:
    return json.loads(obj.to_json())


class QuickBooksPublisher:
    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.base = f"{credentials.provider.api_url}/v3/company/{credentials.tenant_id}"

    def _call(self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any):
        return call(
            method,
            f"{self.base}{path}",
            label="QuickBooks",
            access_token=self.credentials.access_token,
            params={"minorversion": MINOR_VERSION, **(params or {})},
            **kwargs,
        )

    def find_or_create_vendor(self, bill: Bill) -> str:
        name = bill.vendor_name.replace("\\", "\\\\").replace("'", "\\'")
        found = self._call(
            "GET", "/query", params={"query": f"select * from Vendor where DisplayName = '{name}'"}
        )
        vendors = (found.get("QueryResponse") or {}).get("Vendor") or []
        if vendors:
            return str(vendors[0]["Id"])
        vendor = Vendor()
        vendor.DisplayName = bill.vendor_name[:100]
        vendor.CompanyName = bill.vendor_name[:100]
        if bill.vendor_tax_id:
            vendor.TaxIdentifier = bill.vendor_tax_id
        if bill.vendor_email:
            vendor.PrimaryEmailAddr = EmailAddress()
            vendor.PrimaryEmailAddr.Address = bill.vendor_email
        created = self._call("POST", "/vendor", json=_body(vendor))
        return str(created["Vendor"]["Id"])

    def create_bill(self, bill: Bill, vendor_id: str, idempotency_key: str) -> str:
        if not bill.expense_account:
            raise ProviderError(
                "QuickBooks needs an expense account for the bill's lines: set "
                "`expense_account` in PUT /v1/integrations/quickbooks/mappings.",
                status=400,
            )
        entity = QuickBooksBill()
        entity.VendorRef = _ref(vendor_id)
        entity.DocNumber = (bill.number or "")[:21]
        entity.TxnDate = bill.date or ""
        entity.DueDate = bill.due_date or ""
        entity.PrivateNote = f"Invex {bill.reference}"
        if bill.currency:
            entity.CurrencyRef = _ref(bill.currency)
        for line in bill.lines:
            detail = AccountBasedExpenseLineDetail()
            detail.AccountRef = _ref(bill.expense_account)
            if line.tax_code:
                detail.TaxCodeRef = _ref(line.tax_code)
            expense = AccountBasedExpenseLine()
            expense.Amount = float(line.line_amount)
            expense.Description = line.description
            expense.AccountBasedExpenseLineDetail = detail
            entity.Line.append(expense)
        created = self._call(
            "POST", "/bill", params={"requestid": idempotency_key}, json=_body(entity)
        )
        return str(created["Bill"]["Id"])

    def attach(
        self,
        external_id: str,
        file_name: str,
        content_type: str,
        data: bytes,
        idempotency_key: str,
    ) -> str:
        """Upload the document linked to the bill. `idempotency_key` is not sent: Intuit
        documents `requestid` for entity operations, not for /upload."""
        attachable = Attachable()
        link = AttachableRef()
        link.EntityRef = _ref(external_id)
        link.EntityRef.type = "Bill"
        attachable.AttachableRef.append(link)
        attachable.FileName = file_name or "invoice"
        attachable.ContentType = content_type or "application/octet-stream"
        uploaded = self._call(
            "POST",
            "/upload",
            files={
                "file_metadata_01": (None, json.dumps(_body(attachable)), "application/json"),
                "file_content_01": (attachable.FileName, data, attachable.ContentType),
            },
        )
        answers = uploaded.get("AttachableResponse") or [{}]
        if "Fault" in answers[0]:
            raise ProviderError(
                f"QuickBooks refused the attachment: {answers[0]['Fault']}", status=400
            )
        return str(answers[0]["Attachable"]["Id"])
