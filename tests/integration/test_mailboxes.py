"""Mailboxes against a real IMAP server (dovecot, tests/imap_server.py) and the real
database: the API keeps the password to itself; a poll (run in this process) turns each
attached invoice into an invoice naming its mail, takes a message once whatever restarts
and concurrent pollers do, logs and skips hostile mail, and backs off from a mailbox that
fails."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from common import db, secretbox
from common.config import get_settings
from common.mail import service
from common.mail.service import PollResult
from tests.imap_server import PrivateDovecot, mail_environment, make_mail
from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf


@pytest.fixture(scope="module", autouse=True)
def _mail_settings(module_database):
    # a small upload limit, so the hostile "huge" mail is cheap to make
    with mail_environment(INVEX_MAX_UPLOAD_BYTES="300000"):
        yield


@pytest.fixture(scope="module")
def imap_server():
    server = PrivateDovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def inbox(imap_server):
    imap_server.clear()
    imap_server.clear("Processed")
    return imap_server


def create_mailbox(client, tenant, server, **overrides) -> dict:
    body = {
        "name": "Supplier invoices",
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "password": server.password,
        "ca_certificate": server.certificate,
        **overrides,
    }
    response = client.post("/v1/mailboxes", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def mail_invoices(mailbox_id: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute(
            "select id, status, metadata, source_channel, file_name from invoices"
            " where metadata ->> 'mailbox_id' = %(id)s order by id",
            {"id": mailbox_id},
        ).fetchall()


def messages(mailbox_id: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute(
            "select uid, message_id, outcome, reason, invoice_ids from mail_messages"
            " where mailbox_id = %(id)s order by uid",
            {"id": mailbox_id},
        ).fetchall()


def pdf_mail(number: str, **kwargs) -> bytes:
    pdf = make_text_pdf(["ACME Supplies GmbH", "Invoice", f"Invoice number: {number}"])
    return make_mail(subject=f"Invoice {number}", attachments=[(f"{number}.pdf", pdf)], **kwargs)


# --- the API --------------------------------------------------------------------------------


def test_the_password_is_stored_encrypted_and_never_returned(client, tenant, inbox):
    created = create_mailbox(client, tenant, inbox)
    assert created["id"].startswith("mbx_")
    assert created["password_set"] is True
    assert created["after_processing"] == "seen"
    assert created["folder"] == "INBOX"
    fetched = client.get(f"/v1/mailboxes/{created['id']}", headers=tenant.headers)
    listed = client.get("/v1/mailboxes", headers=tenant.headers)
    patched = client.patch(
        f"/v1/mailboxes/{created['id']}", headers=tenant.headers, json={"password": "new-one"}
    )
    for response in (fetched, listed, patched):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert inbox.password not in text
        assert "new-one" not in text
        assert "password_encrypted" not in text
    with db.connection() as conn:
        stored = conn.execute(
            "select password_encrypted from mailboxes where id = %(id)s", {"id": created["id"]}
        ).fetchone()["password_encrypted"]
    assert "new-one" not in stored
    assert secretbox.decrypt(stored) == "new-one"


def test_mailboxes_need_the_settings_scopes_and_stay_in_their_organisation(
    client, tenant, other_tenant, inbox
):
    created = create_mailbox(client, tenant, inbox)
    reader = {"Authorization": f"Bearer {tenant.new_key(scopes=['settings:read'])}"}
    assert client.get(f"/v1/mailboxes/{created['id']}", headers=reader).status_code == 200
    refused = client.post(
        "/v1/mailboxes",
        headers=reader,
        json={"host": "imap.example.com", "username": "u", "password": "p"},
    )
    assert_contract_error(refused, 403, "insufficient_scope")
    hidden = client.get(f"/v1/mailboxes/{created['id']}", headers=other_tenant.headers)
    assert_contract_error(hidden, 404, "resource_not_found")
    listed = client.get("/v1/mailboxes", headers=other_tenant.headers).get_json()
    assert listed["data"] == []


def test_move_needs_a_processed_folder_and_a_bad_certificate_is_refused(client, tenant, inbox):
    refused = client.post(
        "/v1/mailboxes",
        headers=tenant.headers,
        json={
            "host": "imap.example.com",
            "username": "u",
            "password": "p",
            "after_processing": "move",
        },
    )
    assert assert_contract_error(refused, 400, "validation_error")["param"] == "processed_folder"
    bad_ca = client.post(
        "/v1/mailboxes",
        headers=tenant.headers,
        json={"host": "imap.example.com", "username": "u", "password": "p", "ca_certificate": "x"},
    )
    assert assert_contract_error(bad_ca, 400, "validation_error")["param"] == "ca_certificate"


def test_without_a_secret_key_no_password_is_stored(client, tenant, monkeypatch):
    monkeypatch.setenv("INVEX_SECRET_KEY", "")
    get_settings.cache_clear()
    try:
        refused = client.post(
            "/v1/mailboxes",
            headers=tenant.headers,
            json={"host": "imap.example.com", "username": "u", "password": "p"},
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert (
        "INVEX_SECRET_KEY" in assert_contract_error(refused, 503, "service_unavailable")["message"]
    )


def test_deleting_a_mailbox_stops_its_polls(client, tenant, inbox):
    created = create_mailbox(client, tenant, inbox)
    deleted = client.delete(f"/v1/mailboxes/{created['id']}", headers=tenant.headers)
    assert deleted.get_json() == {"id": created["id"], "object": "mailbox", "deleted": True}
    assert client.get(f"/v1/mailboxes/{created['id']}", headers=tenant.headers).status_code == 404
    assert created["id"] not in service.claim_due_mailboxes()


# --- polls ----------------------------------------------------------------------------------


def test_a_mail_with_a_pdf_becomes_an_invoice_that_names_the_mail(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    inbox.append(pdf_mail("INV-M-1", message_id="<inv-m-1@acme.example>"))

    result = service.poll_mailbox(mailbox["id"])

    assert (result.taken, result.error) == (1, None)
    [invoice] = mail_invoices(mailbox["id"])
    assert invoice["source_channel"] == "email"
    assert invoice["file_name"] == "INV-M-1.pdf"
    assert invoice["metadata"]["email_message_id"] == "<inv-m-1@acme.example>"
    assert invoice["metadata"]["email_from"] == "ACME Billing <billing@acme.example>"
    assert invoice["metadata"]["email_subject"] == "Invoice INV-M-1"
    assert invoice["metadata"]["email_date"]
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert shown["source_channel"] == "email"
    assert shown["metadata"]["mailbox_id"] == mailbox["id"]
    assert "\\Seen" in next(iter(inbox.flags().values()))
    polled = client.get(f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers).get_json()
    assert polled["last_error"] is None
    assert polled["last_polled"] is not None


def test_every_invoice_attachment_of_a_mail_becomes_an_invoice(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    first = make_text_pdf(["Invoice number: A-1"])
    second = make_text_pdf(["Invoice number: A-2"])
    inbox.append(
        make_mail(
            attachments=[("a1.pdf", first), ("logo.txt", b"not an invoice"), ("a2.pdf", second)]
        )
    )
    assert service.poll_mailbox(mailbox["id"]).taken == 1
    assert [i["file_name"] for i in mail_invoices(mailbox["id"])] == ["a1.pdf", "a2.pdf"]
    [message] = messages(mailbox["id"])
    assert len(message["invoice_ids"]) == 2
    assert "logo.txt" in message["reason"]


def test_two_pollers_at_once_take_each_message_once(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    for n in range(6):
        inbox.append(pdf_mail(f"INV-C-{n}"))
    row = _mailbox_row(mailbox["id"])
    results: list[PollResult] = []
    errors: list[BaseException] = []

    def poll_past_the_lock() -> None:
        # straight to the takes, as two pollers that both got past the advisory lock would
        result = PollResult()
        try:
            service._take_new_messages(row, result)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        results.append(result)

    threads = [threading.Thread(target=poll_past_the_lock) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(mail_invoices(mailbox["id"])) == 6
    assert sum(r.taken for r in results) == 6
    assert len(messages(mailbox["id"])) == 6
    assert all("\\Seen" in flags for flags in inbox.flags().values())


def test_a_second_poll_of_a_mailbox_being_polled_does_nothing(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    with db.connection() as conn:
        assert service.repository.try_poll_lock(conn, mailbox["id"])
        try:
            assert service.poll_mailbox(mailbox["id"]).busy is True
        finally:
            service.repository.release_poll_lock(conn, mailbox["id"])
    assert service.poll_mailbox(mailbox["id"]).busy is False


def test_a_restart_between_taking_and_marking_takes_nothing_twice(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    inbox.append(pdf_mail("INV-R-1"))
    inbox.append(pdf_mail("INV-R-2"))
    assert service.poll_mailbox(mailbox["id"]).taken == 2
    # as if the poller died after its commits and before the server heard of them
    with inbox.connect() as imap:
        imap.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    inbox.append(pdf_mail("INV-R-3"))

    again = service.poll_mailbox(mailbox["id"])

    assert again.taken == 1
    assert len(mail_invoices(mailbox["id"])) == 3
    assert all("\\Seen" in flags for flags in inbox.flags().values())


def test_the_same_mail_again_is_not_taken_again(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    mail = pdf_mail("INV-D-1", message_id="<same@acme.example>")
    inbox.append(mail)
    service.poll_mailbox(mailbox["id"])
    inbox.append(mail)  # delivered twice: a new UID, the same Message-ID
    service.poll_mailbox(mailbox["id"])
    assert len(mail_invoices(mailbox["id"])) == 1
    assert all("\\Seen" in flags for flags in inbox.flags().values())


def test_hostile_mail_is_logged_and_skipped_and_the_next_good_mail_goes_through(
    client, tenant, inbox, caplog
):
    mailbox = create_mailbox(client, tenant, inbox)
    nested = b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for depth in range(60):
        boundary = f"b{depth}".encode()
        nested = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + nested
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("invoice.pdf", b"\0" * 50_000_000)
    limit = get_settings().max_upload_bytes
    hostile = [
        b"From: x@evil.example\r\nSubject: nested\r\nMessage-ID: <nested@evil>\r\n" + nested,
        make_mail(subject="huge", attachments=[("big.pdf", b"%PDF-1.4\n" + os.urandom(limit * 3))]),
        make_mail(subject="zip", attachments=[("invoices.zip", bomb.getvalue())]),
        (
            b"From: x@evil.example\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\n"
            b"--\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n"
        ),
        make_mail(subject="no attachment"),
        make_mail(subject="broken pdf", attachments=[("bad.pdf", b"%PDF-1.7\n garbage")]),
    ]
    for mail in hostile:
        inbox.append(mail)
    inbox.append(pdf_mail("INV-G-1"))

    with caplog.at_level("INFO", logger="common.mail.service"):
        result = service.poll_mailbox(mailbox["id"])

    assert result.error is None
    assert result.taken == 1
    assert result.rejected + result.skipped == len(hostile)
    [invoice] = mail_invoices(mailbox["id"])
    assert invoice["file_name"] == "INV-G-1.pdf"
    recorded = messages(mailbox["id"])
    assert len(recorded) == len(hostile) + 1
    reasons = " | ".join(m["reason"] or "" for m in recorded)
    assert "nested deeper" in reasons
    assert f"larger than {limit * 3} bytes" in reasons
    assert "invoices.zip: not a PDF, image or e-invoice XML" in reasons
    assert "no PDF, image or e-invoice XML attachment" in reasons
    assert "bad.pdf" in reasons
    logged = caplog.text
    assert "nested deeper" in logged
    assert all("\\Seen" in flags for flags in inbox.flags().values())


def test_mail_from_senders_off_the_allow_list_is_skipped(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox, allowed_senders=["@trusted.example"])
    inbox.append(pdf_mail("INV-S-1"))
    inbox.append(pdf_mail("INV-S-2", sender="ap@billing.trusted.example"))
    result = service.poll_mailbox(mailbox["id"])
    assert (result.taken, result.skipped) == (1, 1)
    [invoice] = mail_invoices(mailbox["id"])
    assert invoice["metadata"]["email_from"].endswith("<ap@billing.trusted.example>")


def test_move_puts_a_taken_mail_in_the_processed_folder(client, tenant, inbox):
    mailbox = create_mailbox(
        client, tenant, inbox, after_processing="move", processed_folder="Processed"
    )
    inbox.append(pdf_mail("INV-P-1"))
    assert service.poll_mailbox(mailbox["id"]).taken == 1
    assert inbox.count("INBOX") == 0
    assert inbox.count("Processed") == 1


def test_a_wrong_password_shows_in_last_error_and_backs_off(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox, password="wrong-password")

    first = service.poll_mailbox(mailbox["id"])
    second = service.poll_mailbox(mailbox["id"])

    assert first.error is not None
    assert "login refused" in first.error
    assert "wrong-password" not in first.error
    row = _mailbox_row(mailbox["id"])
    assert row.failures == 2
    assert row.last_error == second.error
    # the interval (2 s) doubled per failure: 8 s after the second
    waited = row.next_poll_at - row.last_polled_at
    assert timedelta(seconds=7) < waited < timedelta(seconds=9)
    shown = client.get(f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers).get_json()
    assert "login refused" in shown["last_error"]
    assert shown["failures"] == 2
    # broken for long, it waits 15 minutes between tries
    with db.connection() as conn:
        conn.execute("update mailboxes set failures = 5000 where id = %(id)s", mailbox)
    service.poll_mailbox(mailbox["id"])
    row = _mailbox_row(mailbox["id"])
    assert row.next_poll_at - row.last_polled_at == timedelta(seconds=900)
    # fixed, it is polled at once and forgets its failures
    fixed = client.patch(
        f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers, json={"password": inbox.password}
    ).get_json()
    assert fixed["failures"] == 0
    assert service.poll_mailbox(mailbox["id"]).error is None
    assert _mailbox_row(mailbox["id"]).last_error is None


def test_a_server_certificate_nobody_trusts_is_refused(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox, ca_certificate=None)
    inbox.append(pdf_mail("INV-T-1"))
    result = service.poll_mailbox(mailbox["id"])
    assert result.error is not None
    assert result.error.startswith("TLS:")
    assert mail_invoices(mailbox["id"]) == []


def test_private_addresses_are_refused_unless_allowed(client, tenant, inbox, monkeypatch):
    mailbox = create_mailbox(client, tenant, inbox)
    monkeypatch.setenv("INVEX_MAIL_ALLOW_PRIVATE", "0")
    get_settings.cache_clear()
    try:
        result = service.poll_mailbox(mailbox["id"])
    finally:
        monkeypatch.setenv("INVEX_MAIL_ALLOW_PRIVATE", "1")
        get_settings.cache_clear()
    assert result.error is not None
    assert result.error.startswith("refused:")


def test_the_dispatcher_claims_a_due_mailbox_once(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    assert mailbox["id"] in service.claim_due_mailboxes()
    assert mailbox["id"] not in service.claim_due_mailboxes()
    client.patch(f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers, json={"enabled": False})
    with db.connection() as conn:
        conn.execute("update mailboxes set next_poll_at = now() where id = %(id)s", mailbox)
    assert mailbox["id"] not in service.claim_due_mailboxes()


def _mailbox_row(mailbox_id: str):
    with db.connection() as conn:
        return service.repository.get_mailbox_by_id(conn, mailbox_id)


def test_a_mail_waits_while_the_credits_are_used_up(client, tenant, inbox, monkeypatch):
    mailbox = create_mailbox(client, tenant, inbox)
    inbox.append(pdf_mail("INV-L-1"))
    monkeypatch.setenv("INVEX_PLAN_LIMITS", "free.monthly_pages=0")
    get_settings.cache_clear()
    try:
        refused = service.poll_mailbox(mailbox["id"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert refused.error.startswith("monthly_limit_reached:")
    assert messages(mailbox["id"]) == []
    assert next(iter(inbox.flags().values())) == ""  # left unread for later
    assert service.poll_mailbox(mailbox["id"]).taken == 1


def test_a_folder_that_does_not_exist_shows_in_last_error(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox, folder="Nowhere")
    result = service.poll_mailbox(mailbox["id"])
    assert result.error is not None
    assert "cannot select 'Nowhere'" in result.error


def test_move_without_a_processed_folder_cannot_be_patched_in(client, tenant, inbox):
    mailbox = create_mailbox(client, tenant, inbox)
    refused = client.patch(
        f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers, json={"after_processing": "move"}
    )
    assert assert_contract_error(refused, 400, "validation_error")["param"] == "processed_folder"
    shown = client.get(f"/v1/mailboxes/{mailbox['id']}", headers=tenant.headers).get_json()
    assert shown["after_processing"] == "seen"


def test_the_tasks_poll_and_dispatch_as_the_worker_runs_them(client, tenant, inbox, servers):
    import redis

    from workers.mail_tasks import dispatch_polls, poll_mailbox

    mailbox = create_mailbox(client, tenant, inbox)
    assert poll_mailbox.apply(args=[mailbox["id"]]).get() == 0  # nothing: quiet
    inbox.append(pdf_mail("INV-W-1"))
    assert poll_mailbox.apply(args=[mailbox["id"]]).get()["taken"] == 1
    broker = redis.Redis.from_url(servers["redis_url"])
    broker.delete("mail")
    with db.connection() as conn:
        conn.execute("update mailboxes set next_poll_at = now() where id = %(id)s", mailbox)
    assert dispatch_polls.apply().get() >= 1
    assert broker.llen("mail") >= 1  # the poll task, on its own queue
    broker.delete("mail")


def test_a_mail_that_trips_a_defect_is_recorded_and_the_poll_goes_on(
    client, tenant, inbox, monkeypatch
):
    real_read_mail = service.read_mail

    def read_mail_with_a_defect(raw: bytes, **limits):
        if b"POISON" in raw:
            raise RuntimeError("a defect nobody foresaw")
        return real_read_mail(raw, **limits)

    monkeypatch.setattr(service, "read_mail", read_mail_with_a_defect)
    mailbox = create_mailbox(client, tenant, inbox)
    inbox.append(pdf_mail("INV-X-1", body="POISON"))
    inbox.append(pdf_mail("INV-X-2"))

    result = service.poll_mailbox(mailbox["id"])

    assert (result.error, result.rejected, result.taken) == (None, 1, 1)
    reasons = [m["reason"] for m in messages(mailbox["id"])]
    assert "internal error: RuntimeError" in reasons


def test_a_server_that_stops_answering_is_cut_off(client, tenant, monkeypatch):
    import socket
    import ssl
    import tempfile

    from common.mail import imap
    from tests.imap_server import self_signed_certificate

    certificate, key = self_signed_certificate()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.pem").write_text(certificate)
        (Path(tmp) / "k.pem").write_text(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(Path(tmp) / "c.pem", Path(tmp) / "k.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def greet_then_say_nothing() -> None:
        conn, _ = listener.accept()
        tls = context.wrap_socket(conn, server_side=True)
        tls.sendall(b"* OK IMAP4rev1 ready\r\n")
        held.append(tls)  # never answers LOGIN

    threading.Thread(target=greet_then_say_nothing, daemon=True).start()
    monkeypatch.setattr(imap, "SESSION_SECONDS", 1)
    mailbox = create_mailbox(
        client,
        tenant,
        type(
            "Silent",
            (),
            {
                "host": "127.0.0.1",
                "port": listener.getsockname()[1],
                "user": "u",
                "password": "p",
                "certificate": certificate,
            },
        ),
    )
    started = time.monotonic()
    try:
        result = service.poll_mailbox(mailbox["id"])
    finally:
        listener.close()
        for conn in held:
            conn.close()
    # cut off by the session's deadline, not by the read timeout it would otherwise wait out
    assert time.monotonic() - started < imap.TIMEOUT_SECONDS
    assert result.error is not None
    assert _mailbox_row(mailbox["id"]).failures == 1


def test_a_password_that_is_not_ascii_logs_in(client, tenant, inbox):
    mailbox = create_mailbox(
        client, tenant, inbox, username=inbox.second_user, password=inbox.second_password
    )
    assert service.poll_mailbox(mailbox["id"]).error is None
    wrong = create_mailbox(client, tenant, inbox, username=inbox.second_user, password="pässwört")
    assert "login refused" in service.poll_mailbox(wrong["id"]).error


def test_a_folder_name_that_is_not_ascii_is_refused(client, tenant, inbox):
    refused = client.post(
        "/v1/mailboxes",
        headers=tenant.headers,
        json={"host": "imap.example.com", "username": "u", "password": "p", "folder": "Entwürfe"},
    )
    assert assert_contract_error(refused, 400, "validation_error")["param"] == "folder"


def test_a_poll_that_trips_a_defect_still_records_it_and_backs_off(
    client, tenant, inbox, monkeypatch
):
    mailbox = create_mailbox(client, tenant, inbox)

    def take_with_a_defect(*args):
        raise RuntimeError("a defect nobody foresaw")

    monkeypatch.setattr(service, "_take_new_messages", take_with_a_defect)
    result = service.poll_mailbox(mailbox["id"])
    assert result.error == "internal error: RuntimeError"
    row = _mailbox_row(mailbox["id"])
    assert (row.failures, row.last_error) == (1, "internal error: RuntimeError")
