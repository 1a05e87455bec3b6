"""An `invex` command in another terminal finds the stack `invex up` runs, or says which
variable to set."""

import os

import pytest

from common.cli import resolve_server_urls
from common.config import ConfigError, Settings
from common.running_stacks import RunningStack, register, running_stacks

DATABASE_URL = "postgresql://invex@/invex?host=/somewhere/postgres/socket"
REDIS_URL = "redis://127.0.0.1:6390/0"


@pytest.fixture(autouse=True)
def private_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("INVEX_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def settings(**environ: str) -> Settings:
    return Settings.from_env(environ)


def test_a_command_elsewhere_finds_the_only_running_stack():
    register(RunningStack(os.getpid(), "/srv/invex-data", DATABASE_URL, REDIS_URL))
    assert resolve_server_urls(settings()) == (DATABASE_URL, REDIS_URL)


def test_a_data_dir_set_elsewhere_is_named_in_the_error(monkeypatch):
    register(RunningStack(os.getpid(), "/srv/invex-data", DATABASE_URL, REDIS_URL))
    monkeypatch.setenv("INVEX_DATA_DIR", "other")
    with pytest.raises(ConfigError, match="set INVEX_DATA_DIR=/srv/invex-data"):
        resolve_server_urls(settings(INVEX_DATA_DIR="other"))


def test_with_nothing_running_the_error_says_to_start_it():
    with pytest.raises(ConfigError, match="Start `make up` first"):
        resolve_server_urls(settings())


def test_a_stack_whose_process_is_gone_is_forgotten():
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    register(RunningStack(dead, "/srv/gone", DATABASE_URL, REDIS_URL))
    assert running_stacks() == []
