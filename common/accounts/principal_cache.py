"""Who a bearer secret is, remembered per API process for a few seconds, and forgotten the
moment the database says anything that decides it has changed.

Reading the key (with its organisation and member) on every request costs a round trip and
about a fifth of an upload's CPU. Instead each process keeps the principals it has read,
and forgets them all when:

- this process commits a change that decides one (`forget_all()` after commit: the next
  request here reads again, as before);
- any process, or anyone with psql, commits one: triggers on `api_keys`, `members` and
  `orgs` (migration 0014) send a NOTIFY that a listener thread in every API process
  receives, within a millisecond or two of the commit;
- the listener is not connected: while it is down (or not up yet) nothing is remembered or
  used, so a lost notification can never leave a revoked key working;
- `INVEX_KEY_CACHE_SECONDS` has passed since it was read: the last guard, for a connection
  that died without the listener noticing yet.

A read that raced with a change is not remembered: the generation, bumped by every
forgetting, must be the same after the read as before it. Failed lookups are never
remembered (a revoked or unknown secret is read every time).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import psycopg

from common.threads import ProcessThread

log = logging.getLogger(__name__)

# The channel migration 0014's triggers notify on.
CHANNEL = "invex_auth_changed"
# The listener's connection, as pg_stat_activity shows it.
APPLICATION_NAME = "invex principal-cache listener"
# The listener asks the server for a reply this often, so a dead connection is found (and
# the cache switched off) within about this long even when no notification comes.
PROBE_SECONDS = 2.0
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
# More distinct keys than this in one process: the oldest is dropped.
MAX_ENTRIES = 10_000

T = TypeVar("T")


class PrincipalCache(Generic[T]):
    """Principals (or whatever `T` the caller keeps) by secret hash, for `ttl` seconds, only
    while a listener on `CHANNEL` is connected. `database_url()` is asked when the listener
    (re)connects; `ttl` 0 turns the cache off."""

    def __init__(self, database_url: Callable[[], str], ttl: Callable[[], float]) -> None:
        self._database_url = database_url
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[T, float]] = {}
        self._generation = 0
        self._listening = False
        self._listener = ProcessThread(self._listen_forever, "principal-cache-listener")
        os.register_at_fork(after_in_child=self._forget_the_parent)

    def _forget_the_parent(self) -> None:
        """In a forked child: the parent's listener is not ours (ProcessThread starts one on
        the next generation()), nor what it vouched for; its lock may have been held."""
        self._lock = threading.Lock()
        self._entries, self._listening = {}, False
        self._generation += 1

    def get(self, key: bytes) -> T | None:
        entry = self._entries.get(key)
        if entry is None or not self._listening:
            return None
        value, expires = entry
        return value if time.monotonic() < expires else None

    def generation(self) -> int:
        """Read before the lookup whose result is then `put`; starts the listener."""
        with self._lock:
            if self._ttl() > 0:
                self._listener.ensure()
            return self._generation

    def put(self, key: bytes, value: T, generation: int) -> None:
        """Remember `value`, read after `generation()` returned `generation`, unless something
        was forgotten since (the read may predate that change) or nobody is listening."""
        ttl = self._ttl()
        with self._lock:
            if generation != self._generation or not self._listening or ttl <= 0:
                return
            if key not in self._entries and len(self._entries) >= MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (value, time.monotonic() + ttl)

    def forget_all(self) -> None:
        with self._lock:
            self._entries = {}
            self._generation += 1

    @property
    def listening(self) -> bool:
        return self._listening

    def _set_listening(self, listening: bool) -> None:
        with self._lock:
            self._entries = {}
            self._generation += 1
            self._listening = listening

    def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                with psycopg.connect(
                    self._database_url(),
                    autocommit=True,
                    connect_timeout=3,
                    application_name=APPLICATION_NAME,
                ) as conn:
                    conn.execute(f"listen {CHANNEL}")
                    # Only now: a change committed before LISTEN took effect has no
                    # notification coming, and the entries read meanwhile were never kept.
                    self._set_listening(True)
                    failures = 0
                    while True:
                        for _ in conn.notifies(timeout=PROBE_SECONDS):
                            self.forget_all()
                        conn.execute("select 1")
            except Exception as exc:  # noqa: BLE001 - any failure: stop trusting the cache, reconnect
                if self._listening:
                    log.warning("principal cache off, listener lost: %s", exc)
                self._set_listening(False)
                time.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
                failures += 1
