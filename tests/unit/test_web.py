"""Fetching URLs: real responses from a local server; private addresses refused by default."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest

from pipeline.errors import BadInput, TransientError
from pipeline.sources.web import check_url, fetch_url

PAGE = b"<html><head><title>T</title></head><body><p>Rutte spoke in Brussels today.</p></body></html>"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/ok": (200, "text/html; charset=utf-8", PAGE),
            "/missing": (404, "text/html", b"no"),
            "/broken": (500, "text/html", b"err"),
            "/image": (200, "image/png", b"\x89PNG...."),
            "/big": (200, "text/html", b"x" * 5000),
        }
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/redirect":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.end_headers()
            return
        code, ctype, body = routes.get(self.path, (404, "text/plain", b""))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def _fetch(url: str, client: httpx.Client, max_bytes: int = 10_000):  # type: ignore[no-untyped-def]
    return fetch_url(url, client=client, max_bytes=max_bytes, allow_private=True)


def test_a_page_becomes_an_html_document_with_its_url_as_source(server: str, client: httpx.Client) -> None:
    doc = _fetch(server + "/ok", client)
    assert doc.raw_format == "html"
    assert "Rutte spoke" in doc.raw_text
    assert doc.sources == (server + "/ok",)


def test_redirects_are_followed(server: str, client: httpx.Client) -> None:
    assert "Rutte" in _fetch(server + "/redirect", client).raw_text


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [
        ("/missing", BadInput, "404"),
        ("/broken", TransientError, "500"),
        ("/image", BadInput, "content type"),
        ("/big", BadInput, "larger than"),
        ("/loop", BadInput, "redirect"),
    ],
)
def test_failures_are_permanent_or_transient(
    server: str, client: httpx.Client, path: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        _fetch(server + path, client, max_bytes=1000)


def test_a_timeout_is_transient(client: httpx.Client) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        with httpx.Client(timeout=0.3) as slow, pytest.raises(TransientError, match="timeout"):
            _fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/", slow)
    finally:
        listener.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://x/",
    ],
)
def test_internal_addresses_and_other_schemes_are_refused_by_default(url: str) -> None:
    with pytest.raises(BadInput, match="refused"):
        check_url(url, allow_private=False)


def test_the_explicit_setting_allows_loopback() -> None:
    assert check_url("http://127.0.0.1:9/", allow_private=True) == "127.0.0.1"


class _HostRecorder(_Handler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Host", ""))
        super().do_GET()


def test_a_name_is_resolved_once_per_hop_and_the_server_sees_the_urls_host(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolves to the server when checked and to an address nobody listens on
    afterwards (scripted: a changing DNS answer cannot be produced for real here)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostRecorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])  # first answer: the server; any later one: nobody listens

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "news.example":
            return real(host, *args, **kwargs)
        return real(next(answers, "127.0.0.9"), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        doc = _fetch(f"http://news.example:{port}/ok", client)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "Rutte spoke" in doc.raw_text
    assert _HostRecorder.seen == [f"news.example:{port}"]  # the server saw the URL's host
    assert doc.source == f"http://news.example:{port}/ok"


def test_a_public_name_that_rebinds_to_a_private_address_is_fetched_from_the_checked_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding, with the default check on: the name passes as public, then answers
    with loopback. A public address cannot be served here, so the client's transport
    records where the request would go instead of sending it."""
    answers = iter(["93.184.216.34"])  # checked (public), then loopback for anyone asking again
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), port))
        ],
    )
    sent: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, headers={"content-type": "text/html"}, content=PAGE)

    with httpx.Client(transport=httpx.MockTransport(transport)) as recording:
        fetch_url("https://news.example/story", client=recording, max_bytes=10_000, allow_private=False)
    (request,) = sent
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "news.example"
    assert request.extensions["sni_hostname"] == "news.example"  # TLS is checked against the name


def test_a_name_that_does_not_exist_is_bad_input_not_retried() -> None:
    with pytest.raises(BadInput, match="no such host"):
        check_url("http://no-such-host.invalid/", allow_private=False)
