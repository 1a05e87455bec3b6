"""Reading a mail for its invoices: the headers the invoice names, the attachments taken,
and the limits that turn hostile mail into HostileMail with a reason."""

from __future__ import annotations

import pytest

from common.mail.messages import (
    MAX_ATTACHMENTS,
    MAX_PARTS,
    HostileMail,
    read_mail,
    sender_allowed,
)
from tests.imap_server import make_mail

PDF = b"%PDF-1.4\n%fake but sniffed as a PDF\n"


def test_the_mail_names_its_headers_and_keeps_only_invoice_attachments():
    raw = make_mail(
        subject="Invoice 7",
        attachments=[("a.pdf", PDF), ("notes.txt", b"hello"), ("scan.png", b"\x89PNG\r\n\x1a\n..")],
        message_id="<m1@acme.example>",
    )
    mail = read_mail(raw, max_attachment_bytes=10_000)
    assert [(a.file_name, a.content_type) for a in mail.attachments] == [
        ("a.pdf", "application/pdf"),
        ("scan.png", "image/png"),
    ]
    assert mail.ignored == ["notes.txt: not a PDF, image or e-invoice XML"]
    assert mail.sender == "billing@acme.example"
    metadata = mail.metadata({"mailbox_id": "mbx_1"})
    assert metadata["email_message_id"] == "<m1@acme.example>"
    assert metadata["email_subject"] == "Invoice 7"
    assert metadata["mailbox_id"] == "mbx_1"


def test_an_attachment_over_the_upload_limit_is_left_out_with_why():
    mail = read_mail(make_mail(attachments=[("big.pdf", PDF * 100)]), max_attachment_bytes=1000)
    assert mail.attachments == []
    assert mail.ignored == ["big.pdf: larger than 1000 bytes"]


def test_long_headers_are_cut_to_what_metadata_holds():
    mail = read_mail(make_mail(subject="x" * 2000), max_attachment_bytes=1000)
    assert len(mail.metadata({"mailbox_id": "mbx_1"})["email_subject"]) == 500


def test_too_many_invoice_attachments_is_hostile():
    raw = make_mail(attachments=[(f"{n}.pdf", PDF) for n in range(MAX_ATTACHMENTS + 1)])
    with pytest.raises(HostileMail, match="more than 20 invoice attachments"):
        read_mail(raw, max_attachment_bytes=10_000)


def test_too_many_parts_is_hostile():
    raw = make_mail(attachments=[(f"{n}.txt", b"x") for n in range(MAX_PARTS + 1)])
    with pytest.raises(HostileMail, match="more than 200 MIME parts"):
        read_mail(raw, max_attachment_bytes=10_000)


def test_deep_nesting_is_hostile():
    nested = b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for depth in range(30):
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
    with pytest.raises(HostileMail, match="nested deeper than 10"):
        read_mail(b"From: a@b.example\r\n" + nested, max_attachment_bytes=10_000)


def test_a_mail_without_headers_or_body_reads_as_empty():
    mail = read_mail(b"", max_attachment_bytes=10_000)
    assert (mail.message_id, mail.sender, mail.attachments) == (None, "", [])


@pytest.mark.parametrize(
    ("sender", "allowed", "expected"),
    [
        ("a@x.example", [], True),
        ("a@x.example", ["a@x.example"], True),
        ("b@x.example", ["a@x.example"], False),
        ("b@x.example", ["@x.example"], True),
        ("b@billing.x.example", ["x.example"], True),
        ("b@evilx.example", ["x.example"], False),
        ("", ["x.example"], False),
    ],
)
def test_the_sender_allow_list(sender, allowed, expected):
    assert sender_allowed(sender, allowed) is expected


def test_control_characters_never_reach_the_metadata_or_the_file_name():
    raw = (
        b"From: a@b.example\r\nSubject: =?utf-8?b?SW52AG9pY2UJNw==?=\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''a%00b%0A.pdf\r\n\r\n"
        + PDF
        + b"\r\n--x--\r\n"
    )
    mail = read_mail(raw, max_attachment_bytes=10_000)
    assert mail.subject == "Invoice 7"
    assert [a.file_name for a in mail.attachments] == ["ab .pdf"]
