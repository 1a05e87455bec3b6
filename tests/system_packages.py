"""Every Debian package `make test` needs, installed in one apt-get run before the tests
start: the servers, and dovecot and chromium for the mail and browser tests. On a new
machine the first run then spends one `apt-get update`, and no test waits on an install
while the others run. Each helper still installs its own when a module runs alone."""

from __future__ import annotations

import sys
from pathlib import Path

from common.embedded import (
    MissingBinary,
    apt_install,
    find_postgres_bin,
    find_redis_server,
    missing_server_packages,
)
from tests.imap_server import DOVECOT
from tests.support_web import CHROMIUM

FOR_THE_TESTS = {"dovecot-imapd": DOVECOT, "chromium": CHROMIUM}


def main() -> int:
    missing = missing_server_packages()
    missing += [package for package, binary in FOR_THE_TESTS.items() if not Path(binary).exists()]
    if missing:
        try:
            apt_install(*missing, recommends=False)
        except MissingBinary as why:
            sys.stderr.write(f"invex: {why}\n")  # the tests that need them say so too
    # The servers are required: this names what is still missing (without a second apt run
    # after one that failed).
    find_postgres_bin()
    find_redis_server()
    return 0


if __name__ == "__main__":
    sys.exit(main())
