"""The HTTP clients a webhook sender thread keeps, one per receiving host: a bounded number,
the least recently used closed first (with its kept-alive connections)."""

from __future__ import annotations

import threading

from common.webhooks import service


def in_a_sender_thread(work):
    result = {}
    thread = threading.Thread(target=lambda: result.update(work()))
    thread.start()
    thread.join()
    return result


def url(n: int) -> str:
    return f"https://receiver-{n}.example/hooks"


def test_the_least_recently_used_client_is_closed_beyond_the_bound(monkeypatch):
    # A small bound: each new client loads the CA bundle again.
    monkeypatch.setattr(service, "CLIENTS_PER_THREAD", 4)

    def work():
        oldest, recent = service._http_client(url(0)), service._http_client(url(1))
        for n in range(2, service.CLIENTS_PER_THREAD + 1):
            service._http_client(url(n))
            if n == 2:
                assert service._http_client(url(1)) is recent  # used again: now the newest
        return {"oldest": oldest, "recent": recent, "kept": len(service._local.clients)}

    result = in_a_sender_thread(work)
    assert result["kept"] == service.CLIENTS_PER_THREAD
    assert result["oldest"].is_closed
    assert not result["recent"].is_closed


def test_each_thread_has_its_own_clients():
    mine = service._http_client(url(0))
    theirs = in_a_sender_thread(lambda: {"client": service._http_client(url(0))})["client"]
    assert theirs is not mine
    assert service._http_client(url(0)) is mine
