"""Every Redis client we make connects with the same settings (issue 20, point 3).

`tests/integration/test_redis_credentials.py` runs the product over rediss://. Here, the
settings that matter when something is wrong: the server's certificate is verified by
every client, Celery's broker included (kombu alone accepts any certificate when the URL
names no CA), and datasketch's near-duplicate storage gives up on a Redis that does not
answer after our socket timeout, not after redis-py's default (5 s an attempt: about a
minute with its retries, measured). Real redis-servers (one TLS-only, with openssl
certificates) and a real silent socket; no mocks.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from datasketch import MinHash
from kombu.exceptions import OperationalError

from config.celery import celery_config
from config.connections import redis_options
from config.settings import Settings
from pipeline.errors import TransientError
from pipeline.redis.story_store import NearDuplicates
from pipeline.stories import versions
from tests.conftest import Newsflow
from tests.redis_servers import RedisServer, tls_certificates, tls_redis_binary

pytestmark = pytest.mark.integration

PASSWORD = "pw-" + secrets.token_hex(12)


def _minhash() -> MinHash:
    mh = MinHash(num_perm=versions.NUM_PERM, seed=1)
    mh.update_batch([b"allies", b"agree", b"on", b"air", b"defence"])
    return mh


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, dict[str, Path]]]:
    """A TLS-only redis-server with a password, its certificate (for 127.0.0.1 and
    localhost) signed by a CA of our own, not one of the system's; it also listens on
    127.0.0.2, a name the certificate does not hold. Its port and the certificates."""
    binary, reason = tls_redis_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test TLS Redis: {reason}")
        pytest.skip(f"no TLS Redis here: {reason}")
    certs = tls_certificates(tmp_path / "certs")
    server = RedisServer(binary, tmp_path / "tls-redis")
    server.start(
        f"rediss://:{PASSWORD}@127.0.0.1:{server.port}/0?ssl_ca_certs={certs['ca']}",
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
        "--bind",
        "127.0.0.1",
        "127.0.0.2",
    )
    yield server.port, certs
    server.stop()


@pytest.mark.parametrize("case", ["no CA given: the system's", "another CA", "another host name"])
def test_every_client_refuses_a_certificate_it_cannot_verify(
    tls_server: tuple[int, dict[str, Path]], case: str, tmp_path: Path
) -> None:
    port, certs = tls_server
    host, query = "127.0.0.1", ""
    if case == "another CA":
        query = f"?ssl_ca_certs={tls_certificates(tmp_path / 'other')['ca']}"
    elif case == "another host name":  # the right CA, a name the certificate is not for
        host, query = "127.0.0.2", f"?ssl_ca_certs={certs['ca']}"
    url = f"rediss://:{PASSWORD}@{host}:{port}/0{query}"

    client = redis.Redis.from_url(url, **redis_options())  # the ledger, registries, stores
    with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        client.ping()
    near = NearDuplicates(client, prefix="tls:d")  # the near-duplicate index: the same client
    with pytest.raises(TransientError, match="near-duplicate index unavailable") as failed:
        near.query(_minhash())
    assert isinstance(failed.value.__cause__, redis.ConnectionError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value.__cause__)
    near.close()
    client.close()

    broker = Celery("newsflow-test")  # Celery's broker, configured as the workers' is
    broker.conf.update(celery_config(Settings(), url))
    with (
        broker.connection_for_write() as conn,
        pytest.raises(OperationalError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        conn.ensure_connection(max_retries=0)

    # What an operator reads: one line, the URL without its password, the reason.
    result = Newsflow(tmp_path / "home", {"NEWSFLOW_REDIS_URL": url})("status", check=False)
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: Redis at rediss://:***@{host}:{port}/0")
    assert ": its TLS certificate cannot be verified (" in line
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert line.endswith(
        "give the CA that signed it in NEWSFLOW_REDIS_URL "
        "(rediss://…?ssl_ca_certs=/path/ca.pem), and a host name the certificate is for"
    )


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers (a Redis hung, or a dead peer
    behind a load balancer): only a socket timeout ends a command sent to it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # connections complete in the backlog; nothing is ever read
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_the_near_duplicate_storage_gives_up_after_our_socket_timeout(silent_redis: str) -> None:
    client = redis.Redis.from_url(silent_redis, **{**redis_options(), "socket_timeout": 0.3})
    near = NearDuplicates(client, prefix="silent:d")
    outcome: list[BaseException | None] = []

    def query() -> None:
        try:
            near.query(_minhash())
            outcome.append(None)
        except BaseException as exc:  # reported to the test thread below
            outcome.append(exc)

    worker = threading.Thread(target=query, daemon=True)  # a hang must not hang the suite
    worker.start()
    # redis-py tries 4 times with a backoff between: about 3 s at 0.3 s a try (59 s with
    # redis-py's own 5 s, which datasketch's client had when built from host and port).
    worker.join(timeout=20)
    assert not worker.is_alive(), "the near-duplicate index's client does not have our socket timeout"
    assert isinstance(outcome[0], TransientError)
    assert isinstance(outcome[0].__cause__, redis.TimeoutError)
    # And through the stage's own call, a fault the task retries.
    version = versions.Version(id="a", outlet="x", received_at="2024-01-01T08:00:00")
    with pytest.raises(TransientError, match="near-duplicate index unavailable"):
        near.match(version, _minhash())
    near.close()
    client.close()
