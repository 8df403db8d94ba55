"""Fetching submitted URLs (does I/O).

This service fetches what users submit, so by default it refuses anything but
http(s) to public addresses: loopback, private, link-local and metadata addresses
are refused unless `allow_private` is set. Every redirect hop is checked again, and
the connection goes to the address that was checked (the Host header and the TLS
server name stay the URL's host): resolving the name a second time to connect would let
a DNS answer that changes in between (DNS rebinding) reach an address never checked.
A name that does not exist is bad input; a resolver that cannot answer now is transient.
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.document import Document, content_id
from pipeline.errors import BadInput, TransientError
from pipeline.sources.files import as_read, sniff_format

MAX_REDIRECTS = 5
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


# getaddrinfo's answers for a name that does not exist (as opposed to "try again later").
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def check_url(url: str, *, allow_private: bool) -> str:
    """The address to connect to for `url`; raise BadInput for URLs this service must not
    fetch (TransientError when the name cannot be resolved right now)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadInput(f"refused scheme {parts.scheme or '(none)'!r}: only http and https are fetched")
    if not parts.hostname:
        raise BadInput("URL has no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            raise BadInput(f"no such host: {parts.hostname}") from exc
        raise TransientError(f"cannot resolve {parts.hostname}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for addr in addresses if not allow_private else ():
        if not addr.is_global or addr.is_multicast:
            raise BadInput(
                f"refused {parts.hostname}: resolves to non-public address {addr} "
                "(set NEWSFLOW_ALLOW_PRIVATE_URLS=true to allow)"
            )
    return str(addresses[0])


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """`url` with its host replaced by the checked `address`, the Host header it needs,
    and the TLS server name (certificates are still checked against the URL's host)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    headers = {"host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), headers, extensions


def fetch_url(url: str, *, client: httpx.Client, max_bytes: int, allow_private: bool) -> Document:
    """Fetch one URL into a Document; raise BadInput or TransientError on failure."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        address = check_url(current, allow_private=allow_private)
        target, headers, extensions = _pinned(current, address)
        try:
            with client.stream(
                "GET", target, headers=headers, extensions=extensions, follow_redirects=False
            ) as resp:
                if resp.is_redirect:
                    current = urljoin(current, resp.headers.get("location", ""))
                    continue
                _check_status(resp.status_code, current)
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype and not ctype.startswith(_TEXT_TYPES):
                    raise BadInput(f"content type {ctype!r} is not HTML or text")
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise BadInput(f"response larger than {max_bytes} bytes (NEWSFLOW_FETCH_MAX_BYTES)")
                text = body.decode(resp.encoding or "utf-8", errors="replace")
        except httpx.TimeoutException as exc:
            raise TransientError(f"timeout fetching {current}") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"network error fetching {current}: {type(exc).__name__}") from exc
        if not text.strip():
            raise BadInput("empty response body")
        raw_format = sniff_format(text) if ctype != "text/html" else "html"
        text, notes = as_read(text, raw_format)
        return Document(
            id=content_id(text),
            source=url,
            sources=(url,),
            raw_text=text,
            raw_format=raw_format,
            outlet=urlsplit(url).hostname or "",
            received_at=datetime.now(UTC).isoformat(timespec="seconds"),
            notes=notes,
        )
    raise BadInput(f"more than {MAX_REDIRECTS} redirects (redirect loop?)")


def _check_status(code: int, url: str) -> None:
    if code == 429 or code >= 500:
        raise TransientError(f"HTTP {code} from {url}")
    if code >= 400:
        raise BadInput(f"HTTP {code} from {url}")
