"""The line `invex up` prints when the environment opens webhook targets up (the
supervisor's tests see it printed by a real `invex up --dev`)."""

from common.supervisor import service_environment, webhook_warning


def test_the_safe_default_prints_no_warning():
    assert webhook_warning({}) is None


def test_private_targets_alone_name_only_their_variable():
    warning = webhook_warning({"INVEX_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert warning is not None
    assert "INVEX_WEBHOOK_ALLOW_PRIVATE=1" in warning
    assert "INVEX_WEBHOOK_ALLOW_HTTP" not in warning


def test_dev_opens_both_and_names_both(monkeypatch):
    monkeypatch.delenv("INVEX_WEBHOOK_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("INVEX_WEBHOOK_ALLOW_HTTP", raising=False)
    env = service_environment("postgresql://x/y", "redis://127.0.0.1:1/0", dev=True)
    warning = webhook_warning(env)
    assert warning is not None
    assert "INVEX_WEBHOOK_ALLOW_PRIVATE=1" in warning
    assert "INVEX_WEBHOOK_ALLOW_HTTP=1" in warning
    assert (
        webhook_warning(service_environment("postgresql://x/y", "redis://127.0.0.1:1/0", dev=False))
        is None
    )
