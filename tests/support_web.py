"""What the web app's tests share: reading a page's references to other files and hosts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""")
# What a stylesheet may name that is no request: inline data and the SVG namespace.
NOT_FETCHED = ("data:", "#")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.assets: list[str] = []  # what the browser loads with the page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "formaction", "poster") and value:
                self.found.append(value)
                if name == "src" or (tag == "link" and name == "href"):
                    self.assets.append(value)


def html_references(html: str, *, assets_only: bool = False) -> list[str]:
    """Every URL the page names (links and forms too), or only what loads with it."""
    parser = _References()
    parser.feed(html)
    found = parser.assets if assets_only else parser.found
    return [ref for ref in found if not ref.startswith(NOT_FETCHED)]


def css_references(css: str) -> list[str]:
    return [ref for ref in CSS_URL.findall(css) if not ref.startswith(NOT_FETCHED)]


def outside_references(base_url: str, references: list[str]) -> list[str]:
    """The references that resolve to another host than `base_url`'s (or another scheme,
    such as a protocol-relative `//cdn...`)."""
    base = urlsplit(base_url)
    outside = []
    for ref in references:
        target = urlsplit(urljoin(base_url, ref))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            outside.append(ref)
    return outside


PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_member(org_id: str, email: str, role: str = "member", password: str = PASSWORD) -> str:
    """An active member of the organisation with a web password; returns its ID."""
    from common import db
    from common.ids import new_id
    from common.members import repository
    from common.sessions.service import set_password

    with db.transaction() as conn:
        member = repository.insert_member(
            conn,
            member_id=new_id("mem"),
            org_id=org_id,
            email=email,
            name=email.split("@", maxsplit=1)[0].title(),
            role=role,
            invited_by_key_id=None,
        )
        assert member is not None
        repository.set_member_status(conn, member.id, "active")
    return set_password(org_id, email, password)


def csrf_token_in(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD, **extra: str):
    """Sign the Flask test client in through the form; returns the POST's response."""
    page = client.get("/signin").get_data(as_text=True)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_token_in(page), **extra},
    )


CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> str:
    """Debian's chromium for the browser tests, installed with apt-get when missing and we
    are root (as common.embedded.ensure_binaries_installed does for the servers); nothing
    downloads a browser of its own. Returns its path, or skips the test saying why not."""
    import os

    import pytest

    from common.embedded import CannotInstall, apt_install

    if os.path.exists(CHROMIUM):
        return CHROMIUM
    try:
        apt_install("chromium", recommends=False)  # a failed install fails the test, loudly
    except CannotInstall as why:
        pytest.skip(str(why))
    return CHROMIUM
