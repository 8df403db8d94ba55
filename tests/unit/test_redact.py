"""Credentials are masked in URLs and in free text (config/redact.py)."""

from __future__ import annotations

import logging

import pytest
import structlog

from config.logging import MaskCredentials
from config.redact import mask_text, mask_url, url_secrets


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (
            "rediss://default:p%40ss@redis:6380/1?ssl_ca_certs=/ca.pem",
            "rediss://default:***@redis:6380/1?ssl_ca_certs=/ca.pem",
        ),
        ("https://elastic:changeme@es:9200", "https://elastic:***@es:9200"),
        ("unix:///run/redis.sock?db=0&password=pw", "unix:///run/redis.sock?db=0&password=***"),
        ("https://es:9200/?api_key=abc&pretty=1", "https://es:9200/?api_key=***&pretty=1"),
        ("redis://user@redis:6379/0", "redis://user@redis:6379/0"),  # no password: nothing to hide
        ("http://localhost:9200", "http://localhost:9200"),
        ("", ""),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Error 111 connecting to redis://:pw@h:6379/0. Refused.",
            "Error 111 connecting to redis://:***@h:6379/0. Refused.",
        ),
        (
            "settings=\"Settings(redis_url='redis://u:p@h/0')\"",
            "settings=\"Settings(redis_url='redis://u:***@h/0')\"",
        ),
        ('{"url": "https://elastic:x@es:9200", "n": 1}', '{"url": "https://elastic:***@es:9200", "n": 1}'),
        ("GET https://es:9200/_search?token=abc 200", "GET https://es:9200/_search?token=*** 200"),
        ("token_count=3 password_set=True", "token_count=3 password_set=True"),  # log fields, not URLs
        ("the key is s3cret-api-key here", "the key is *** here"),  # a given secret, anywhere
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text, ["s3cret-api-key"]) == masked


def test_url_secrets_as_written_and_decoded() -> None:
    assert url_secrets("redis://:p%40ss@h/0?password=q1") == ["p%40ss", "p@ss", "q1"]


def test_log_lines_and_exception_text_are_masked() -> None:
    renderer = MaskCredentials(structlog.dev.ConsoleRenderer(colors=False), ["api-key-value"])
    try:
        raise ConnectionError("cannot reach redis://:pw@h:6379/0 with api-key-value")
    except ConnectionError as exc:
        line = renderer(
            logging.getLogger(),
            "error",
            {
                "event": "failed",
                "url": "https://elastic:pw2@es:9200",
                "exc_info": exc,
            },
        )
    for secret in ("pw@", "pw2", "api-key-value"):
        assert secret not in line
    for masked in ("redis://:***@h:6379/0", "https://elastic:***@es:9200", "with ***"):
        assert masked in line
