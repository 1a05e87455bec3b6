"""Each statement format read into the same transactions, from documents built by the
formats' specifications; broken and hostile inputs refused with the line or element named."""

from __future__ import annotations

import re
from datetime import date

import pytest

from common.bank.statements.csv_statement import parse_csv_statement
from common.bank.statements.formats import parse_statement, sniff_statement
from common.bank.statements.model import UnprocessableStatement
from tests.unit.bank.documents import Payment, camt053, mt940, ofx

PAYMENTS = [
    Payment(-11900, remittance="Rechnung INV-1001", end_to_end="E2E-1"),
    Payment(25000, name="Customer AG", iban="FR1420041010050500013M02606", remittance="Thanks"),
]


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        (camt053(PAYMENTS), "camt.053"),
        (mt940(PAYMENTS), "mt940"),
        (mt940(PAYMENTS, dialect="sepa"), "mt940"),
        (ofx(PAYMENTS), "ofx"),
        (ofx(PAYMENTS, form="xml"), "ofx"),
    ],
    ids=["camt053", "mt940-german", "mt940-sepa", "ofx-sgml", "ofx-xml"],
)
def test_every_format_reads_amounts_dates_and_remittance(document, kind):
    statement = parse_statement(document)
    assert statement.format == kind
    debit, credit = statement.transactions
    assert (debit.amount, debit.currency, debit.booking_date) == (-11900, "EUR", date(2026, 3, 20))
    assert debit.remittance_text == "Rechnung INV-1001"
    assert debit.counterparty_name == "ACME Supplies GmbH"
    assert credit.amount == 25000
    assert debit.bank_reference
    assert debit.bank_reference != credit.bank_reference


def test_camt053_reads_account_balances_party_iban_and_creditor_reference():
    statement = parse_statement(
        camt053([Payment(-500, structured="RF18539007547034", end_to_end="E2E-9")])
    )
    assert statement.account_iban == "DE02120300000000202051"
    assert (statement.opening_balance, statement.closing_balance) == (1_000_000, 999_500)
    [tx] = statement.transactions
    assert tx.counterparty_iban == "DE89370400440532013000"
    assert tx.structured_reference == "RF18539007547034"
    assert tx.end_to_end_id == "E2E-9"


def test_camt052_and_camt054_are_read_too():
    document = camt053(PAYMENTS)
    report = document.replace(b"BkToCstmrStmt", b"BkToCstmrAcctRpt").replace(b"Stmt>", b"Rpt>")
    assert parse_statement(report.replace(b"camt.053", b"camt.052")).format == "camt.052"
    notice = document.replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn")
    notice = notice.replace(b"<Stmt>", b"<Ntfctn>").replace(b"</Stmt>", b"</Ntfctn>")
    assert len(parse_statement(notice.replace(b"camt.053", b"camt.054")).transactions) == 2


def test_a_camt_entry_without_amount_is_named_with_its_line():
    broken = camt053(PAYMENTS).replace(b'<Amt Ccy="EUR">119.00</Amt>\n', b"", 1)
    with pytest.raises(UnprocessableStatement, match=r"element Ntry \(line \d+\): no Amt"):
        parse_statement(broken)


@pytest.mark.parametrize(
    "hostile",
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            b"<BkToCstmrStmt><Stmt><Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>"
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://attacker.example/camt.053.dtd">'
            b"<Document><BkToCstmrStmt/></Document>"
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE OFX [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<?OFX OFXHEADER="200"?><OFX><STMTRS><CURDEF>&x;</CURDEF></STMTRS></OFX>'
        ),
    ],
    ids=["billion-laughs", "external-dtd", "ofx-xxe"],
)
def test_hostile_xml_is_refused(hostile):
    with pytest.raises(UnprocessableStatement, match="DOCTYPE"):
        parse_statement(hostile)


def test_mt940_booking_line_that_does_not_parse_is_named_by_line():
    broken = mt940(PAYMENTS).replace(b":61:260320", b":61:26XX20", 1)
    with pytest.raises(UnprocessableStatement, match=r"Line 5: :61:"):
        parse_statement(broken)


def test_a_pdf_is_no_statement():
    with pytest.raises(UnprocessableStatement):
        sniff_statement(b"%PDF-1.7 ...")


def test_csv_preset_sparkasse_in_cp1252_with_decimal_comma():
    data = (
        '"Auftragskonto";"Buchungstag";"Valutadatum";"Buchungstext";"Verwendungszweck";'
        '"Beguenstigter/Zahlungspflichtiger";"Kontonummer/IBAN";"BIC (SWIFT-Code)";"Betrag";'
        '"Waehrung"\n'
        '"DE02120300000000202051";"20.03.26";"20.03.26";"GUTSCHRIFT";"RE 4711 Müller";'
        '"Müller Bau GmbH";"DE89370400440532013000";"COBADEFFXXX";"-1.234,56";"EUR"\n'
    ).encode("cp1252")
    [tx] = parse_csv_statement(data, {"preset": "sparkasse"}).transactions
    assert (tx.amount, tx.booking_date) == (-123456, date(2026, 3, 20))
    assert tx.counterparty_name == "Müller Bau GmbH"
    assert tx.counterparty_iban == "DE89370400440532013000"


def test_csv_columns_are_found_by_their_names_with_a_preamble_and_month_first_dates():
    data = (
        b"Account statement,Checking 1234\n\n"
        b"Posting Date,Description,Amount,Currency\n"
        b"03/20/2026,INV-1001 ACME,-119.00,USD\n"
        b'03/21/2026,Refund,"1,250.00",USD\n'
    )
    statement = parse_csv_statement(data)
    assert [t.amount for t in statement.transactions] == [-11900, 125000]
    assert statement.transactions[0].booking_date == date(2026, 3, 20)
    assert statement.currency == "USD"


def test_csv_debit_and_credit_columns_and_a_direction_column():
    split = b"Date;Debit;Credit;Name\n2026-03-20;119,00;;ACME\n2026-03-21;;50,00;Customer\n"
    assert [t.amount for t in parse_csv_statement(split).transactions] == [-11900, 5000]
    ing = (
        b'"Datum","Naam / Omschrijving","Rekening","Tegenrekening","Code","Af Bij",'
        b'"Bedrag (EUR)","Mutatiesoort","Mededelingen"\n'
        b'"20260320","ACME BV","NL91ABNA0417164300","NL20INGB0001234567","GT","Af","119,00",'
        b'"Online bankieren","Factuur 1001"\n'
    )
    [tx] = parse_csv_statement(ing, {"preset": "ing_nl"}).transactions
    assert (tx.amount, tx.remittance_text) == (-11900, "Factuur 1001")


def test_a_csv_cell_that_is_no_number_is_named_by_line():
    with pytest.raises(UnprocessableStatement, match="Line 3: amount 'n/a'"):
        parse_csv_statement(b"Date,Amount\n2026-03-20,1.00\n2026-03-21,n/a\n")


def test_equal_transactions_in_one_statement_stay_two_and_a_repeat_is_the_same_key():
    data = b"Date,Amount,Description\n2026-03-20,-4.50,Card\n2026-03-20,-4.50,Card\n"
    keys = parse_csv_statement(data).dedup_keys()
    assert len(set(keys)) == 2
    assert keys == parse_csv_statement(data).dedup_keys()


def test_a_counterparty_iban_with_wrong_check_digits_is_dropped():
    statement = parse_statement(camt053([Payment(-500, iban="DE88370400440532013000")]))
    assert statement.transactions[0].counterparty_iban is None


def test_an_account_number_that_is_no_iban_is_kept():
    assert parse_statement(ofx(PAYMENTS)).account_iban == "123456789"


def test_an_ofx_amount_that_is_no_number_is_named_with_its_element_and_line():
    broken = ofx(PAYMENTS).replace(b"<TRNAMT>-119.00", b"<TRNAMT>n/a")
    message = r"Element STMTTRN \(line 26\): TRNAMT 'n/a' is not a number"
    with pytest.raises(UnprocessableStatement, match=message):
        parse_statement(broken)


def test_an_ofx_date_against_the_specification_is_named():
    broken = ofx(PAYMENTS).replace(b"<DTPOSTED>20260320", b"<DTPOSTED>2026XX20", 1)
    message = r"Element STMTTRN \(line 26\): DTPOSTED '2026XX20.*' is not an OFX date"
    with pytest.raises(UnprocessableStatement, match=message):
        parse_statement(broken)


def test_an_ofx_booking_at_midnight_with_a_time_zone_keeps_its_day():
    local = ofx(PAYMENTS).replace(b"120000[0:GMT]", b"000000[+2:CEST]")
    assert parse_statement(local).transactions[0].booking_date == date(2026, 3, 20)


def test_mt940_german_subfields_give_counterparty_iban_apart_from_its_name():
    debit, _ = parse_statement(mt940(PAYMENTS)).transactions
    assert (debit.counterparty_name, debit.counterparty_iban) == (
        "ACME Supplies GmbH",
        "DE89370400440532013000",
    )
    assert debit.end_to_end_id == "E2E-1"


def test_mt940_statement_reference_balances_and_period():
    statement = parse_statement(mt940(PAYMENTS))
    assert statement.statement_reference == "STARTUMS/00003/001"
    assert (statement.opening_balance, statement.closing_balance) == (1_000_000, 1_013_100)
    assert statement.period_start == statement.period_end == date(2026, 3, 20)


def test_csv_purpose_column_is_the_remittance_even_after_a_booking_text_column():
    data = (
        b"Buchungstag;Buchungstext;Verwendungszweck;Betrag\n"
        b"20.03.26;LASTSCHRIFT;RE INV-1001;-119,00\n"
    )
    [tx] = parse_csv_statement(data).transactions
    assert tx.remittance_text == "RE INV-1001"


def test_ofx_cdata_that_never_closes_is_refused_at_once():
    hostile = ofx(PAYMENTS).replace(b"<STMTRS>", b"<STMTRS><MEMO><![CDATA[x" * 20_000, 1)
    with pytest.raises(UnprocessableStatement, match=r"Line \d+: a CDATA section is not closed"):
        parse_statement(hostile)


def test_ofx_memo_in_cdata_is_read():
    memo = ofx(PAYMENTS, form="xml").replace(
        b"<MEMO>Rechnung INV-1001</MEMO>", b"<MEMO><![CDATA[Rechnung INV-1001]]></MEMO>"
    )
    assert parse_statement(memo).transactions[0].remittance_text == "Rechnung INV-1001"


def test_mt940_amount_of_commas_only_is_named_by_line():
    broken = mt940(PAYMENTS).replace(b"C250,00NTRF", b"C,,,NTRF", 1)
    with pytest.raises(UnprocessableStatement, match=r"Line 8: the amount is not a number"):
        parse_statement(broken)


def test_ofx_without_its_header_is_read():
    document = ofx(PAYMENTS)
    body = document[document.find(b"<OFX>") :]
    assert len(parse_statement(body).transactions) == 2


@pytest.mark.parametrize(
    "lenient",
    [
        (rb"<MEMO>Rechnung INV-1001", b"<MEMO>Rechnung INV-1001 " + b"m" * 300),
        (rb"<TRNTYPE>DEBIT", b"<TRNTYPE>WIRE_OUT"),
        (rb"<LEDGERBAL>.*</LEDGERBAL>", b""),
        (rb"<SIGNONMSGSRSV1>.*</SIGNONMSGSRSV1>", b""),
    ],
    ids=["long-memo", "unlisted-trntype", "no-ledgerbal", "no-signon"],
)
def test_ofx_what_the_service_does_not_read_may_stray_from_the_specification(lenient):
    pattern, replacement = lenient
    document = re.sub(pattern, replacement, ofx(PAYMENTS), count=1, flags=re.DOTALL)
    assert [t.amount for t in parse_statement(document).transactions] == [-11900, 25000]
