"""Members' password hashes: a deployment gets RFC 9106's argon2id parameters unless told
otherwise; the test suite's cheap ones (INVEX_PASSWORD_HASHING) must be asked for."""

import pytest

from common.config import ConfigError, Settings
from common.sessions import service


def test_a_deployment_hashes_with_rfc_9106s_low_memory_argon2id():
    assert Settings.from_env({}).password_hashing == "standard"
    hashed = service._hasher_for("standard").hash("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_cheap_parameters_are_only_the_named_test_choice():
    cheap = Settings.from_env({"INVEX_PASSWORD_HASHING": "test-only-cheap"})
    assert service._hasher_for(cheap.password_hashing).hash("x").startswith("$argon2id$")
    with pytest.raises(ConfigError, match="INVEX_PASSWORD_HASHING"):
        Settings.from_env({"INVEX_PASSWORD_HASHING": "cheap"})


def test_a_hash_verifies_whichever_parameters_made_it():
    cheap = service._hasher_for("test-only-cheap").hash("correct horse battery")
    assert service._hasher_for("standard").verify(cheap, "correct horse battery")
    standard = service._hasher_for("standard").hash("correct horse battery")
    assert service._hasher_for("test-only-cheap").verify(standard, "correct horse battery")
