"""Arrival-to-succeeded time of a mailed invoice, at the default poll interval.

    python bench/mail_latency.py [--mails 20] [--interval 2]

Starts a private PostgreSQL and Redis (bench/measurement.py), the API, an extraction
worker, the `mail` worker and beat as the Procfile runs them (tests/support.py), and the
test IMAP server (dovecot, tests/imap_server.py); adds a mailbox through the API. Then,
one mail at a time, after a random pause (so arrivals fall anywhere in the poll cycle):
APPENDs a mail with a one-page text-PDF invoice and waits until its invoice is `succeeded`.

Prints, per mail and as median / p90 / max: arrival (the APPEND's answer) -> invoice
created (the poll took it) -> succeeded (extraction done; the invoice row's times).
The issue's goal: succeeded within 5 s of arrival at the default interval.
Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measurement import BenchServers, percentile, run_main  # noqa: E402
from tests.imap_server import MAIL_ENV, PrivateDovecot, make_mail  # noqa: E402
from tests.support import ServiceProcesses, make_text_pdf, wait_until  # noqa: E402


def invoice_times(message_id: str) -> tuple[datetime, datetime] | None:
    from common import db

    with db.connection() as conn:
        row = conn.execute(
            "select created_at, updated_at from invoices where status = 'succeeded'"
            " and metadata ->> 'email_message_id' = %(id)s",
            {"id": message_id},
        ).fetchone()
    return (row["created_at"], row["updated_at"]) if row else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=20)
    parser.add_argument("--interval", type=int, default=2, help="INVEX_MAIL_POLL_INTERVAL")
    args = parser.parse_args()
    os.environ.update({**MAIL_ENV, "INVEX_MAIL_POLL_INTERVAL": str(args.interval)})
    with BenchServers("invex-bench-mail-") as servers:
        token = servers.upload_token()
        service = ServiceProcesses(servers.database_url, servers.redis_url)
        servers.stop_later(service.stop)
        service.start()
        service.start_mail_worker()
        imap = PrivateDovecot()
        servers.stop_later(imap.stop)
        imap.start()
        with service.client(token) as http:
            created = http.post(
                "/v1/mailboxes",
                json={
                    "host": imap.host,
                    "port": imap.port,
                    "username": imap.user,
                    "password": imap.password,
                    "ca_certificate": imap.certificate,
                },
            )
            assert created.status_code == 201, created.text
        pdf = make_text_pdf()
        rows = []
        print(f"poll interval {args.interval} s; {args.mails} mails, one at a time")
        print(f"{'mail':>4}  {'arrival->taken':>14}  {'taken->succeeded':>16}  {'total':>6}")
        for n in range(args.mails):
            time.sleep(random.uniform(0, args.interval))
            message_id = f"<bench-{n}-{time.time_ns()}@acme.example>"
            mail = make_mail(attachments=[(f"INV-{n}.pdf", pdf)], message_id=message_id)
            imap.append(mail)
            arrived = datetime.now(UTC)
            created_at, succeeded_at = wait_until(
                lambda message_id=message_id: invoice_times(message_id),
                60,
                interval=0.02,
                message=f"mail {n} made no succeeded invoice",
            )
            taken = (created_at - arrived).total_seconds()
            extracted = (succeeded_at - created_at).total_seconds()
            rows.append((taken, extracted, taken + extracted))
            print(f"{n:>4}  {taken:>13.2f}s  {extracted:>15.2f}s  {taken + extracted:>5.2f}s")
        for index, name in enumerate(("arrival->taken", "taken->succeeded", "total")):
            values = [row[index] for row in rows]
            print(
                f"{name:>16}: median {statistics.median(values):.2f} s,"
                f" p90 {percentile(values, 90):.2f} s, max {max(values):.2f} s"
            )
        within = sum(1 for row in rows if row[2] <= 5.0)
        print(f"succeeded within 5 s of arrival: {within} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
