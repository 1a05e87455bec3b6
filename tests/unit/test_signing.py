"""Webhook signatures as a receiver sees them: Invex-Signature and Standard Webhooks."""

import base64
import hashlib
import hmac

import pytest

from common.signing import (
    SignatureVerificationError,
    generate_webhook_secret,
    sign_payload,
    standard_webhooks_headers,
    verify_signature,
    verify_standard_webhook,
)

BODY = b'{"id":"evt_01","object":"event","type":"ping"}'
NOW = 1716638400
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret of 32 bytes......").decode()


def test_generated_secrets_are_whsec_and_32_random_bytes():
    secret = generate_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert generate_webhook_secret() != secret


def test_invex_signature_matches_an_independent_hmac_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_payload(BODY, [SECRET], NOW) == f"t={NOW},v1={expected}"


def test_standard_webhooks_signature_matches_an_independent_hmac_with_the_decoded_key():
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"msg_1.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    assert standard_webhooks_headers("msg_1", BODY, [SECRET], NOW) == {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_standard_webhooks_reference_vector():
    # The example from the Standard Webhooks reference libraries' test suites.
    headers = standard_webhooks_headers(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        b'{"test": 2432232314}',
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        1614265330,
    )
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_signed_payload_verifies():
    verify_signature(BODY, sign_payload(BODY, [SECRET], NOW), SECRET, now=NOW)


def test_during_rotation_both_secrets_sign_and_either_verifies():
    header = sign_payload(BODY, [SECRET, OTHER_SECRET], NOW)
    assert header.count("v1=") == 2
    verify_signature(BODY, header, SECRET, now=NOW)
    verify_signature(BODY, header, OTHER_SECRET, now=NOW)


def test_a_wrong_secret_is_rejected():
    header = sign_payload(BODY, [SECRET], NOW)
    with pytest.raises(SignatureVerificationError, match="no signature matches"):
        verify_signature(BODY, header, OTHER_SECRET, now=NOW)


def test_a_tampered_body_is_rejected():
    header = sign_payload(BODY, [SECRET], NOW)
    with pytest.raises(SignatureVerificationError, match="no signature matches"):
        verify_signature(BODY.replace(b"ping", b"pong"), header, SECRET, now=NOW)


def test_a_timestamp_within_tolerance_is_accepted():
    header = sign_payload(BODY, [SECRET], NOW)
    verify_signature(BODY, header, SECRET, now=NOW + 300)
    verify_signature(BODY, header, SECRET, now=NOW - 300)


@pytest.mark.parametrize("now", [NOW + 301, NOW - 301], ids=["too-old", "from-the-future"])
def test_a_timestamp_outside_tolerance_is_rejected(now):
    header = sign_payload(BODY, [SECRET], NOW)
    with pytest.raises(SignatureVerificationError, match="more than 300 s away"):
        verify_signature(BODY, header, SECRET, now=now)


def test_a_changed_timestamp_breaks_the_signature():
    header = sign_payload(BODY, [SECRET], NOW).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(SignatureVerificationError, match="no signature matches"):
        verify_signature(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "malformed"),
        ("garbage", "malformed"),
        (f"t={NOW}", "no v1 signature"),
        ("v1=abcdef", "no timestamp"),
        ("t=soon,v1=abcdef", "malformed timestamp"),
        (f"t=-{NOW},v1=abcdef", "malformed timestamp"),
        (f"t={NOW},t={NOW},v1=abcdef", "more than one timestamp"),
        (f"t={NOW},v1=", "malformed"),
    ],
)
def test_a_malformed_header_is_rejected_with_its_reason(header, reason):
    with pytest.raises(SignatureVerificationError, match=reason):
        verify_signature(BODY, header, SECRET, now=NOW)


def test_unknown_signature_schemes_are_ignored():
    header = sign_payload(BODY, [SECRET], NOW) + ",v0=deadbeef"
    verify_signature(BODY, header, SECRET, now=NOW)


def test_a_non_ascii_candidate_is_rejected_not_crashed_on():
    with pytest.raises(SignatureVerificationError, match="no signature matches"):
        verify_signature(BODY, f"t={NOW},v1=é", SECRET, now=NOW)


def test_signing_needs_a_secret():
    with pytest.raises(ValueError, match="at least one secret"):
        sign_payload(BODY, [], NOW)


def test_standard_webhook_headers_verify_whatever_their_case():
    headers = standard_webhooks_headers("dlv_1", BODY, [SECRET], NOW)
    verify_standard_webhook(
        BODY, {name.title(): value for name, value in headers.items()}, SECRET, now=NOW
    )


def test_standard_webhook_rotation_sends_space_separated_signatures_and_either_verifies():
    headers = standard_webhooks_headers("dlv_1", BODY, [SECRET, OTHER_SECRET], NOW)
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify_standard_webhook(BODY, headers, SECRET, now=NOW)
    verify_standard_webhook(BODY, headers, OTHER_SECRET, now=NOW)


def test_standard_webhook_with_a_wrong_secret_tampered_body_or_id_is_rejected():
    headers = standard_webhooks_headers("dlv_1", BODY, [SECRET], NOW)
    with pytest.raises(SignatureVerificationError):
        verify_standard_webhook(BODY, headers, OTHER_SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_standard_webhook(BODY + b" ", headers, SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError):
        verify_standard_webhook(BODY, {**headers, "webhook-id": "dlv_2"}, SECRET, now=NOW)


def test_standard_webhook_outside_tolerance_is_rejected():
    headers = standard_webhooks_headers("dlv_1", BODY, [SECRET], NOW)
    with pytest.raises(SignatureVerificationError, match="away"):
        verify_standard_webhook(BODY, headers, SECRET, now=NOW + 301)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook-id": ""}, "missing header"),
        ({"webhook-timestamp": "yesterday"}, "malformed timestamp"),
        ({"webhook-signature": "v1"}, "malformed signature entry"),
        ({"webhook-signature": "v2,abc"}, "no v1 signature"),
    ],
)
def test_malformed_standard_webhook_headers_are_rejected(change, reason):
    headers = {**standard_webhooks_headers("dlv_1", BODY, [SECRET], NOW), **change}
    with pytest.raises(SignatureVerificationError, match=reason):
        verify_standard_webhook(BODY, headers, SECRET, now=NOW)


def test_a_secret_that_is_not_base64_cannot_sign_standard_webhooks():
    with pytest.raises(ValueError, match="base64"):
        standard_webhooks_headers("dlv_1", BODY, ["whsec_not base64!"], NOW)
