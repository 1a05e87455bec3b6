"""Keep webhook deliveries out of the operator's own network.

A webhook URL is user input, so it is checked twice:

- `check_webhook_url` when an endpoint is created or changed: shape, scheme, no credentials,
  and a literal IP address (in any notation the resolver accepts) must be public.
- `pinned_post` when a delivery is sent: the host is resolved once by
  `resolve_public_address`, every address it resolves to must be public, and the connection
  goes to that checked address. The hostname is kept for the `Host` header, TLS SNI and
  certificate verification, so a DNS answer that changes between the check and the connect
  (rebinding) cannot redirect the delivery. Redirects are never followed.

`allow_private=True` (the operator's INVEX_WEBHOOK_ALLOW_PRIVATE, or `invex up --dev`) lets
loopback and private addresses through, for tests and local development; the shape checks
still apply, and link-local and cloud metadata addresses (and names) stay refused: a delivery
there would post the instance's credentials endpoint, and no receiver lives there.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
HOSTNAME_CHARACTERS = re.compile(r"[a-z0-9_.-]+")  # after IDNA encoding and lowercasing

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that `ipaddress` does not flag (or flags only through `is_global`), named so the
# refusal says why.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # embeds an IPv4 in the low 32 bits
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
# Cloud metadata services outside the link-local ranges: AWS over IPv6, Alibaba Cloud, Azure's
# WireServer (a public address every Azure VM reaches), Oracle Cloud Classic. Refused always.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
# Names of metadata services (refused always, also at send time: a name may be answered by
# a resolver we do not control) and of this machine (refused unless private is allowed).
METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
LOCAL_HOSTNAMES = frozenset({"localhost"})
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated "::a.b.c.d"


class UnsafeWebhookUrl(ValueError):
    """The URL is malformed or points (or resolves) somewhere deliveries must not go."""


def check_webhook_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """Validate a webhook URL at creation and return it normalised.

    Normalised: lowercase scheme, lowercase ASCII (IDNA) host, default port dropped, an empty
    path made `/`, fragment dropped. A hostname is not resolved here; that happens at each send.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if not url.isprintable() or any(character.isspace() for character in url):
        raise UnsafeWebhookUrl("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"the URL does not parse: {exc}") from exc
    scheme = parts.scheme.lower()
    allowed_schemes = {"https", "http"} if allow_http else {"https"}
    if scheme not in allowed_schemes:
        raise UnsafeWebhookUrl(f"the scheme must be {' or '.join(sorted(allowed_schemes))}")
    if "@" in parts.netloc:
        raise UnsafeWebhookUrl("the URL must not contain a user name or password")
    if not parts.hostname:
        raise UnsafeWebhookUrl("the URL has no host")
    host = _ascii_host(parts.hostname)

    address = _literal_address(host)
    if address is None and not HOSTNAME_CHARACTERS.fullmatch(host):
        # Also refuses IPv6 zone identifiers ("[fe80::1%25eth0]").
        raise UnsafeWebhookUrl(f"the host {host!r} is neither a hostname nor an IP address")
    if address is not None:
        host = str(address)  # one spelling per address: "127.1" and "2130706433" both refused
        reason = refusal_reason(address, allow_private=allow_private)
        if reason:
            raise UnsafeWebhookUrl(f"the address {address} is {reason}")
    else:
        _check_name(host, allow_private=allow_private)

    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def resolve_public_address(host: str, port: int, *, allow_private: bool) -> str:
    """Resolve `host` once and return one address to connect to.

    Refuses (UnsafeWebhookUrl) if ANY address the name resolves to is not public, so a name
    with one public and one private answer cannot be used to reach the private one. Returns
    the first address in the resolver's (RFC 6724) order. A name that does not resolve raises
    socket.gaierror, an OSError: a temporary failure, not a refusal.
    """
    _check_name(host, allow_private=True)  # metadata names, whatever they resolve to
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        # Drop an IPv6 zone ("fe80::1%eth0"); such an address is refused as link-local anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeWebhookUrl(f"the host {host} resolves to no IP address")
    for address in addresses:
        reason = refusal_reason(address, allow_private=allow_private)
        if reason:
            raise UnsafeWebhookUrl(f"the host {host} resolves to {address}, {reason}")
    return str(addresses[0])


def refusal_reason(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why deliveries must not go to `address`, or None if they may. With `allow_private`
    only link-local and metadata addresses are refused, in every IPv6 form embedding one."""
    reason = _metadata_reason(address)
    if reason or allow_private:
        return reason
    return _non_public_reason(address)


def _metadata_reason(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in _every_embedded_ipv4(address):
            reason = _metadata_reason(embedded)
            if reason:
                return f"{reason} (it embeds {embedded})"
    if address.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata service address"
    return None


def _non_public_reason(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = _non_public_reason(embedded)
            return f"{reason} (it embeds {embedded})" if reason else None
        if address in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        if address.is_site_local:
            return "a site-local address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if address in SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT address"
    if address.is_private:
        # Covers 10/8, 172.16/12, 192.168/16, fc00::/7 and the documentation ranges.
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def pinned_post(
    client: httpx.Client,
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool,
) -> httpx.Response:
    """POST to `url`, connecting only to the address that `resolve_public_address` checked.

    The request goes to the checked IP; `Host` keeps the original host (with its port if not
    the default) and, for https, the `sni_hostname` extension makes TLS send SNI for and verify
    the certificate against the original host. Redirects are never followed: a 3xx response
    is returned as it is, and the caller counts it as a failure.

    The caller owns `client` and may reuse it across deliveries. httpx pools connections by
    scheme + IP + port, so a reused connection is still one to a checked address. Two caveats
    for whoever builds the client: create it with `trust_env=False` (a proxy from the
    environment would do its own resolving) and, because a pooled https connection was
    verified for the hostname that opened it, use one client per endpoint host (or no
    keep-alive) if different hostnames may share an IP.

    Raises UnsafeWebhookUrl when the host resolves to a refused address, and httpx.HTTPError
    (httpx.ConnectError for a name that does not resolve) for network failures.
    """
    target = httpx.URL(url)
    if target.userinfo:
        raise UnsafeWebhookUrl("the URL must not contain a user name or password")
    host = target.raw_host.decode("ascii")
    default_port = DEFAULT_PORTS.get(target.scheme)
    if default_port is None:
        raise UnsafeWebhookUrl(f"unsupported scheme {target.scheme!r}")
    port = target.port or default_port
    try:
        address = resolve_public_address(host, port, allow_private=allow_private)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc

    host_header = f"[{host}]" if ":" in host else host
    if target.port is not None:
        host_header = f"{host_header}:{target.port}"
    request_headers = {**headers, "Host": host_header}
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    return client.post(
        target.copy_with(host=address),
        content=content,
        headers=request_headers,
        timeout=timeout,
        follow_redirects=False,
        extensions=extensions,
    )


def _ascii_host(hostname: str) -> str:
    try:
        return hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UnsafeWebhookUrl(f"the host {hostname!r} is not a valid hostname") from exc


def _check_name(host: str, *, allow_private: bool) -> None:
    name = host.rstrip(".").lower()
    if name in METADATA_HOSTNAMES:
        raise UnsafeWebhookUrl(f"the host {host} is a cloud metadata service")
    if not allow_private and (name in LOCAL_HOSTNAMES or name.endswith(".localhost")):
        raise UnsafeWebhookUrl(f"the host {host} is not a public host")


def _literal_address(host: str) -> IPAddress | None:
    """The address a numeric host denotes, in any notation the resolver accepts
    (`127.1`, `0x7f000001`, `2130706433` all mean 127.0.0.1), or None for a name."""
    try:
        answers = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return None
    return ipaddress.ip_address(str(answers[0][4][0]).partition("%")[0])


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _every_embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address `address` could carry, for the checks that hold even when private
    targets are allowed: besides `_embedded_ipv4`'s, the IPv4-compatible form, the low 32
    bits of a local-use NAT64 prefix (a /96 is the usual choice) and Teredo's two."""
    found = [_embedded_ipv4(address)]
    if address in IPV4_COMPATIBLE or address in NAT64_LOCAL_USE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.teredo is not None:
        found.extend(address.teredo)
    return [embedded for embedded in found if embedded is not None]
