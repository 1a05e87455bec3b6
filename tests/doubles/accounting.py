"""A local HTTP server playing Xero and QuickBooks Online for the tests: their OAuth 2.0
token endpoints (authorization_code with PKCE S256, refresh_token with rotation,
revocation), the few API endpoints Invex calls, and their error and 429 answers.

Every request to the Xero side is checked against Xero's own OpenAPI document
(xero_accounting_subset.json, cut from XeroAPI/Xero-OpenAPI): the operation must exist, its
required header be sent, its query parameters be ones it declares, its body's content type
one it accepts and its JSON body valid against its schema, with every object closed
(`additionalProperties: false`), so a misspelt field fails. A request that breaks the
document is answered 400 and kept in `violations`. The QuickBooks side checks every key of
a Bill, Vendor or Attachable against Intuit's published XML schema of those entities
(quickbooks_entities.json, cut from the XSDs of intuit/QuickBooks-V3-Java-SDK: elements
and attributes by type, through the base types), and the required fields Intuit's API
reference gives for them (QUICKBOOKS_SCHEMAS).

`consent(authorization_url)` plays the user on the provider's consent screen: it checks
the URL (client, redirect URI, S256 challenge) and answers the callback's query.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http.server
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs

XERO_DOCUMENT = json.loads(Path(__file__).with_name("xero_accounting_subset.json").read_text())
QUICKBOOKS_TYPES = json.loads(Path(__file__).with_name("quickbooks_entities.json").read_text())[
    "types"
]
QUICKBOOKS_ENTITY_TYPES = {"bill": "Bill", "vendor": "Vendor", "attachable": "Attachable"}


def _quickbooks_fields(type_name: str) -> dict[str, str | None]:
    """The keys a JSON object of an XSD type may carry, with each one's type: elements and
    attributes of the type and of its bases."""
    found: dict[str, str | None] = {}
    while type_name in QUICKBOOKS_TYPES:
        described = QUICKBOOKS_TYPES[type_name]
        found.update(described["elements"])
        found.update(dict.fromkeys(described["attributes"]))
        type_name = described["base"] or ""
    return found


def quickbooks_unknown_keys(document: Any, type_name: str, path: str = "") -> list[str]:
    """Keys of `document` that Intuit's schema does not give its type, at any depth."""
    if isinstance(document, list):
        return [
            bad
            for number, item in enumerate(document)
            for bad in quickbooks_unknown_keys(item, type_name, f"{path}/{number}")
        ]
    if not isinstance(document, dict) or type_name not in QUICKBOOKS_TYPES:
        return []
    allowed = _quickbooks_fields(type_name)
    unknown = []
    for key, value in document.items():
        if key not in allowed:
            unknown.append(f"{path}/{key}")
        elif allowed[key] is not None:
            unknown.extend(quickbooks_unknown_keys(value, allowed[key] or "", f"{path}/{key}"))
    return unknown


# Required fields from Intuit's API reference (developer.intuit.com, Accounting API:
# Bill "Create a bill", Vendor "Create a vendor", Attachable "Upload attachments").
_REF = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": "string", "minLength": 1}},
}
QUICKBOOKS_SCHEMAS = {
    "bill": {
        "type": "object",
        "required": ["VendorRef", "Line"],
        "properties": {
            "VendorRef": _REF,
            "CurrencyRef": _REF,
            "Line": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["DetailType", "Amount", "AccountBasedExpenseLineDetail"],
                    "properties": {
                        "DetailType": {"const": "AccountBasedExpenseLineDetail"},
                        "Amount": {"type": "number"},
                        "AccountBasedExpenseLineDetail": {
                            "type": "object",
                            "required": ["AccountRef"],
                            "properties": {"AccountRef": _REF, "TaxCodeRef": _REF},
                        },
                    },
                },
            },
        },
    },
    "vendor": {
        "type": "object",
        "required": ["DisplayName"],
        "properties": {"DisplayName": {"type": "string", "minLength": 1, "maxLength": 500}},
    },
    "attachable": {
        "type": "object",
        "required": ["AttachableRef", "FileName", "ContentType"],
        "properties": {
            "AttachableRef": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["EntityRef"],
                    "properties": {
                        "EntityRef": {
                            "type": "object",
                            "required": ["type", "value"],
                            "properties": {"type": {"const": "Bill"}},
                        }
                    },
                },
            }
        },
    },
}


def _closed(node: Any) -> Any:
    """Every object schema with `additionalProperties: false` (Xero's document leaves them
    open; Invex must send only fields the document names)."""
    if isinstance(node, dict):
        node = {k: _closed(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


_COMPONENTS = _closed(copy.deepcopy(XERO_DOCUMENT["components"]))


def _xero_validator(ref: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft4Validator({"$ref": ref, "components": _COMPONENTS})


def _parameter(spec: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in spec:
        return XERO_DOCUMENT["components"]["parameters"][spec["$ref"].rsplit("/", 1)[1]]
    return spec


@dataclass
class Failure:
    """A scripted answer for the next matching request."""

    status: int
    retry_after: float | None = None
    body: dict[str, Any] | None = None


@dataclass
class Recorded:
    provider: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


class AccountingDouble:
    XERO_CLIENT = ("xero-client-id", "xero-client-secret")
    QUICKBOOKS_CLIENT = ("qb-client-id", "qb-client-secret")
    XERO_TENANT = "8c1b4a2e-3f0d-4c39-9f61-0a1b2c3d4e5f"
    REALM = "9130355123456789"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.failures: dict[tuple[str, str, str], list[Failure]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}  # token -> {provider, live}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.token_lifetime = 1800
        self.refresh_delay = 0.0  # widens a refresh's window, for the concurrency test
        self.xero_contacts: list[dict[str, Any]] = []
        self.xero_invoices: list[dict[str, Any]] = []
        self.xero_attachments: list[dict[str, Any]] = []
        self.xero_idempotency: dict[str, dict[str, Any]] = {}
        self.qb_vendors: list[dict[str, Any]] = []
        self.qb_bills: list[dict[str, Any]] = []
        self.qb_attachables: list[dict[str, Any]] = []
        self.qb_request_ids: dict[str, dict[str, Any]] = {}
        double = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = double.answer(
                    self.command, self.path, self.headers, body
                )
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- set-up for the tests --------------------------------------------------------------

    def settings_env(self) -> dict[str, str]:
        """The INVEX_* settings that point Invex at this double."""
        return {
            "INVEX_XERO_CLIENT_ID": self.XERO_CLIENT[0],
            "INVEX_XERO_CLIENT_SECRET": self.XERO_CLIENT[1],
            "INVEX_XERO_LOGIN_URL": f"{self.url}/xero/login",
            "INVEX_XERO_IDENTITY_URL": f"{self.url}/xero/identity",
            "INVEX_XERO_API_URL": f"{self.url}/xero/api",
            "INVEX_QUICKBOOKS_CLIENT_ID": self.QUICKBOOKS_CLIENT[0],
            "INVEX_QUICKBOOKS_CLIENT_SECRET": self.QUICKBOOKS_CLIENT[1],
            "INVEX_QUICKBOOKS_AUTHORIZE_URL": f"{self.url}/qb/authorize",
            "INVEX_QUICKBOOKS_TOKEN_URL": f"{self.url}/qb/token",
            "INVEX_QUICKBOOKS_REVOKE_URL": f"{self.url}/qb/revoke",
            "INVEX_QUICKBOOKS_API_URL": f"{self.url}/qb/api",
        }

    def fail_next(
        self,
        provider: str,
        method: str,
        path_pattern: str,
        status: int,
        *,
        retry_after: float | None = None,
        times: int = 1,
        body: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` requests whose path matches `path_pattern` (a regex on the path
        after the provider's API prefix) answer `status`."""
        with self.lock:
            self.failures.setdefault((provider, method, path_pattern), []).extend(
                [Failure(status, retry_after, body)] * times
            )

    def consent(self, authorization_url: str) -> dict[str, str]:
        """The user grants access: check the authorization URL as the provider would and
        answer the callback's query parameters (code, state; realmId for QuickBooks)."""
        parts = urlsplit(authorization_url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        provider = "xero" if parts.path.startswith("/xero/") else "quickbooks"
        client = self.XERO_CLIENT if provider == "xero" else self.QUICKBOOKS_CLIENT
        assert query["response_type"] == "code"
        assert query["client_id"] == client[0]
        assert query["code_challenge_method"] == "S256"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
        assert query["redirect_uri"].endswith(f"/v1/integrations/{provider}/callback")
        assert "offline_access" in query["scope"] or provider == "quickbooks"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {
                "provider": provider,
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
            }
        answer = {"code": code, "state": query["state"]}
        if provider == "quickbooks":
            answer["realmId"] = self.REALM
        return answer

    def revoke_everything(self, provider: str) -> None:
        """The user disconnects Invex in the provider's own settings."""
        with self.lock:
            for token in [*self.refresh_tokens.values(), *self.access_tokens.values()]:
                if token["provider"] == provider:
                    token["live"] = False

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens.values():
                token["expires"] = 0.0

    def live_refresh_tokens(self, provider: str) -> list[str]:
        with self.lock:
            return [
                t for t, v in self.refresh_tokens.items() if v["provider"] == provider and v["live"]
            ]

    def made(self, provider: str, method: str, pattern: str) -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.provider == provider and r.method == method and re.search(pattern, r.path)
            ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers ---------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers: Any, body: bytes):
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        provider = "xero" if path.startswith("/xero/") else "quickbooks"
        recorded = Recorded(provider, method, path, query, dict(headers.items()), body)
        with self.lock:
            self.requests.append(recorded)
        if path in ("/xero/identity/connect/token", "/qb/token"):
            return self._token(provider, headers, body)
        if path in ("/xero/identity/connect/revocation", "/qb/revoke"):
            return self._revoke(provider, headers, body)
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        with self.lock:
            access = self.access_tokens.get(token)
            usable = access and access["live"] and access["expires"] > time.time()
        if not usable or access["provider"] != provider:
            return 401, {}, {"Title": "Unauthorized", "Detail": "TokenExpired: token expired"}
        api_path = path.removeprefix("/xero/api").removeprefix("/qb/api")
        scripted = self._scripted(provider, method, api_path)
        if scripted is not None:
            return scripted
        if provider == "xero":
            return self._xero(method, api_path, query, headers, body)
        return self._quickbooks(method, api_path, query, headers, body)

    def _scripted(self, provider: str, method: str, path: str):
        with self.lock:
            for (p, m, pattern), queue in self.failures.items():
                if p == provider and m == method and re.search(pattern, path) and queue:
                    failure = queue.pop(0)
                    headers = {}
                    if failure.retry_after is not None:
                        headers["Retry-After"] = str(int(failure.retry_after))
                    if failure.status == 429 and provider == "xero":
                        headers["X-Rate-Limit-Problem"] = "minute"
                    return failure.status, headers, failure.body or {"Detail": "scripted"}
        return None

    def _client_ok(self, provider: str, headers: Any) -> bool:
        client = self.XERO_CLIENT if provider == "xero" else self.QUICKBOOKS_CLIENT
        expected = "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
        return headers.get("Authorization") == expected

    def _issue(self, provider: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens[access] = {
            "provider": provider,
            "live": True,
            "expires": time.time() + self.token_lifetime,
        }
        self.refresh_tokens[refresh] = {"provider": provider, "live": True}
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.token_lifetime,
            "token_type": "Bearer",
        }

    def _token(self, provider: str, headers: Any, body: bytes):
        if not self._client_ok(provider, headers):
            return 401, {}, {"error": "invalid_client"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self.lock:
                issued = self.codes.pop(form.get("code", ""), None)  # single use
                if issued is None or issued["provider"] != provider:
                    return 400, {}, {"error": "invalid_grant"}
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                if challenge != issued["challenge"]:
                    return 400, {}, {"error": "invalid_grant", "error_description": "PKCE"}
                if form.get("redirect_uri") != issued["redirect_uri"]:
                    return 400, {}, {"error": "invalid_grant", "error_description": "redirect"}
                return 200, {}, self._issue(provider)
        if grant == "refresh_token":
            time.sleep(self.refresh_delay)
            with self.lock:
                old = self.refresh_tokens.get(form.get("refresh_token", ""))
                if old is None or not old["live"] or old["provider"] != provider:
                    return 400, {}, {"error": "invalid_grant"}
                old["live"] = False  # rotation: the old refresh token is spent
                return 200, {}, self._issue(provider)
        return 400, {}, {"error": "unsupported_grant_type"}

    def _revoke(self, provider: str, headers: Any, body: bytes):
        if not self._client_ok(provider, headers):
            return 401, {}, {"error": "invalid_client"}
        if provider == "quickbooks":
            token = json.loads(body or b"{}").get("token", "")
        else:
            token = parse_qs(body.decode()).get("token", [""])[0]
        with self.lock:
            if token in self.refresh_tokens:
                self.refresh_tokens[token]["live"] = False
        return 200, {}, {}

    # --- Xero -------------------------------------------------------------------------------

    def _xero_violation(self, message: str):
        with self.lock:
            self.violations.append(message)
        return 400, {}, {"Type": "ValidationException", "Message": message}

    def _xero_check(self, method: str, template: str, query: dict, headers: Any, body: bytes):
        """None when the request keeps Xero's OpenAPI document; else the 400 answer."""
        item = XERO_DOCUMENT["paths"].get(template)
        if item is None or method.lower() not in item:
            return self._xero_violation(f"{method} {template} is not in Xero's document")
        operation = item[method.lower()]
        declared = [
            _parameter(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]
        ]
        for spec in declared:
            if spec["in"] == "header" and spec.get("required") and not headers.get(spec["name"]):
                return self._xero_violation(f"{template}: header {spec['name']} missing")
        names = {p["name"] for p in declared if p["in"] == "query"}
        for name in query:
            if name not in names:
                return self._xero_violation(f"{template}: query parameter {name} not declared")
        request_body = operation.get("requestBody")
        if request_body is None:
            return None
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type not in request_body["content"]:
            return self._xero_violation(f"{template}: content type {content_type} not accepted")
        if content_type == "application/json":
            schema_ref = request_body["content"][content_type]["schema"]["$ref"]
            errors = [
                f"{'/'.join(map(str, e.instance_path))}: {e.message}"
                for e in _xero_validator(schema_ref).iter_errors(json.loads(body))
            ]
            if errors:
                return self._xero_violation(f"{method} {template}: " + "; ".join(errors[:5]))
        return None

    def _xero(self, method: str, path: str, query: dict, headers: Any, body: bytes):
        if method == "GET" and path == "/connections":
            return (
                200,
                {},
                [
                    {
                        "id": str(uuid.uuid4()),
                        "tenantId": self.XERO_TENANT,
                        "tenantType": "ORGANISATION",
                        "tenantName": "Demo Company (UK)",
                    }
                ],
            )
        path = path.removeprefix("/api.xro/2.0")
        attachment = re.fullmatch(r"/Invoices/([^/]+)/Attachments/([^/]+)", path)
        template = "/Invoices/{InvoiceID}/Attachments/{FileName}" if attachment else path
        refused = self._xero_check(method, template, query, headers, body)
        if refused is not None:
            return refused
        if headers.get("xero-tenant-id") != self.XERO_TENANT:
            return 403, {}, {"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"}
        if path == "/Contacts" and method == "GET":
            where = query.get("where", [""])[0]
            match = re.fullmatch(r'(TaxNumber|Name)=="(.*)"', where)
            with self.lock:
                found = [c for c in self.xero_contacts if match and c.get(match[1]) == match[2]]
            return 200, {}, {"Contacts": found}
        if path == "/Contacts" and method == "PUT":
            made = []
            with self.lock:
                for contact in json.loads(body)["Contacts"]:
                    made.append({**contact, "ContactID": str(uuid.uuid4())})
                self.xero_contacts.extend(made)
            return 200, {}, {"Contacts": made}
        if path == "/Invoices" and method == "PUT":
            key = headers.get("Idempotency-Key")
            with self.lock:
                if key and key in self.xero_idempotency:
                    return 200, {}, self.xero_idempotency[key]
                made = [
                    {**invoice, "InvoiceID": str(uuid.uuid4())}
                    for invoice in json.loads(body)["Invoices"]
                ]
                self.xero_invoices.extend(made)
                answer = {"Invoices": made}
                if key:
                    self.xero_idempotency[key] = answer
            return 200, {}, answer
        if attachment and method == "PUT":
            key = headers.get("Idempotency-Key")
            with self.lock:
                if key and key in self.xero_idempotency:
                    return 200, {}, self.xero_idempotency[key]
                if not any(i["InvoiceID"] == attachment[1] for i in self.xero_invoices):
                    return 404, {}, {"Title": "Not Found"}
                made = {
                    "AttachmentID": str(uuid.uuid4()),
                    "FileName": attachment[2],
                    "ContentLength": len(body),
                    "InvoiceID": attachment[1],
                    "data": body,
                }
                self.xero_attachments.append(made)
            shown = {k: v for k, v in made.items() if k != "data"}
            if key:
                with self.lock:
                    self.xero_idempotency[key] = {"Attachments": [shown]}
            return 200, {}, {"Attachments": [shown]}
        return 404, {}, {"Title": "Not Found"}

    # --- QuickBooks -------------------------------------------------------------------------

    def _qb_violation(self, message: str):
        with self.lock:
            self.violations.append(message)
        return (
            400,
            {},
            {
                "Fault": {
                    "Error": [{"Message": "ValidationFault", "Detail": message}],
                    "type": "ValidationFault",
                }
            },
        )

    def _qb_check(self, entity: str, document: Any):
        unknown = quickbooks_unknown_keys(document, QUICKBOOKS_ENTITY_TYPES[entity])
        if unknown:
            return self._qb_violation(f"{entity}: not in Intuit's schema: {', '.join(unknown)}")
        errors = [
            f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in jsonschema_rs.Draft7Validator(QUICKBOOKS_SCHEMAS[entity]).iter_errors(document)
        ]
        return self._qb_violation(f"{entity}: " + "; ".join(errors[:5])) if errors else None

    def _quickbooks(self, method: str, path: str, query: dict, headers: Any, body: bytes):
        found = re.fullmatch(r"/v3/company/(\d+)/(.+)", path)
        if found is None or found[1] != self.REALM:
            return 404, {}, {"Fault": {"Error": [{"Message": "no such company"}]}}
        resource = found[2]
        if "minorversion" not in query:
            return self._qb_violation(f"{resource}: no minorversion")
        if method == "GET" and resource == f"companyinfo/{self.REALM}":
            return 200, {}, {"CompanyInfo": {"CompanyName": "Sandbox Company_US_1", "Id": "1"}}
        if method == "GET" and resource == "query":
            statement = query.get("query", [""])[0]
            match = re.fullmatch(r"select \* from Vendor where DisplayName = '(.*)'", statement)
            if match is None:
                return self._qb_violation(f"query not understood: {statement}")
            name = match[1].replace("\\'", "'").replace("\\\\", "\\")
            with self.lock:
                vendors = [v for v in self.qb_vendors if v["DisplayName"] == name]
            return 200, {}, {"QueryResponse": {"Vendor": vendors} if vendors else {}}
        if method == "POST" and resource == "vendor":
            document = json.loads(body)
            refused = self._qb_check("vendor", document)
            if refused:
                return refused
            with self.lock:
                made = {**document, "Id": str(100 + len(self.qb_vendors))}
                self.qb_vendors.append(made)
            return 200, {}, {"Vendor": made}
        if method == "POST" and resource == "bill":
            document = json.loads(body)
            refused = self._qb_check("bill", document)
            if refused:
                return refused
            request_id = query.get("requestid", [None])[0]
            with self.lock:
                if request_id and request_id in self.qb_request_ids:
                    return 200, {}, self.qb_request_ids[request_id]
                made = {**document, "Id": str(500 + len(self.qb_bills))}
                self.qb_bills.append(made)
                answer = {"Bill": made}
                if request_id:
                    self.qb_request_ids[request_id] = answer
            return 200, {}, answer
        if method == "POST" and resource == "upload":
            return self._qb_upload(headers, body)
        return 404, {}, {"Fault": {"Error": [{"Message": f"no {resource}"}]}}

    def _qb_upload(self, headers: Any, body: bytes):
        content_type = headers.get("Content-Type") or ""
        boundary = re.search(r"boundary=([^;]+)", content_type)
        if not content_type.startswith("multipart/form-data") or boundary is None:
            return self._qb_violation("upload: not multipart/form-data")
        parts: dict[str, tuple[dict[str, str], bytes]] = {}
        for chunk in body.split(b"--" + boundary[1].strip('"').encode())[1:-1]:
            head, _, data = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
            part_headers = dict(
                line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line
            )
            name = re.search(r'name="([^"]+)"', part_headers.get("Content-Disposition", ""))
            if name:
                parts[name[1]] = (part_headers, data)
        if "file_metadata_01" not in parts or "file_content_01" not in parts:
            return self._qb_violation("upload: file_metadata_01 and file_content_01 needed")
        metadata = json.loads(parts["file_metadata_01"][1])
        refused = self._qb_check("attachable", metadata)
        if refused:
            return refused
        with self.lock:
            made = {
                **metadata,
                "Id": str(900 + len(self.qb_attachables)),
                "data": parts["file_content_01"][1],
            }
            self.qb_attachables.append(made)
        shown = {k: v for k, v in made.items() if k != "data"}
        return 200, {}, {"AttachableResponse": [{"Attachable": shown}]}
