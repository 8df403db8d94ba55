"""A Redis with a password, and over TLS, as production runs it (issue 20, points 2 and 3).

No password reaches a log line or the command line's output; every Redis client we
make (Celery's broker, the ledger, the story store, datasketch's near-duplicate
storage) connects over rediss:// with the CA given in the URL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.connections import redis_options
from pipeline.redis.story_store import NearDuplicates, StoryStore
from tests.conftest import Newsflow
from tests.redis_servers import RedisServer, tls_certificates, tls_redis_binary

pytestmark = pytest.mark.integration

PASSWORD = "pw-" + secrets.token_hex(12)
ES_PASSWORD = "espw-" + secrets.token_hex(8)
ES_API_KEY = "apikey-" + secrets.token_hex(8)


def _credentials_env(redis_url: str, *, es_host: str = "es.invalid") -> dict[str, str]:
    """Every credential a deployment sets; the index stays the embedded one."""
    return {
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_BACKEND": "sqlite",
        "NEWSFLOW_ES_URLS": f"https://elastic:{ES_PASSWORD}@{es_host}:9200",
        "NEWSFLOW_ES_PASSWORD": ES_PASSWORD,
        "NEWSFLOW_ES_API_KEY": ES_API_KEY,
        "NEWSFLOW_KIBANA_URL": f"https://elastic:{ES_PASSWORD}@{es_host}:5601",
    }


def _leaks(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(s in line for s in (PASSWORD, ES_PASSWORD, ES_API_KEY))]


@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[RedisServer]:
    from workers.local import redis_server_binary

    server = RedisServer(redis_server_binary(), tmp_path / "redis")
    server.start(
        f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0",
        "--port",
        str(server.port),
        "--requirepass",
        PASSWORD,
    )
    yield server
    server.stop()


def test_no_credential_in_any_log_line_or_output(
    password_redis: RedisServer, seed_paths: list[Path], tmp_path: Path
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{password_redis.port}/0"
    env = {**_credentials_env(url), "NEWSFLOW_LOG_LEVEL": "DEBUG"}
    cli = Newsflow(tmp_path / "home", env)
    outputs = []
    result = cli("run", str(seed_paths[0]))  # a real worker process, its logs under home/logs
    outputs.append(result.stdout + result.stderr)
    assert "processed 1" in result.stdout
    assert "failed 0" in result.stdout
    seeds = [str(p) for p in seed_paths[:2]]
    for args in (("status",), ("status", "--json"), ("submit", seeds[1]), ("show", seeds[0])):
        result = cli(*args, check=False)
        outputs.append(result.stdout + result.stderr)
    # The one-line error of a password Redis refuses, and of a Redis that is not there.
    wrong = Newsflow(tmp_path / "home", {**env, "NEWSFLOW_REDIS_URL": url.replace(PASSWORD, PASSWORD[::-1])})
    refused = wrong("status", check=False)
    gone = Newsflow(tmp_path / "home", {**env, "NEWSFLOW_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0"})
    unreachable = gone("status", check=False)
    assert refused.returncode != 0
    assert unreachable.returncode != 0
    outputs += [refused.stdout + refused.stderr, unreachable.stdout + unreachable.stderr]
    for text in outputs:  # where the wrong password is the one a reader would see
        assert PASSWORD[::-1] not in text

    logs = sorted((tmp_path / "home" / "logs").glob("*.log"))
    assert logs
    log_text = "\n".join(p.read_text(errors="replace") for p in logs)
    assert "worker ready" in log_text  # the line with the settings
    assert _leaks(log_text) == []
    assert _leaks("\n".join(outputs)) == []
    assert "redis_url='redis://:***@127.0.0.1" in log_text
    assert "es_urls=('https://elastic:***@es.invalid:9200',)" in log_text


# -- TLS ---------------------------------------------------------------------------------
@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[RedisServer, str]]:
    """A redis-server that speaks only TLS, with a password; its rediss:// URL with our CA."""
    binary, reason = tls_redis_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test TLS Redis: {reason}")
        pytest.skip(f"no TLS Redis here: {reason}")
    certs = tls_certificates(tmp_path / "certs")
    server = RedisServer(binary, tmp_path / "tls-redis")
    url = f"rediss://:{PASSWORD}@127.0.0.1:{server.port}/0?ssl_ca_certs={certs['ca']}"
    server.start(
        url,
        "--port",
        "0",
        "--tls-port",
        str(server.port),
        "--requirepass",
        PASSWORD,
        "--tls-cert-file",
        str(certs["cert"]),
        "--tls-key-file",
        str(certs["key"]),
        "--tls-ca-cert-file",
        str(certs["ca"]),
        "--tls-auth-clients",
        "no",
    )
    yield server, url
    server.stop()


def test_near_duplicates_and_stories_over_tls(tls_redis: tuple[RedisServer, str]) -> None:
    from datasketch import MinHash

    from pipeline.stories import versions

    _, url = tls_redis
    client = redis.Redis.from_url(url, **redis_options())
    lsh, stories = NearDuplicates(client, prefix="tls:d"), StoryStore(client, prefix="tls:s")
    try:
        mh = MinHash(num_perm=versions.NUM_PERM, seed=1)
        mh.update_batch([b"the", b"same", b"words", b"in", b"the", b"same", b"order"])
        first = versions.Version(id="a", outlet="x", received_at="2024-01-01T08:00:00")
        lsh.match(first, mh)
        again = versions.Version(id="b", outlet="y", received_at="2024-01-02T08:00:00")
        _, found = lsh.match(again, mh)
        assert [v.id for v, _ in found] == ["a"]
        assert stories.all_labels() == {}
    finally:
        lsh.close()
        client.close()


def test_run_over_tls(tls_redis: tuple[RedisServer, str], seed_paths: list[Path], tmp_path: Path) -> None:
    """The whole product over rediss://: Celery's broker, the ledger, the near-duplicate
    stage and the story store, in a real worker process."""
    _, url = tls_redis
    cli = Newsflow(tmp_path / "home", _credentials_env(url))
    result = cli("run", *map(str, seed_paths[:2]), "--timeout", "240")
    assert "processed 2" in result.stdout
    assert "failed 0" in result.stdout
    assert len(cli("export").stdout.splitlines()) == 2
    log_text = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "home" / "logs").glob("*.log"))
    assert _leaks(log_text + result.stdout + result.stderr) == []
