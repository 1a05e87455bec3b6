"""Mail end to end: a mailbox created through the API, a mail with a text-PDF invoice
appended to a real IMAP server (dovecot), and the real processes (beat's dispatcher, the
`mail` worker, the extraction worker) turn it into a succeeded invoice that names the mail."""

from __future__ import annotations

import pytest

from tests.imap_server import PrivateDovecot, mail_environment, make_mail
from tests.support import make_text_pdf, wait_until

pytestmark = pytest.mark.slow
# Mail settings in the service's environment, and beat: a service of its own.
OWN_SERVICE = True


@pytest.fixture(scope="module", autouse=True)
def _mail_settings(module_database):
    with mail_environment():  # before `service` copies the environment for its processes
        yield


@pytest.fixture(scope="module")
def imap_server():
    server = PrivateDovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_mailed_invoice_is_extracted_and_names_its_mail(service, tenant, imap_server):
    service.start_mail_worker()
    with service.client(tenant.secret) as http:
        mailbox = http.post(
            "/v1/mailboxes",
            json={
                "host": imap_server.host,
                "port": imap_server.port,
                "username": imap_server.user,
                "password": imap_server.password,
                "ca_certificate": imap_server.certificate,
            },
        ).json()
        assert "password" not in mailbox
        pdf = make_text_pdf()
        imap_server.append(
            make_mail(attachments=[("INV-2026-0042.pdf", pdf)], message_id="<e2e-1@acme.example>")
        )

        def succeeded() -> dict | None:
            listed = http.get("/v1/invoices", params={"status": "succeeded"}).json()["data"]
            return listed[0] if listed else None

        invoice = wait_until(succeeded, 60, interval=0.2, message="the mail made no invoice")
        polled = http.get(f"/v1/mailboxes/{mailbox['id']}").json()

    assert invoice["source_channel"] == "email"
    assert invoice["invoice_number"] == "INV-2026-0042"
    assert invoice["metadata"]["email_message_id"] == "<e2e-1@acme.example>"
    assert invoice["metadata"]["mailbox_id"] == mailbox["id"]
    assert polled["last_error"] is None
    assert polled["last_polled"] is not None
    assert "\\Seen" in next(iter(imap_server.flags().values()))
