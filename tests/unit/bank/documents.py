"""Statement documents built by the formats' specifications, for the parser tests, the
reconciliation tests and bench/reconcile_speed.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

CAMT053_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
CAMT053_V02_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


@dataclass(frozen=True)
class Payment:
    """One booking as a test writes it: amount in minor units, negative for a debit."""

    amount: int
    booking_date: date = date(2026, 3, 20)
    name: str | None = "ACME Supplies GmbH"
    iban: str | None = "DE89370400440532013000"
    remittance: str | None = "INV-1001"
    structured: str | None = None
    end_to_end: str | None = None
    reference: str | None = None
    currency: str = "EUR"


def _amount(minor: int, currency: str = "EUR") -> str:
    value = abs(minor)
    return f"{value // 100}.{value % 100:02d}"


def camt053(
    payments: list[Payment],
    *,
    account: str = "DE02120300000000202051",
    statement_id: str = "STMT-2026-03",
    opening: int = 1_000_000,
    namespace: str = CAMT053_NS,
) -> bytes:
    """A camt.053 BkToCstmrStmt with one Stmt, one Ntry per payment: version .08 by
    default, .02 (the one most banks still send) with `namespace=CAMT053_V02_NS`, whose
    entry status is a bare code and whose transaction amount sits in AmtDtls."""
    v02 = namespace == CAMT053_V02_NS
    closing = opening + sum(p.amount for p in payments)
    entries = []
    for index, p in enumerate(payments, start=1):
        debit = p.amount < 0
        side = "Cdtr" if debit else "Dbtr"
        party = ""
        if p.name or p.iban:
            party = "<RltdPties>"
            if p.name:
                name = f"<Nm>{escape(p.name)}</Nm>"
                name = name if v02 else f"<Pty>{name}</Pty>"
                party += f"<{side}>{name}</{side}>"
            if p.iban:
                party += f"<{side}Acct><Id><IBAN>{p.iban}</IBAN></Id></{side}Acct>"
            party += "</RltdPties>"
        remittance = ""
        if p.remittance or p.structured:
            remittance = "<RmtInf>"
            if p.remittance:
                remittance += f"<Ustrd>{escape(p.remittance)}</Ustrd>"
            if p.structured:
                remittance += (
                    "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                    f"<Ref>{p.structured}</Ref></CdtrRefInf></Strd>"
                )
            remittance += "</RmtInf>"
        reference = p.reference or f"BANKREF{index:06d}"
        status = "<Sts>BOOK</Sts>" if v02 else "<Sts><Cd>BOOK</Cd></Sts>"
        amount = f'<Amt Ccy="{p.currency}">{_amount(p.amount)}</Amt>'
        tx_amount = (
            f"<AmtDtls><TxAmt>{amount}</TxAmt></AmtDtls>"
            if v02
            else f"{amount}<CdtDbtInd>{'DBIT' if debit else 'CRDT'}</CdtDbtInd>"
        )
        entries.append(
            f"""<Ntry>
      <NtryRef>{index}</NtryRef>
      {amount}
      <CdtDbtInd>{"DBIT" if debit else "CRDT"}</CdtDbtInd>
      {status}
      <BookgDt><Dt>{p.booking_date.isoformat()}</Dt></BookgDt>
      <ValDt><Dt>{p.booking_date.isoformat()}</Dt></ValDt>
      <AcctSvcrRef>{reference}</AcctSvcrRef>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>{p.end_to_end or "NOTPROVIDED"}</EndToEndId></Refs>
        {tx_amount}
        {party}
        {remittance}
      </TxDtls></NtryDtls>
    </Ntry>"""
        )
    first = min((p.booking_date for p in payments), default=date(2026, 3, 1))
    last = max((p.booking_date for p in payments), default=date(2026, 3, 31))

    def balance(code: str, amount: int, when: date) -> str:
        return (
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">'
            f"{_amount(amount)}</Amt><CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd>"
            f"<Dt><Dt>{when.isoformat()}</Dt></Dt></Bal>"
        )

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{namespace}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>2026-04-01T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <ElctrncSeqNb>3</ElctrncSeqNb>
      <CreDtTm>2026-04-01T06:00:00</CreDtTm>
      <FrToDt><FrDtTm>{first.isoformat()}T00:00:00</FrDtTm><ToDtTm>{last.isoformat()}T23:59:59</ToDtTm></FrToDt>
      <Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {balance("OPBD", opening, first)}
      {balance("CLBD", closing, last)}
      {"".join(entries)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def mt940(
    payments: list[Payment],
    *,
    account: str = "DE02120300000000202051",
    dialect: str = "german",
    opening: int = 1_000_000,
) -> bytes:
    """An MT940 statement; :86: in German ?-subfields or SEPA /TAG/ form."""
    closing = opening + sum(p.amount for p in payments)

    def amount(minor: int) -> str:
        return _amount(minor).replace(".", ",")

    def yymmdd(day: date) -> str:
        return day.strftime("%y%m%d")

    first = min((p.booking_date for p in payments), default=date(2026, 3, 1))
    last = max((p.booking_date for p in payments), default=date(2026, 3, 31))
    lines = [
        ":20:STARTUMS",
        f":25:{account}",
        ":28C:00003/001",
        f":60F:{'C' if opening >= 0 else 'D'}{yymmdd(first)}EUR{amount(opening)}",
    ]
    for index, p in enumerate(payments, start=1):
        mark = "D" if p.amount < 0 else "C"
        reference = p.reference or f"BR{index:08d}"
        lines.append(
            f":61:{yymmdd(p.booking_date)}{p.booking_date.strftime('%m%d')}{mark}"
            f"{amount(p.amount)}NTRF{p.end_to_end or 'NONREF'}//{reference}"
        )
        if dialect == "german":
            purpose = f"EREF+{p.end_to_end}SVWZ+" if p.end_to_end else "SVWZ+"
            purpose += p.remittance or ""
            chunks = [purpose[i : i + 27] for i in range(0, len(purpose), 27)] or [""]
            field = "166?00SEPA-UEBERWEISUNG?100001"
            field += "".join(f"?{20 + i}{chunk}" for i, chunk in enumerate(chunks[:10]))
            field += f"?30COBADEFFXXX?31{p.iban or ''}?32{(p.name or '')[:27]}"
            lines.append(f":86:{field[:65]}")
            rest = field[65:]
            while rest:
                lines.append(rest[:65])
                rest = rest[65:]
        else:
            field = f"/EREF/{p.end_to_end or 'NOTPROVIDED'}"
            field += f"/BENM//NAME/{p.name or ''}/IBAN/{p.iban or ''}/REMI/{p.remittance or ''}"
            lines.append(f":86:{field}")
    lines.append(f":62F:{'C' if closing >= 0 else 'D'}{yymmdd(last)}EUR{amount(closing)}")
    return ("\r\n".join(lines) + "\r\n-").encode()


def ofx(payments: list[Payment], *, form: str = "sgml", account: str = "123456789") -> bytes:
    """An OFX bank statement: OFX 1.02 SGML (leaves unclosed) or OFX 2.2 XML."""
    close = form == "xml"

    def leaf(name: str, value: str) -> str:
        return f"<{name}>{escape(value)}</{name}>" if close else f"<{name}>{escape(value)}"

    first = min((p.booking_date for p in payments), default=date(2026, 3, 1))
    last = max((p.booking_date for p in payments), default=date(2026, 3, 31))
    transactions = []
    for index, p in enumerate(payments, start=1):
        sign = "-" if p.amount < 0 else ""
        parts = [
            leaf("TRNTYPE", "DEBIT" if p.amount < 0 else "CREDIT"),
            leaf("DTPOSTED", p.booking_date.strftime("%Y%m%d") + "120000[0:GMT]"),
            leaf("TRNAMT", sign + _amount(p.amount)),
            leaf("FITID", p.reference or f"FIT{index:06d}"),
        ]
        if p.name:
            parts.append(leaf("NAME", p.name[:32]))
        if p.remittance:
            parts.append(leaf("MEMO", p.remittance))
        transactions.append("<STMTTRN>" + "".join(parts) + "</STMTTRN>")
    body = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS>"
        + leaf("CODE", "0")
        + leaf("SEVERITY", "INFO")
        + "</STATUS>"
        + leaf("DTSERVER", "20260401")
        + leaf("LANGUAGE", "ENG")
        + "</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS>"
        + leaf("TRNUID", "1")
        + "<STATUS>"
        + leaf("CODE", "0")
        + leaf("SEVERITY", "INFO")
        + "</STATUS><STMTRS>"
        + leaf("CURDEF", "EUR")
        + "<BANKACCTFROM>"
        + leaf("BANKID", "12030000")
        + leaf("ACCTID", account)
        + leaf("ACCTTYPE", "CHECKING")
        + "</BANKACCTFROM><BANKTRANLIST>"
        + leaf("DTSTART", first.strftime("%Y%m%d"))
        + leaf("DTEND", last.strftime("%Y%m%d"))
        + "".join(transactions)
        + "</BANKTRANLIST><LEDGERBAL>"
        + leaf("BALAMT", "1000.00")
        + leaf("DTASOF", last.strftime("%Y%m%d"))
        + "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    if form == "xml":
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
            'NEWFILEUID="NONE"?>\n' + body
        ).encode()
    header = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
        "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
    )
    return (header + body.replace("><", ">\n<")).encode("cp1252")
