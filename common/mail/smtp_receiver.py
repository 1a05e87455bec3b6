"""`invex smtpd`: an SMTP receiver (aiosmtpd) that turns mail for an organisation's address
into invoices, for a mail server that forwards those addresses to it.

Each `--route ADDRESS=org_...` gives an organisation an address; mail to any other
recipient is refused at RCPT (550). It listens on loopback by default and does no TLS, no
authentication and no spam filtering: that is the job of the MTA in front of it (Postfix:
`transport_maps` sending the addresses to `smtp:[127.0.0.1]:2525`), which also keeps
retrying while Invex answers 4xx.

The answer to DATA comes after the invoices' transaction committed: 250 means stored. The
idempotency keys are the message's SHA-256, so the MTA retrying a mail whose 250 it never
heard makes no second invoice. A mail the reader refuses (hostile, malformed) is refused
for good (554) and logged; a mail with no invoice attachment is accepted and logged as
skipped, as a mailbox's is.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from common import db
from common.accounts.service import Principal
from common.config import get_settings
from common.errors import InvexError, MonthlyLimitReached, ServiceUnavailable
from common.mail.messages import HostileMail, read_mail
from common.mail.service import MESSAGE_SIZE_FACTOR, create_mail_invoices

log = logging.getLogger(__name__)


class BadRoute(ValueError):
    pass


def parse_route(value: str) -> tuple[str, str]:
    """`invoices@acme.example=org_...` -> (address lower-case, organisation ID)."""
    address, _, org_id = value.partition("=")
    address = address.strip().lower()
    if "@" not in address or not org_id.strip().startswith("org_"):
        raise BadRoute(f"--route wants ADDRESS=org_..., got {value!r}")
    return address, org_id.strip()


def max_message_bytes() -> int:
    return get_settings().max_upload_bytes * MESSAGE_SIZE_FACTOR


@dataclass
class InvoiceHandler:
    """aiosmtpd's handler: RCPT checks the address, DATA stores the invoices (in a thread
    of the loop's executor: the database calls block)."""

    routes: dict[str, Principal]  # address -> the organisation's principal

    async def handle_RCPT(  # aiosmtpd names its hooks so
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        if address.lower() not in self.routes:
            return "550 5.1.1 No invoice intake at this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        recipients = [address.lower() for address in envelope.rcpt_tos]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.deliver, raw, recipients)

    def deliver(self, raw: bytes, recipients: list[str]) -> str:
        """The SMTP answer to a mail for `recipients` (routed addresses)."""
        try:
            mail = read_mail(raw, max_attachment_bytes=get_settings().max_upload_bytes)
        except HostileMail as exc:
            log.warning("smtp: mail to %s refused: %s", ", ".join(recipients), exc)
            return f"554 5.6.0 Refused: {exc}"
        if not mail.attachments:
            reason = "; ".join(["no PDF, image or e-invoice XML attachment", *mail.ignored])
            log.info("smtp: mail to %s skipped: %s", ", ".join(recipients), reason)
            return "250 OK, nothing to take"
        digest = hashlib.sha256(raw).hexdigest()
        taken: list[str] = []
        problems: list[str] = []
        # one organisation once, however many of its addresses the mail names
        by_org = {self.routes[address].org_id: address for address in reversed(recipients)}
        try:
            with db.transaction() as conn:
                for address in by_org.values():
                    ids, left_out = create_mail_invoices(
                        self.routes[address],
                        mail,
                        metadata=mail.metadata({"email_to": address}),
                        idempotency_prefix=f"smtp:{digest}",
                        conn=conn,
                    )
                    taken += ids
                    problems += left_out
        except (ServiceUnavailable, MonthlyLimitReached) as exc:
            log.warning("smtp: mail to %s deferred: %s", ", ".join(recipients), exc.message)
            return "451 4.3.0 Cannot take invoices now; try again later"
        except InvexError as exc:
            log.warning("smtp: mail to %s refused: %s", ", ".join(recipients), exc.message)
            return f"554 5.6.0 Refused: {exc.code}"
        log.info(
            "smtp: mail to %s: invoices %s%s",
            ", ".join(recipients),
            ", ".join(taken) or "none",
            f" ({'; '.join(problems)})" if problems else "",
        )
        return f"250 OK, {len(taken)} invoice{'s' if len(taken) != 1 else ''}"
