"""Webhook URLs cannot reach the operator's network, not even by DNS tricks or redirects.

No test needs the internet: names are answered by a stand-in for socket.getaddrinfo, and the
receiver is a real HTTP server on 127.0.0.1.
"""

import http.server
import shutil
import socket
import ssl
import subprocess
import threading

import httpx
import pytest

from common.webhooks.ssrf import (
    UnsafeWebhookUrl,
    check_webhook_url,
    pinned_post,
    resolve_public_address,
)

PUBLIC_IP = "203.0.114.10"  # globally routable, never contacted: the tests mock the transport
REAL_GETADDRINFO = socket.getaddrinfo


def answer(*ips: str) -> list[tuple]:
    """What socket.getaddrinfo returns for a name with these addresses."""
    return [
        (
            socket.AF_INET6 if ":" in ip else socket.AF_INET,
            socket.SOCK_STREAM,
            6,
            "",
            (ip, 443, 0, 0) if ":" in ip else (ip, 443),
        )
        for ip in ips
    ]


class FakeDns:
    """Answers lookups of the names it knows, in turn (the last answer repeats; an exception
    is raised); every other name, IP literals included, resolves for real."""

    def __init__(self):
        self.zones: dict[str, list[list[tuple]]] = {}
        self.lookups: list[str] = []

    def __setitem__(self, name, answers):
        self.zones[name] = list(answers)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.zones:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = self.zones[host]
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(current, Exception):
            raise current
        return current


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records each request; answers 302 on /redirect and 204 elsewhere."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/landed")
        else:
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.requests = []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for hooks.invex.test only (not for 127.0.0.1)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.invex.test",
            "-addext",
            "subjectAltName=DNS:hooks.invex.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receiver(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.requests = []
    server.server_names = server_names
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client():
    with httpx.Client(trust_env=False) as client:
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/hook",
        "https://255.255.255.255/hook",
        "https://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fec0::1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://localhost/hook",
        "https://app.localhost/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_private_literal_addresses_and_local_names_are_refused_at_creation(url):
    with pytest.raises(UnsafeWebhookUrl):
        check_webhook_url(url, allow_http=False, allow_private=False)


def test_a_public_url_is_accepted_and_normalised():
    assert (
        check_webhook_url(
            "HTTPS://Hooks.Example.COM:443/in?x=1#frag", allow_http=False, allow_private=False
        )
        == "https://hooks.example.com/in?x=1"
    )


def test_a_public_address_embedded_in_ipv6_is_accepted():
    check_webhook_url("https://[64:ff9b::808:808]/", allow_http=False, allow_private=False)
    check_webhook_url("https://[2606:4700::1111]:8443/", allow_http=False, allow_private=False)


def test_a_non_default_port_is_kept_and_an_empty_path_becomes_slash():
    assert (
        check_webhook_url("https://example.com:8443", allow_http=False, allow_private=False)
        == "https://example.com:8443/"
    )


def test_http_is_refused_unless_allowed():
    with pytest.raises(UnsafeWebhookUrl, match="scheme must be https"):
        check_webhook_url("http://example.com/", allow_http=False, allow_private=False)
    assert (
        check_webhook_url("http://example.com/", allow_http=True, allow_private=False)
        == "http://example.com/"
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "example.com", "javascript:alert(1)"]
)
def test_other_schemes_are_refused(url):
    with pytest.raises(UnsafeWebhookUrl, match="scheme"):
        check_webhook_url(url, allow_http=True, allow_private=False)


@pytest.mark.parametrize(
    "url", ["https://user:pass@example.com/", "https://user@example.com/", "https://:@example.com/"]
)
def test_credentials_in_the_url_are_refused(url):
    with pytest.raises(UnsafeWebhookUrl, match="user name or password"):
        check_webhook_url(url, allow_http=False, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https:///path", "no host"),
        ("https://example.com:99999/", "does not parse"),
        ("https://example.com:port/", "does not parse"),
        ("https://[fe80::1%25eth0]/", "neither a hostname nor an IP address"),
        ("https://exa$mple.com/", "neither a hostname nor an IP address"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/\n", "whitespace"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        check_webhook_url(url, allow_http=False, allow_private=False)


def test_a_literal_address_is_written_one_way():
    assert (
        check_webhook_url("https://[2606:4700:0::1111]/", allow_http=False, allow_private=False)
        == "https://[2606:4700::1111]/"
    )
    assert (
        check_webhook_url("http://2130706433:8080/", allow_http=True, allow_private=True)
        == "http://127.0.0.1:8080/"
    )


def test_allow_private_accepts_loopback_urls():
    assert (
        check_webhook_url("http://127.0.0.1:8080/hook", allow_http=True, allow_private=True)
        == "http://127.0.0.1:8080/hook"
    )
    assert (
        check_webhook_url("https://[::1]/hook", allow_http=False, allow_private=True)
        == "https://[::1]/hook"
    )


def test_localhost_is_refused_at_send_time():
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        resolve_public_address("localhost", 443, allow_private=False)


def test_a_name_resolving_to_the_metadata_service_is_refused(dns):
    dns["metadata.internal.example"] = [answer("169.254.169.254")]
    with pytest.raises(UnsafeWebhookUrl, match="link-local"):
        resolve_public_address("metadata.internal.example", 443, allow_private=False)


def test_a_name_with_any_private_answer_is_refused(dns):
    dns["mixed.example"] = [answer(PUBLIC_IP, "10.1.2.3")]
    with pytest.raises(UnsafeWebhookUrl, match=r"10\.1\.2\.3, a private address"):
        resolve_public_address("mixed.example", 443, allow_private=False)


def test_a_name_resolving_to_ipv4_mapped_loopback_is_refused(dns):
    dns["mapped.example"] = [answer("::ffff:127.0.0.1")]
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        resolve_public_address("mapped.example", 443, allow_private=False)


def test_a_public_name_resolves_to_its_first_address(dns):
    dns["hooks.example"] = [answer(PUBLIC_IP, "2606:4700::1111")]
    assert resolve_public_address("hooks.example", 443, allow_private=False) == PUBLIC_IP


def test_allow_private_lets_loopback_through():
    assert resolve_public_address("127.0.0.1", 80, allow_private=True) == "127.0.0.1"


def test_an_unresolvable_name_is_a_network_error_not_a_refusal(dns, client):
    dns["no-such-host.example"] = [socket.gaierror(socket.EAI_NONAME, "Name or service not known")]
    with pytest.raises(httpx.ConnectError, match="cannot resolve"):
        pinned_post(
            client,
            "https://no-such-host.example/",
            content=b"",
            headers={},
            timeout=5,
            allow_private=False,
        )


def test_pinned_post_reaches_the_checked_address_with_the_original_host(dns, receiver, client):
    port = receiver.server_port
    dns["receiver.invex.test"] = [answer("127.0.0.1")]
    response = pinned_post(
        client,
        f"http://receiver.invex.test:{port}/hook?a=1",
        content=b'{"type":"ping"}',
        headers={"Invex-Event": "ping"},
        timeout=5,
        allow_private=True,
    )
    assert response.status_code == 204
    [(path, headers, body)] = receiver.requests
    assert path == "/hook?a=1"
    assert headers["Host"] == f"receiver.invex.test:{port}"
    assert headers["Invex-Event"] == "ping"
    assert body == b'{"type":"ping"}'


def test_pinned_post_refuses_loopback_without_allow_private(dns, receiver, client):
    dns["receiver.invex.test"] = [answer("127.0.0.1")]
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        pinned_post(
            client,
            f"http://receiver.invex.test:{receiver.server_port}/hook",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=False,
        )
    assert receiver.requests == []


def test_a_redirect_is_returned_not_followed(dns, receiver):
    dns["receiver.invex.test"] = [answer("127.0.0.1")]
    with httpx.Client(trust_env=False, follow_redirects=True) as client:
        response = pinned_post(
            client,
            f"http://receiver.invex.test:{receiver.server_port}/redirect",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=True,
        )
    assert response.status_code == 302
    assert [path for path, _, _ in receiver.requests] == ["/redirect"]


def test_a_rebound_name_still_connects_to_the_checked_address(dns, receiver, client):
    # The first answer is the one checked; every later lookup answers an address where
    # nothing listens. The request reaching the receiver shows the connection used the first.
    dns["rebind.invex.test"] = [answer("127.0.0.1"), answer("192.0.2.1")]
    response = pinned_post(
        client,
        f"http://rebind.invex.test:{receiver.server_port}/hook",
        content=b"{}",
        headers={},
        timeout=5,
        allow_private=True,
    )
    assert response.status_code == 204
    assert len(receiver.requests) == 1
    assert dns.lookups == ["rebind.invex.test"]


def test_a_public_name_rebinding_to_loopback_is_sent_to_the_public_address(dns):
    dns["rebind.example"] = [answer(PUBLIC_IP), answer("127.0.0.1")]
    sent = []

    def transport(request):
        sent.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        pinned_post(
            client,
            "https://rebind.example/hook",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=False,
        )
    [request] = sent
    assert request.url.host == PUBLIC_IP
    assert request.headers["Host"] == "rebind.example"
    assert request.extensions["sni_hostname"] == "rebind.example"


def test_https_to_ipv6_brackets_the_address_and_keeps_the_name_for_tls(dns):
    dns["v6.example"] = [answer("2606:4700::1111")]
    sent = []

    def transport(request):
        sent.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        pinned_post(
            client,
            "https://v6.example:8443/hook",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=False,
        )
    [request] = sent
    assert str(request.url) == "https://[2606:4700::1111]:8443/hook"
    assert request.headers["Host"] == "v6.example:8443"
    assert request.extensions["sni_hostname"] == "v6.example"


def test_https_sends_sni_for_and_verifies_the_certificate_of_the_original_name(
    dns, tls_receiver, certificate
):
    dns["hooks.invex.test"] = [answer("127.0.0.1")]
    verify = ssl.create_default_context(cafile=str(certificate[0]))
    with httpx.Client(trust_env=False, verify=verify) as client:
        response = pinned_post(
            client,
            f"https://hooks.invex.test:{tls_receiver.server_port}/in",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=True,
        )
    assert response.status_code == 204
    assert tls_receiver.server_names == ["hooks.invex.test"]
    [(_, headers, _)] = tls_receiver.requests
    assert headers["Host"] == f"hooks.invex.test:{tls_receiver.server_port}"


def test_https_refuses_a_certificate_for_another_name(dns, tls_receiver, certificate):
    dns["other.invex.test"] = [answer("127.0.0.1")]
    verify = ssl.create_default_context(cafile=str(certificate[0]))
    with (
        httpx.Client(trust_env=False, verify=verify) as client,
        pytest.raises(httpx.ConnectError, match="certificate verify failed"),
    ):
        pinned_post(
            client,
            f"https://other.invex.test:{tls_receiver.server_port}/in",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=True,
        )
    assert tls_receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",  # ECS task credentials
        "http://0251.0376.0251.0376/latest",  # octal
        "http://0xa9fea9fe/latest",  # hex
        "http://2852039166/latest",  # decimal
        "http://169.254.43518/latest",  # the resolver's a.b.c form
        "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
        "http://168.63.129.16/machine",  # Azure WireServer, a public address
        "http://192.0.0.192/",  # Oracle Cloud Classic
        "http://[fe80::1]/",
        "http://[fe80::a9fe:a9fe]/",
        "http://[fd00:ec2::254]/latest/meta-data/",  # AWS over IPv6
        "http://[::ffff:169.254.169.254]/latest",
        "http://[::ffff:a9fe:a9fe]/latest",
        "http://[::169.254.169.254]/latest",  # IPv4-compatible
        "http://[64:ff9b::169.254.169.254]/latest",  # NAT64
        "http://[64:ff9b:1::a9fe:a9fe]/latest",  # local-use NAT64
        "http://[2002:a9fe:a9fe::]/latest",  # 6to4
        "http://[::ffff:100.100.100.200]/latest",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/",
        "http://metadata.goog/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://instance-data.ec2.internal/latest",
    ],
)
def test_metadata_and_link_local_targets_are_refused_even_when_private_targets_are_allowed(url):
    with pytest.raises(UnsafeWebhookUrl, match="metadata"):
        check_webhook_url(url, allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    "ip", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "100.100.100.200"]
)
def test_a_name_resolving_to_a_metadata_address_is_refused_even_when_private_is_allowed(dns, ip):
    dns["imds.invex.test"] = [answer(ip)]
    with pytest.raises(UnsafeWebhookUrl, match="metadata"):
        resolve_public_address("imds.invex.test", 80, allow_private=True)


def test_a_name_with_one_metadata_answer_is_refused_even_when_private_is_allowed(dns):
    dns["mixed.invex.test"] = [answer("127.0.0.1", "169.254.169.254")]
    with pytest.raises(UnsafeWebhookUrl, match=r"169\.254\.169\.254"):
        resolve_public_address("mixed.invex.test", 80, allow_private=True)


def test_pinned_post_never_connects_to_a_metadata_address(dns, receiver, client):
    # The name first resolves to the metadata service; were it used, the second answer
    # (the receiver) would never be asked for: the lookup happens once per send.
    dns["imds.invex.test"] = [answer("169.254.169.254"), answer("127.0.0.1")]
    with pytest.raises(UnsafeWebhookUrl, match="link-local"):
        pinned_post(
            client,
            f"http://imds.invex.test:{receiver.server_port}/latest",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=True,
        )
    assert receiver.requests == []


def test_pinned_post_refuses_a_metadata_hostname_stored_before_the_check(client):
    # A URL stored by an older version is checked again at send time, by name first.
    with pytest.raises(UnsafeWebhookUrl, match="metadata"):
        pinned_post(
            client,
            "http://metadata.google.internal/computeMetadata/v1/",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=True,
        )


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "2130706433", "0x7f.1"]
)
def test_loopback_in_any_spelling_is_refused_at_send_time_without_allow_private(
    receiver, client, host
):
    # "localhost" resolves for real, on this machine, to the receiver's address.
    with pytest.raises(UnsafeWebhookUrl):
        pinned_post(
            client,
            f"http://{host}:{receiver.server_port}/hook",
            content=b"{}",
            headers={},
            timeout=5,
            allow_private=False,
        )
    assert receiver.requests == []


def test_localhost_is_delivered_to_when_private_targets_are_allowed(receiver, client):
    response = pinned_post(
        client,
        f"http://localhost:{receiver.server_port}/hook",
        content=b"{}",
        headers={},
        timeout=5,
        allow_private=True,
    )
    assert response.status_code == 204
    assert len(receiver.requests) == 1
