"""Shared fixtures: paths, a private real Redis, real worker processes, the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds" / "documents"
GOLD = REPO / "seeds" / "gold.json"
BENCH = Path(os.environ.get("NEWSFLOW_BENCH_DIR", REPO.parent / "shared" / "bench"))


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """A live Elasticsearch for the whole test session: the cluster at NEWSFLOW_ES_URL, else
    a single node this session installs (tests/elastic_node.py), starts and stops.
    NEWSFLOW_ES_TESTS=skip opts out; a machine where the install is impossible skips with
    the reason, except in CI, where it fails."""
    if url := os.environ.get("NEWSFLOW_ES_URL"):
        yield url
        return
    if os.environ.get("NEWSFLOW_ES_TESTS", "").lower() == "skip":
        pytest.skip("Elasticsearch tests opted out (NEWSFLOW_ES_TESTS=skip)")
    from tests.elastic_node import ElasticNode, InstallError, install

    try:
        home = install()
    except InstallError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no live Elasticsearch: {exc}")
    node = ElasticNode(home)
    try:
        yield node.start()
    finally:
        node.stop()


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def index_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The variables that point workers and the CLI at each index back-end in turn; the
    Elasticsearch case uses the test module's `cluster` fixture: (client, prefix, URL)."""
    if request.param == "sqlite":
        return {"NEWSFLOW_INDEX_BACKEND": "sqlite"}
    _, prefix, url = request.getfixturevalue("cluster")
    passed = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("NEWSFLOW_ES_") and k not in ("NEWSFLOW_ES_URL", "NEWSFLOW_ES_TESTS")
    }
    return {
        **passed,
        "NEWSFLOW_INDEX_BACKEND": "elasticsearch",
        "NEWSFLOW_ES_URLS": url,
        "NEWSFLOW_ES_PREFIX": prefix,
    }


@pytest.fixture(scope="session")
def nlp() -> Any:
    """The configured spaCy model, loaded once (a module may define its own, with other pipes)."""
    pytest.importorskip("spacy")
    from config.settings import Settings
    from pipeline.nlp import load_model

    try:
        return load_model(Settings().spacy_model)
    except OSError:
        pytest.skip("the configured spaCy model is not installed")


@pytest.fixture(scope="session")
def gold() -> dict[str, Any]:
    return json.loads(GOLD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


def wait_for(predicate: Callable[[], Any], *, timeout: float = 60, every: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


class Newsflow:
    """The real `newsflow` command line, run in a subprocess with its own NEWSFLOW_HOME."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        self.env.update({"NEWSFLOW_HOME": str(home), "NEWSFLOW_CONCURRENCY": "2", **(env or {})})

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "workers.cli", *args],
            env=self.env,
            cwd=cwd or REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"newsflow {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
            )
        return proc

    def json_lines(self, *args: str) -> list[dict[str, Any]]:
        out = self(*args, "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", *args],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.fixture
def newsflow(tmp_path: Path) -> Newsflow:
    return Newsflow(tmp_path / "home")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A real redis-server of our own on a free loopback port, stopped afterwards."""
    from workers.local import PrivateRedis

    server = PrivateRedis(tmp_path / "redis-home")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def client(private_redis: str) -> Iterator[Any]:
    """A redis-py client of `private_redis`, closed afterwards."""
    import redis

    c = redis.Redis.from_url(private_redis)
    yield c
    c.close()


T0 = 1_700_000_000.0  # where a test's `Clock` starts


class Clock:
    """A clock a test moves forward (`clock.now += DAY_S`), for pruning and windows."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stack(tmp_path: Path, private_redis: str) -> Iterator[Newsflow]:
    """Private Redis + one real worker process (2 children), and the CLI pointed at them."""
    from config.settings import Settings
    from workers.local import WorkerProcesses

    home = tmp_path / "home"
    cli = Newsflow(home, {"NEWSFLOW_REDIS_URL": private_redis})
    settings = Settings(home=home, redis_url=private_redis, concurrency=2)
    pool = WorkerProcesses(settings, private_redis, processes=1, env=cli.env)
    pool.start()
    yield cli
    pool.stop()
