"""Screenshots of the review app for the README: docs/img/inbox.png, invoice.png (1280x800)
and inbox-phone.png, invoice-phone.png (390x844).

    python bench/ui_screenshots.py

Starts a private PostgreSQL and Redis, Invex's API and an extraction worker, uploads a
dozen synthetic invoices (training/synth, English, fixed seeds) through the API, approves
a few, signs a member in, and photographs the pages in Debian's headless Chromium
(Playwright; installed with apt-get when missing and root, as the browser tests do).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measurement import BenchServers, run_main  # noqa: E402
from tests.support import ServiceProcesses  # noqa: E402
from tests.support_web import PASSWORD, add_member, ensure_chromium  # noqa: E402

OUT = ROOT / "docs" / "img"
SEEDS = range(101, 113)


def upload_samples(service: ServiceProcesses, secret: str) -> list[str]:
    from training.synth import generate

    ids = []
    with service.client(secret) as http:
        for seed in SEEDS:
            invoice = generate(seed, language="en")
            answer = http.post(
                "/v1/invoices",
                files={"file": (f"invoice-{seed}.pdf", invoice.pdf)},
                data={"wait": "30"},
            )
            ids.append(answer.json()["id"])
        for invoice_id in ids[-4:]:  # the oldest few approved, as after a morning's review
            http.post(f"/v1/invoices/{invoice_id}/approve")
    return ids


def main() -> int:
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with BenchServers("invex-shots-") as servers:
        from common.accounts.service import create_api_key, create_org
        from common.migrations import apply_migrations

        apply_migrations(servers.database_url)
        org = create_org("Northwind Trading GmbH")
        secret = create_api_key(org.id).secret
        add_member(org.id, "rita@northwind.example", "admin")
        service = ServiceProcesses(servers.database_url, servers.redis_url)
        servers.stop_later(service.stop)
        service.start_api()
        service.start_worker()
        ids = upload_samples(service, secret)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{service.base_url}/signin")
            page.get_by_label("Email").fill("rita@northwind.example")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/inbox")
            page.screenshot(path=OUT / "inbox.png")
            page.goto(f"{service.base_url}/invoices/{ids[0]}")
            page.wait_for_load_state("networkidle")
            page.get_by_label("Total amount", exact=True).focus()  # its box on the page
            page.wait_for_load_state("networkidle")
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=OUT / "invoice.png")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{service.base_url}/inbox")
            phone.screenshot(path=OUT / "inbox-phone.png")
            phone.goto(f"{service.base_url}/invoices/{ids[0]}")
            phone.wait_for_load_state("networkidle")
            phone.screenshot(path=OUT / "invoice-phone.png")
            browser.close()
    for name in ("inbox.png", "invoice.png", "inbox-phone.png", "invoice-phone.png"):
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
