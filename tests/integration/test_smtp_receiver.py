"""`invex smtpd`'s receiver (aiosmtpd, on loopback) against the real database, fed by a
real SMTP client (smtplib): mail for an organisation's address becomes its invoices, once
however often the sending server retries; other addresses and hostile mail are refused."""

from __future__ import annotations

import smtplib

import pytest
from aiosmtpd.controller import Controller

from common import db
from common.accounts.service import principal_for_org
from common.mail.smtp_receiver import BadRoute, InvoiceHandler, max_message_bytes, parse_route
from tests.imap_server import make_mail
from tests.support import free_port, make_text_pdf

ADDRESS = "invoices@acme.example"


@pytest.fixture
def receiver(tenant, other_tenant):
    routes = {
        ADDRESS: principal_for_org(tenant.org.id, livemode=True, acting_as="smtp"),
        "ap@other.example": principal_for_org(other_tenant.org.id, livemode=True, acting_as="smtp"),
    }
    controller = Controller(
        InvoiceHandler(routes),
        hostname="127.0.0.1",
        port=free_port(),
        data_size_limit=max_message_bytes(),
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def send(receiver, raw: bytes, to: list[str]) -> dict:
    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=30) as client:
        return client.sendmail("billing@supplier.example", to, raw)


def org_invoices(org_id: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute(
            "select id, file_name, source_channel, metadata from invoices"
            " where org_id = %(org)s order by id",
            {"org": org_id},
        ).fetchall()


def invoice_mail(number: str) -> bytes:
    pdf = make_text_pdf([f"Invoice number: {number}"])
    return make_mail(
        attachments=[(f"{number}.pdf", pdf)], message_id=f"<{number}@supplier.example>"
    )


def test_a_mail_to_an_organisations_address_becomes_its_invoice(receiver, tenant):
    assert send(receiver, invoice_mail("SMTP-1"), [ADDRESS]) == {}
    [invoice] = org_invoices(tenant.org.id)
    assert invoice["source_channel"] == "email"
    assert invoice["file_name"] == "SMTP-1.pdf"
    assert invoice["metadata"]["email_to"] == ADDRESS
    assert invoice["metadata"]["email_message_id"] == "<SMTP-1@supplier.example>"


def test_a_retried_mail_makes_no_second_invoice(receiver, tenant):
    mail = invoice_mail("SMTP-2")
    send(receiver, mail, [ADDRESS])
    send(receiver, mail, [ADDRESS])  # the sender never heard the first 250
    assert len(org_invoices(tenant.org.id)) == 1


def test_a_mail_to_two_organisations_makes_an_invoice_for_each(receiver, tenant, other_tenant):
    send(receiver, invoice_mail("SMTP-3"), [ADDRESS, "ap@other.example"])
    assert len(org_invoices(tenant.org.id)) == 1
    assert len(org_invoices(other_tenant.org.id)) == 1


def test_other_addresses_are_refused_at_rcpt(receiver, tenant):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(receiver, invoice_mail("SMTP-4"), ["someone@acme.example"])
    assert refused.value.recipients["someone@acme.example"][0] == 550
    assert org_invoices(tenant.org.id) == []


def test_hostile_mail_is_refused_for_good_and_the_next_mail_is_taken(receiver, tenant):
    nested = b"Content-Type: text/plain\r\n\r\nx\r\n"
    for depth in range(40):
        b = f"b{depth}".encode()
        nested = (
            b"Content-Type: multipart/mixed; boundary="
            + b
            + b"\r\n\r\n--"
            + b
            + b"\r\n"
            + nested
            + b"\r\n--"
            + b
            + b"--\r\n"
        )
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(receiver, b"From: x@evil.example\r\nSubject: nested\r\n" + nested, [ADDRESS])
    assert refused.value.smtp_code == 554
    assert b"nested deeper" in refused.value.smtp_error
    send(receiver, invoice_mail("SMTP-5"), [ADDRESS])
    assert len(org_invoices(tenant.org.id)) == 1


def test_a_mail_without_an_invoice_is_accepted_and_skipped(receiver, tenant):
    assert send(receiver, make_mail(), [ADDRESS]) == {}
    assert org_invoices(tenant.org.id) == []


@pytest.fixture
def small_upload_limit(monkeypatch):
    """A 100 kB upload limit for the receiver made after it: over the standard 20 MB's, a
    mail is 60 MB, which took seconds of CPU to encode and send."""
    from common.config import get_settings

    monkeypatch.setenv("INVEX_MAX_UPLOAD_BYTES", "100000")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_mail_over_the_size_limit_is_refused(small_upload_limit, receiver, tenant):
    big = make_mail(attachments=[("big.pdf", b"%PDF-1.4\n" + b"0" * (max_message_bytes() + 10))])
    with pytest.raises(smtplib.SMTPException):
        send(receiver, big, [ADDRESS])
    assert org_invoices(tenant.org.id) == []


@pytest.mark.parametrize("value", ["invoices@acme.example", "nobody=org_1", "a@b.example=key_1"])
def test_a_malformed_route_is_refused(value):
    with pytest.raises(BadRoute):
        parse_route(value)
