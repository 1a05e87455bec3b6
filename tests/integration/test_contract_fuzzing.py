"""Contract fuzzing: schemathesis generates requests for every operation of
`/v1/openapi.json` and sends them to the application with a real full-access key of an
organisation of its own. Whatever it sends, the API never answers 5xx and every error is in
the contract's shape.

Three runs over every operation: valid requests, invalid requests (schemathesis' negative
mode, which also drops the key), and valid requests whose path IDs are real objects of the
organisation, so that lookups succeed and the code behind them runs. In that last run the
DELETE operations go last, so the objects live while the others are fuzzed. Nothing is
excluded: uploads queue extraction tasks no worker here takes, and webhook tests deliver
nowhere (the only endpoint points at example.com and no webhook worker runs).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os

import pytest

from tests.integration.test_api_contract import assert_contract_error
from tests.support import extract_now, make_text_pdf, one_of_everything

# Examples per operation and run: few in `make test`, where a developer waits for them;
# CI sets INVEX_FUZZ_EXAMPLES higher (.ci/run), for a deeper search on every change.
EXAMPLES_PER_OPERATION = int(os.environ.get("INVEX_FUZZ_EXAMPLES", "5"))
ERROR_TYPES = {
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "idempotency_error",
    "rate_limit_error",
    "api_error",
}


def errors_are_in_the_contracts_shape(ctx, response, case) -> bool | None:
    """`{"error": {"type", "code", "message", "request_id", ["param"]}}` as JSON, with the
    Request-Id header's value, and never a stack trace."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"an error as {content_type!r}"
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) - {"param"} == {"type", "code", "message", "request_id"}, error
    assert error["type"] in ERROR_TYPES, error
    assert isinstance(error["code"], str), error
    assert error["code"], error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    assert error["request_id"] == response.headers["request-id"][0], error
    assert "Traceback" not in response.text, error
    return True


@functools.cache
def contract_checks() -> list:
    """schemathesis' check for 5xx and ours, registered once. schemathesis and hypothesis
    are imported here, by the worker that fuzzes, not by every worker's collection."""
    import schemathesis
    from schemathesis.checks import not_a_server_error

    return [not_a_server_error, schemathesis.check(errors_are_in_the_contracts_shape)]


@pytest.fixture(scope="module")
def fuzzing_key(settings) -> str:
    """A full-access live key of an organisation no other test sees."""
    from common.accounts.service import create_api_key, create_org

    return create_api_key(create_org("Fuzzing Org").id).secret


@pytest.fixture(scope="module")
def real_ids(app, fuzzing_key) -> dict[str, str]:
    return one_of_everything(app.test_client(), {"Authorization": f"Bearer {fuzzing_key}"})


def fuzz_operation(operation, mode, secret: str, path_ids: dict | None) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_ids))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,  # the same examples on every run and machine
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {secret}"},
            checks=contract_checks(),
        )

    # Unsatisfiable: negative mode, and nothing to make invalid (no parameters, body or key).
    with contextlib.suppress(Unsatisfiable):
        run()


# One test per run, each over every operation, reporting every failing operation at once.
# (schemathesis' per-operation items from a fixture, `from_fixture`, fail on pytest 9.2.)
@pytest.mark.parametrize("run", ["valid", "invalid", "valid on real objects"])
# Not measured by coverage: tracing the API's lines through thousands of requests costs
# much of a run's CPU; the few lines only these reach go uncounted (docs/performance.md).
@pytest.mark.no_cover
def test_every_operation_answers_generated_requests_within_the_contract(
    app, fuzzing_key, run, request
):
    import schemathesis
    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    mode = GenerationMode.NEGATIVE if run == "invalid" else GenerationMode.POSITIVE
    if run == "valid on real objects":
        # made only for this run: two extractions and a statement, seconds a worker
        real_ids = request.getfixturevalue("real_ids")
        operations = [o for o in operations if o.path_parameters]
        operations.sort(key=lambda o: o.method.upper() == "DELETE")
    failures = {}
    for operation in operations:
        path_ids = None
        if run == "valid on real objects":
            path_ids = {p.name: real_ids[p.name] for p in operation.path_parameters}
        try:
            fuzz_operation(operation, mode, fuzzing_key, path_ids)
        except Exception as exc:  # noqa: BLE001 - every failing operation is reported
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"{label}: {exc}" for label, exc in failures.items())


# What the fuzzing found, pinned down (each was a 500 or a wrong document).


def test_a_timestamp_filter_past_year_9999_is_a_validation_error(client, tenant):
    response = client.get("/v1/invoices?created_before=7874918902854303744", headers=tenant.headers)
    assert assert_contract_error(response, 400, "validation_error")["param"] == "created_before"


def test_a_nul_character_in_a_query_parameter_is_a_validation_error(client, tenant):
    response = client.get("/v1/invoices?vendor=a%00b", headers=tenant.headers)
    assert assert_contract_error(response, 400, "validation_error")["param"] == "vendor"


def test_a_nul_character_in_a_body_key_is_a_validation_error(client, tenant):
    response = client.post(
        "/v1/webhooks",
        headers=tenant.headers,
        json={"url": "https://example.com/h", "description": "ok", "x\x00": 1},
    )
    assert_contract_error(response, 400, "validation_error")


def test_an_unpaired_surrogate_in_a_body_is_a_validation_error(client, tenant):
    response = client.post(
        "/v1/members",
        headers=tenant.headers,
        data='{"email": "a@example.com", "name": "\\ud800"}',
        content_type="application/json",
    )
    assert assert_contract_error(response, 400, "validation_error")["param"] == "name"


def test_a_nul_character_in_a_path_id_answers_not_found(client, tenant):
    response = client.get("/v1/invoices/inv_%00", headers=tenant.headers)
    assert_contract_error(response, 404, "resource_not_found")


def test_a_control_character_in_a_corrected_field_still_renders_as_ubl(client, tenant):
    invoice = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    ).get_json()
    extract_now(invoice["id"])
    patched = client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"notes": "a\x01b"}
    )
    assert patched.status_code == 200
    response = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=tenant.headers)
    assert response.status_code == 200


def test_discovery_and_ping_are_documented_as_unauthenticated_with_their_answers(client):
    paths = client.get("/v1/openapi.json").get_json()["paths"]
    for path in ("/v1", "/v1/ping"):
        operation = paths[path]["get"]
        assert operation["security"] == []
        assert "200" in operation["responses"]
