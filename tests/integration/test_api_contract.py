"""The contract's basics: errors in one shape, Request-Id, discovery, auth and scopes."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from tests.support import ROOT, make_text_pdf


def assert_contract_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["Request-Id"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error


def test_every_response_carries_a_request_id(client):
    response = client.get("/v1")
    assert response.headers["Request-Id"].startswith("req_")


def test_unknown_path_answers_resource_not_found(client):
    assert_contract_error(client.get("/v1/nothing-here"), 404, "resource_not_found")


def test_wrong_method_answers_method_not_allowed(client):
    assert_contract_error(client.delete("/v1/ping"), 405, "method_not_allowed")


def test_missing_key_answers_authentication_required(client):
    assert_contract_error(client.get("/v1/invoices"), 401, "authentication_required")


def test_forged_key_answers_invalid_api_key(client):
    response = client.get("/v1/invoices", headers={"Authorization": "Bearer invx_live_" + "A" * 36})
    assert_contract_error(response, 401, "invalid_api_key")


def test_key_without_the_scope_is_refused(client, tenant):
    reader = tenant.new_key(scopes=["invoices:read"])
    response = client.post(
        "/v1/invoices",
        headers={"Authorization": f"Bearer {reader}"},
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    )
    assert_contract_error(response, 403, "insufficient_scope")


def test_bad_query_parameter_names_the_param(client, tenant):
    response = client.get("/v1/invoices?limit=1000", headers=tenant.headers)
    error = assert_contract_error(response, 400, "validation_error")
    assert error["param"] == "limit"


def test_unknown_query_parameter_is_refused(client, tenant):
    response = client.get("/v1/invoices?colour=blue", headers=tenant.headers)
    assert assert_contract_error(response, 400, "validation_error")["param"] == "colour"


def test_discovery_lists_endpoints_with_scopes(client):
    body = client.get("/v1").get_json()
    assert body["name"] == "Invex"
    assert {"method": "POST", "path": "/v1/invoices", "scope": "upload:write"} in body["endpoints"]


def test_ping_reports_operational(client):
    response = client.get("/v1/ping")
    assert response.status_code == 200
    assert response.get_json()["status"] == "operational"


def test_openapi_document_describes_the_upload(client):
    spec = client.get("/v1/openapi.json").get_json()
    upload = spec["paths"]["/v1/invoices"]["post"]
    schema_ref = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    properties = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    assert {"file", "metadata", "wait", "schema_id"} <= set(properties)


def test_openapi_document_lists_rate_limits_on_every_authenticated_operation(client):
    spec = client.get("/v1/openapi.json").get_json()
    headers = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's, not an operation
                continue
            if operation.get("security") == []:  # discovery and ping: no key, no limits
                assert "429" not in operation["responses"], (method, path)
                continue
            limited = operation["responses"]["429"]
            assert "`rate_limited`" in limited["description"], (method, path)
            assert headers | {"Retry-After"} <= set(limited["headers"]), (method, path)
            success = next(r for code, r in operation["responses"].items() if code < "300")
            assert headers <= set(success["headers"]), (method, path)


def test_openapi_document_lists_monthly_limit_reached_on_the_upload_only(client):
    paths = client.get("/v1/openapi.json").get_json()["paths"]
    assert (
        "`monthly_limit_reached`"
        in paths["/v1/invoices"]["post"]["responses"]["429"]["description"]
    )
    assert (
        "monthly_limit_reached"
        not in paths["/v1/invoices"]["get"]["responses"]["429"]["description"]
    )


def test_docs_page_is_served(client):
    assert client.get("/docs").status_code == 200


def test_api_process_does_not_load_the_ocr_stack(settings):
    """A fresh process serving an upload and a download: torch and easyocr never load."""
    probe = (
        "import io, sys\n"
        "from api.app import create_app\n"
        "from tests.support import ROOT, make_text_pdf\n"
        "client = create_app().test_client()\n"
        "client.post('/v1/invoices', data={'file': (io.BytesIO(make_text_pdf()), 'a.pdf')})\n"
        "print(sorted(m for m in ('torch', 'easyocr') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("mode", ["live", "test"])
def test_keys_of_other_modes_and_orgs_see_nothing(client, tenant, other_tenant, mode):
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    )
    invoice_id = created.get_json()["id"]
    outsider = other_tenant.secret if mode == "live" else tenant.new_key(livemode=False)
    headers = {"Authorization": f"Bearer {outsider}"}
    for path in (f"/v1/invoices/{invoice_id}", f"/v1/invoices/{invoice_id}/file"):
        assert_contract_error(client.get(path, headers=headers), 404, "resource_not_found")
    assert_contract_error(
        client.delete(f"/v1/invoices/{invoice_id}", headers=headers), 404, "resource_not_found"
    )
    listed = client.get("/v1/invoices", headers=headers).get_json()
    assert invoice_id not in [i["id"] for i in listed["data"]]


def test_a_json_answer_ends_with_a_newline(client):
    assert client.get("/v1/ping").data.endswith(b"}\n")


def test_an_error_answer_ends_with_a_newline(client, tenant):
    assert client.get("/v1/invoices?colour=blue", headers=tenant.headers).data.endswith(b"}\n")


def test_the_framework_s_not_found_and_method_not_allowed_end_with_a_newline(client):
    assert client.get("/v1/nothing-here").data.endswith(b"}\n")
    assert client.delete("/v1/ping").data.endswith(b"}\n")


def test_an_answer_in_an_older_version_s_shape_ends_with_a_newline(client, tenant):
    response = client.get("/v1/invoices", headers={**tenant.headers, "Invex-Version": "2026-06-01"})
    assert response.status_code == 200
    assert response.data.endswith(b"}\n")


def test_a_replayed_answer_ends_with_a_newline(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "newline-replay"}
    body = {"name": "x", "fields": []}
    client.post("/v1/schemas", headers=headers, json=body)
    replay = client.post("/v1/schemas", headers=headers, json=body)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.data.endswith(b"}\n")


def test_the_discovery_document_ends_with_a_newline(client):
    assert client.get("/v1").data.endswith(b"}\n")


def test_the_openapi_document_ends_with_a_newline(client):
    assert client.get("/v1/openapi.json").data.endswith(b"}\n")
