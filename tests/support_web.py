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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "formaction", "poster") and value:
                self.found.append(value)


def html_references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return [ref for ref in parser.found if not ref.startswith(NOT_FETCHED)]


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
