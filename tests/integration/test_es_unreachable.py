"""An unreachable Elasticsearch: the index task retries, then records the failure; nothing is lost.

Real parts only: a private redis-server, a real `newsflow worker` process configured
for Elasticsearch at a closed local port (connections are refused, a real fault), and
the real command line. Afterwards a worker with a working index takes the same input
again and indexes it: the failure cost a retry, not the document.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings
from pipeline.redis.ledger import Ledger, SourceRecord
from tests.conftest import Newsflow, wait_for
from workers.local import PrivateRedis, WorkerProcesses

pytestmark = pytest.mark.integration

MAX_RETRIES = 2


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    server = PrivateRedis(tmp_path / "redis-home")
    yield server.start()
    server.stop()


@pytest.fixture
def ledger(broker: str) -> Iterator[Ledger]:
    client = redis.Redis.from_url(broker)
    yield Ledger(client)
    client.close()


def start_worker(home: Path, broker: str, cli: Newsflow, **env: str) -> WorkerProcesses:
    pool = WorkerProcesses(
        Settings(home=home, redis_url=broker, concurrency=1),
        broker,
        processes=1,
        concurrency=1,
        env={**cli.env, **env},
    )
    pool.start()
    return pool


def final_record(ledger: Ledger, source: str, timeout: float) -> SourceRecord:
    def finished() -> SourceRecord | None:
        record = ledger.get(source)
        return record if record and record.state in ("done", "failed") else None

    return wait_for(finished, timeout=timeout, every=0.2)  # type: ignore[no-any-return]


def test_index_task_retries_then_records_the_failure_and_the_input_can_be_indexed_later(
    tmp_path: Path, broker: str, ledger: Ledger, closed_port: int, seed_paths: list[Path]
) -> None:
    home = tmp_path / "home"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dropped = Path(shutil.copy(seed_paths[0], inbox))
    source = str(dropped.absolute())
    cli = Newsflow(home, {"NEWSFLOW_REDIS_URL": broker})

    pool = start_worker(
        home,
        broker,
        cli,
        NEWSFLOW_INDEX_BACKEND="elasticsearch",
        NEWSFLOW_ES_URLS=f"http://127.0.0.1:{closed_port}",
        NEWSFLOW_ES_TIMEOUT_S="2",
        NEWSFLOW_MAX_RETRIES=str(MAX_RETRIES),
    )
    try:
        cli("submit", str(dropped))
        record = final_record(ledger, source, timeout=180)
    finally:
        pool.stop()

    assert record.state == "failed"
    assert record.stage == "newsflow.index_documents"
    assert record.reason.startswith("TransientError: elasticsearch unavailable")
    assert record.attempts == MAX_RETRIES + 1
    assert ledger.recent().get("retried") == MAX_RETRIES
    assert dropped.exists()  # the input stays where it was dropped

    # The same input, once an index is reachable again, is indexed: nothing was lost.
    pool = start_worker(home, broker, cli, NEWSFLOW_INDEX_BACKEND="sqlite")
    try:
        cli("submit", str(dropped))
        record = final_record(ledger, source, timeout=180)
    finally:
        pool.stop()
    assert record.state == "done", record.reason
    hits = cli.json_lines("search", "Rutte")
    assert [Path(s).name for hit in hits for s in hit["sources"]] == [dropped.name]
