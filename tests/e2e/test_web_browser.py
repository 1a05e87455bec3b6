"""The review app in a real headless Chromium (Debian's, driven by Playwright) against the
real API and workers: sign in, find an invoice, correct a field, approve, see the history;
upload a file and watch it finish; a viewer who cannot approve; a form without its CSRF
token refused; an expired session sent to sign-in. Every request the browser makes goes
to the Invex server itself."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from common import db
from tests.e2e.test_extraction_flow import post_file
from tests.support import make_text_pdf, wait_until
from tests.support_web import PASSWORD, add_member, ensure_chromium

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = ensure_chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser, service) -> Iterator:
    """Pages of a fresh browser context at 1280x800, each recording the hosts it asked."""
    contexts = []
    hosts: set[str] = set()

    def new_page():
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        return page

    yield new_page
    for context in contexts:
        context.close()
    assert hosts <= {urlsplit(service.base_url).netloc}, hosts  # nothing from outside


@pytest.fixture
def uploaded(service, tenant) -> str:
    with service.client(tenant.secret) as http:
        response = post_file(http, make_text_pdf(), wait="20")
    assert response.json()["status"] == "succeeded", response.text
    return response.json()["id"]


def sign_in(page, service, email: str) -> None:
    page.goto(f"{service.base_url}/inbox")
    assert "/signin" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")


def test_a_member_finds_corrects_and_approves_an_invoice(open_page, service, tenant, uploaded):
    add_member(tenant.org.id, "rita@example.com", "member")
    page = open_page()
    sign_in(page, service, "rita@example.com")
    page.get_by_label("Vendor").fill("acme")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="ACME Supplies GmbH").first.click()
    page.wait_for_url(f"**/invoices/{uploaded}")
    # the first page's image, rendered by the server, loads
    image = page.locator(".document img").first
    wait_until(lambda: image.evaluate("img => img.naturalWidth") > 0, 15, message="no page image")

    total = page.get_by_label("Total amount", exact=True)
    total.focus()  # outlines where the total is printed on the page
    page.locator(".document .box[data-field=total_amount]").first.wait_for()
    total.fill("120.00")
    total.locator("xpath=..").get_by_role("button", name="Save").click()
    page.get_by_text("Total amount saved.").wait_for()
    assert page.get_by_label("Total amount", exact=True).input_value() == "120.00"

    # the text can show before the page's deferred script has run and listens for keys
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("a")  # the approve shortcut
    page.get_by_text("Now approved.").wait_for()
    history = page.locator("#history").inner_text()
    assert "total_amount" in history
    assert "12000" in history
    assert "received" in history
    assert "approved" in history


def test_an_uploaded_file_is_watched_until_it_finishes(open_page, service, tenant):
    add_member(tenant.org.id, "uma@example.com", "member")
    page = open_page()
    sign_in(page, service, "uma@example.com")
    page.get_by_role("link", name="Upload").click()
    page.locator("#upload-files").set_input_files(
        {"name": "dropped.pdf", "mimeType": "application/pdf", "buffer": make_text_pdf()}
    )
    finished = page.locator("#uploads li[data-status=succeeded]")
    finished.wait_for(timeout=30_000)
    assert "ACME Supplies GmbH" in finished.inner_text()
    finished.get_by_role("link").click()
    page.wait_for_url("**/invoices/inv_*")


def test_a_viewer_cannot_approve(open_page, service, tenant, uploaded):
    add_member(tenant.org.id, "vic@example.com", "viewer")
    page = open_page()
    sign_in(page, service, "vic@example.com")
    page.goto(f"{service.base_url}/invoices/{uploaded}")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_label("Total amount", exact=True).get_attribute("readonly") is not None
    # Sent anyway, with the session's own token: the role refuses it.
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: "POST", headers: {
               "X-CSRF-Token": document.getElementById("main").dataset.csrf}})).status""",
        f"/invoices/{uploaded}/move/approve",
    )
    assert status == 403


def test_a_form_without_its_csrf_token_is_refused(open_page, service, tenant, uploaded):
    add_member(tenant.org.id, "cid@example.com", "member")
    page = open_page()
    sign_in(page, service, "cid@example.com")
    page.goto(f"{service.base_url}/invoices/{uploaded}")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")
    page.get_by_role("button", name="Reject").click()
    assert page.get_by_text("security token is missing or stale").is_visible()


def test_an_expired_session_is_sent_to_sign_in(open_page, service, tenant):
    add_member(tenant.org.id, "eve@example.com", "member")
    page = open_page()
    sign_in(page, service, "eve@example.com")
    with db.transaction() as conn:
        conn.execute(
            "update web_sessions set last_seen_at = now() - interval '2 hours'"
            " where member_id = (select id from members where email = 'eve@example.com')"
        )
    page.goto(f"{service.base_url}/settings")
    assert "/signin" in page.url
    assert page.get_by_text("Your session has ended").is_visible()
    sign_in_again = page.get_by_label("Password")
    sign_in_again.fill(PASSWORD)
    page.get_by_label("Email").fill("eve@example.com")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/settings")  # back where it was


def test_the_api_reference_renders_offline(open_page, service):
    page = open_page()
    page.goto(f"{service.base_url}/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Invex" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/v1/invoices").first.wait_for()
