"""What operators see: Prometheus metrics from a real worker, JSON logs carrying doc ids."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from config.settings import Settings
from tests.conftest import Newsflow, wait_for
from workers.local import WorkerProcesses

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_worker_serves_metrics_and_writes_json_logs(
    tmp_path: Path, private_redis: str, seed_paths: list[Path]
) -> None:
    port = _free_port()
    cli = Newsflow(
        tmp_path / "home",
        {
            "NEWSFLOW_REDIS_URL": private_redis,
            "NEWSFLOW_METRICS_PORT": str(port),
            "NEWSFLOW_LOG_FORMAT": "json",
        },
    )
    pool = WorkerProcesses(
        Settings(home=cli.home, redis_url=private_redis), private_redis, concurrency=1, env=cli.env
    )
    pool.start()
    try:
        cli("submit", str(seed_paths[0]))
        wait_for(lambda: [r for r in cli.json_lines("sources") if r["state"] == "done"], timeout=120)
        scrape = wait_for(lambda: _get(f"http://127.0.0.1:{port}/metrics"), timeout=30)
    finally:
        pool.stop()
    assert 'newsflow_documents_total{outcome="ok",stage="extract_entities"} 1.0' in scrape
    assert 'newsflow_stage_seconds_count{stage="clean_boilerplate"} 1.0' in scrape
    assert 'newsflow_queue_depth{queue="process"} 0.0' in scrape

    lines = [ln for ln in (cli.home / "logs" / "worker-0.log").read_text().splitlines() if ln.strip()]
    records = [json.loads(ln) for ln in lines if ln.startswith("{")]
    plain = [ln for ln in lines if not ln.startswith("{")]
    # Celery's own records are JSON too; only its shutdown notice is printed, not logged.
    assert all(ln.startswith("worker: ") for ln in plain), plain
    assert len(records) >= 5
    indexed = [r for r in records if r.get("event") == "indexed"]
    assert len(indexed) == 1
    assert indexed[0]["doc_id"]
    assert indexed[0]["source"] == str(seed_paths[0])


def _get(url: str) -> str:
    try:
        return httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return ""
