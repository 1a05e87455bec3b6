import os
import stat

import pytest

from common import secretbox

KEY_A = "a" * 40
KEY_B = "b" * 40


@pytest.fixture
def key(monkeypatch):
    from common.config import get_settings

    def use(value):
        monkeypatch.setenv("INVEX_SECRET_KEY", value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_a_secret_round_trips_and_is_not_stored_in_clear(key):
    key(KEY_A)
    token = secretbox.encrypt("hunter2-imap-password")
    assert "hunter2" not in token
    assert secretbox.decrypt(token) == "hunter2-imap-password"


def test_rotation_reads_old_tokens_and_rewrites_them_under_the_new_key(key):
    key(KEY_A)
    old = secretbox.encrypt("refresh-token")
    key(f"{KEY_B},{KEY_A}")
    assert secretbox.decrypt(old) == "refresh-token"
    rotated = secretbox.reencrypt(old)
    key(KEY_B)
    assert secretbox.decrypt(rotated) == "refresh-token"
    with pytest.raises(secretbox.SecretUnreadable):
        secretbox.decrypt(old)


def test_a_key_for_one_purpose_does_not_open_another(key):
    key(KEY_A)
    token = secretbox.encrypt("x", purpose="stored-secrets")
    with pytest.raises(secretbox.SecretUnreadable):
        secretbox.decrypt(token, purpose="sessions")


def test_no_key_and_short_keys_are_refused(key, tmp_path, monkeypatch):
    monkeypatch.setenv("INVEX_DATA_DIR", str(tmp_path))
    key("")
    with pytest.raises(secretbox.SecretKeyMissing, match="invex secret-key"):
        secretbox.encrypt("x")
    key("short")
    with pytest.raises(secretbox.SecretKeyMissing, match="32"):
        secretbox.encrypt("x")


def test_the_embedded_key_is_created_once_private_and_read_by_a_cli_beside_it(
    key, tmp_path, monkeypatch
):
    first = secretbox.embedded_key(tmp_path)
    assert secretbox.embedded_key(tmp_path) == first
    assert len(first) >= secretbox.MIN_KEY_LENGTH
    assert stat.S_IMODE(os.stat(tmp_path / secretbox.KEY_FILE).st_mode) == 0o600
    monkeypatch.setenv("INVEX_DATA_DIR", str(tmp_path))
    key("")
    token = secretbox.encrypt("from-the-cli")
    key(first)
    assert secretbox.decrypt(token) == "from-the-cli"


def test_settings_never_show_the_key(key):
    from common.config import get_settings

    key(KEY_A)
    assert KEY_A not in repr(get_settings())
