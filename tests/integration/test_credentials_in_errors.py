"""Credentials stay masked where a fault puts a URL in front of someone (issue 20, point 2).

A failure record that names the Elasticsearch it could not reach, the worker's retry and
failure lines, and a command's own error line quoting the URL it was given: each shows
the host, never the password. Real parts only: a redis-server with a password, a real
`newsflow worker` process, Elasticsearch and Kibana URLs at closed local ports.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from config.settings import Settings
from pipeline.elastic.client import cluster_urls
from pipeline.redis.ledger import Ledger, SourceRecord
from tests.conftest import Newsflow, wait_for
from tests.redis_servers import RedisServer, free_port
from workers.local import WorkerProcesses

pytestmark = pytest.mark.integration

PASSWORD = "redispw-" + secrets.token_hex(10)
ES_PASSWORD = "espw-" + secrets.token_hex(10)
ES_API_KEY = "apikey-" + secrets.token_hex(10)


def _leaks(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(s in line for s in (PASSWORD, ES_PASSWORD, ES_API_KEY))]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server that asks for a password; its URL carries it."""
    from workers.local import redis_server_binary

    server = RedisServer(redis_server_binary(), tmp_path / "redis")
    url = server.start(
        f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0",
        "--port",
        str(server.port),
        "--requirepass",
        PASSWORD,
    )
    yield url
    server.stop()


def test_the_cluster_a_message_names_carries_no_credentials() -> None:
    es = Elasticsearch(
        [f"https://elastic:{ES_PASSWORD}@es-1.invalid:9200", f"http://reader:{ES_PASSWORD}@es-2.invalid:9201"]
    )
    assert cluster_urls(es) == "http://es-2.invalid:9201, https://es-1.invalid:9200"


def test_a_failure_that_names_elasticsearch_shows_its_host_not_its_password(
    redis_url: str, seed_paths: list[Path], tmp_path: Path
) -> None:
    port = free_port()  # nothing listens: every connection is refused
    env = {
        "NEWSFLOW_REDIS_URL": redis_url,
        "NEWSFLOW_INDEX_BACKEND": "elasticsearch",
        "NEWSFLOW_ES_URLS": f"http://elastic:{ES_PASSWORD}@127.0.0.1:{port}",
        "NEWSFLOW_ES_PASSWORD": ES_PASSWORD,
        "NEWSFLOW_ES_API_KEY": ES_API_KEY,
        "NEWSFLOW_ES_TIMEOUT_S": "2",
        "NEWSFLOW_MAX_RETRIES": "1",
        "NEWSFLOW_LOG_LEVEL": "DEBUG",
    }
    home = tmp_path / "home"
    cli = Newsflow(home, env)
    dropped = Path(shutil.copy(seed_paths[0], tmp_path / "article.txt"))
    pool = WorkerProcesses(
        Settings(home=home, redis_url=redis_url, concurrency=1),
        redis_url,
        processes=1,
        concurrency=1,
        env=cli.env,
    )
    pool.start()
    client = redis.Redis.from_url(redis_url)
    try:
        submitted = cli("submit", str(dropped))

        def failed() -> SourceRecord | None:
            record = Ledger(client).get(str(dropped.absolute()))
            return record if record is not None and record.state == "failed" else None

        record: SourceRecord = wait_for(failed, timeout=180, every=0.2)
    finally:
        pool.stop()
        client.close()

    # The reason says which cluster, as an operator needs it: the host and port.
    assert f"elasticsearch unavailable at http://127.0.0.1:{port}" in record.reason
    outputs = [submitted.stdout + submitted.stderr]
    for args in (
        ("failed",),
        ("failed", "--json"),
        ("sources", "--json"),
        ("show", str(dropped)),
        ("status",),
        ("status", "--json"),
    ):
        result = cli(*args, check=False)
        outputs.append(result.stdout + result.stderr)
    shown = "\n".join(outputs)
    assert f"127.0.0.1:{port}" in shown
    assert _leaks(shown) == []
    assert [json.loads(line)["state"] for line in cli("sources", "--json").stdout.splitlines()] == ["failed"]

    log_text = "\n".join(p.read_text(errors="replace") for p in (home / "logs").glob("*.log"))
    assert "elasticsearch unavailable" in log_text  # the retry and the failure were logged
    assert _leaks(log_text) == []


@pytest.mark.parametrize("how", ["NEWSFLOW_KIBANA_URL", "--url"])
def test_a_command_error_line_quoting_a_url_masks_its_password(how: str, tmp_path: Path) -> None:
    url = f"http://elastic:{ES_PASSWORD}@127.0.0.1:{free_port()}"
    cli = Newsflow(tmp_path / "home", {"NEWSFLOW_KIBANA_URL": url} if how != "--url" else {})
    args = ("kibana", "import", "--wait", "0", *(("--url", url) if how == "--url" else ()))
    result = cli(*args, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: Kibana at {url.replace(ES_PASSWORD, '***')} is not available (ConnectError)"
    ]
