"""Every page of the web app, and /docs, loads only what Invex serves: no CDN, no font
host, nothing outside (the product runs offline)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from tests.support_web import css_references, html_references, outside_references

BASE = "http://localhost/"


def _fetch_all(client, path: str) -> dict[str, tuple[str, str]]:
    """The page and every file that loads with it, transitively: {url: (type, text)}; no
    reference of any of them (links and forms included) leaves this host."""
    seen: dict[str, tuple[str, str]] = {}
    pending = [urljoin(BASE, path)]
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        parts = urlsplit(url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert response.status_code == 200, (url, response.status_code)
        text = (
            response.get_data(as_text=True)
            if response.mimetype.startswith(("text/", "application/javascript"))
            else ""
        )
        seen[url] = (response.mimetype, text)
        if response.mimetype == "text/html":
            assert outside_references(url, html_references(text)) == [], url
            references = html_references(text, assets_only=True)
        elif response.mimetype == "text/css":
            references = css_references(text)
        else:
            references = []
        assert outside_references(url, references) == [], url
        pending.extend(urljoin(url, ref) for ref in references)
    return seen


def test_docs_page_and_its_assets_are_all_served_here(client):
    files = _fetch_all(client, "/docs")
    types = sorted(mimetype for mimetype, _ in files.values())
    assert "text/css" in types
    assert types.count("text/javascript") >= 3  # the bundle, its preset, and the starter


def test_docs_assets_outside_the_bundle_list_are_not_served(client):
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404


def test_outside_references_are_found():
    page = (
        '<link href="https://cdn.example/x.css"><script src="//cdn.example/a.js"></script>'
        '<a href="/v1/ping">ok</a><img src="data:image/png;base64,AA">'
    )
    refs = html_references(page)
    assert outside_references(BASE, refs) == ["https://cdn.example/x.css", "//cdn.example/a.js"]
    css = "a{background:url('http://fonts.example/f.woff')} b{background:url(data:x)}"
    assert outside_references(BASE, css_references(css)) == ["http://fonts.example/f.woff"]


def test_the_apps_pages_load_nothing_from_outside(client, tenant):
    import io

    from tests.support import extract_now, make_text_pdf
    from tests.support_web import add_member, sign_in

    _fetch_all(client, "/signin")
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "invoice.pdf")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    add_member(tenant.org.id, "offline@example.com", "owner")
    sign_in(client, "offline@example.com")
    for path in ("/inbox", f"/invoices/{created['id']}", "/upload", "/settings"):
        files = _fetch_all(client, path)
        assert any(url.endswith("/assets/app.css") for url in files), path
