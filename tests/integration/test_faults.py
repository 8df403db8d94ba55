"""Real faults on real processes: every document ends indexed exactly once, none is lost."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.settings import Settings
from tests.conftest import Newsflow, wait_for
from workers.local import PrivateRedis, WorkerProcesses, child_pids

pytestmark = pytest.mark.integration


def _exported(cli: Newsflow) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in cli("export").stdout.splitlines()]


def _states(cli: Newsflow) -> dict[str, str]:
    return {Path(r["source"]).name: r["state"] for r in cli.json_lines("sources")}


class Stack:
    """A private Redis and worker processes we can kill and restart at will."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.redis = PrivateRedis(tmp / "redis-home")
        self.url = self.redis.start()
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        self.cli = Newsflow(tmp / "home", {"NEWSFLOW_REDIS_URL": self.url, **env})
        self.settings = Settings(home=self.cli.home, redis_url=self.url, concurrency=1)
        self.pools: list[WorkerProcesses] = []

    def start_workers(self, queues: str = "ingest,process,index", **env: str) -> WorkerProcesses:
        pool = WorkerProcesses(
            self.settings, self.url, concurrency=1, queues=queues, env={**self.cli.env, **env}
        )
        pool.start()
        self.pools.append(pool)
        return pool

    def close(self) -> None:
        for pool in self.pools:
            pool.stop()
        self.redis.stop()


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[Stack]:
    """Messages of a dead worker come back after 6 s (the default is an hour)."""
    stack = Stack(tmp_path, {"NEWSFLOW_VISIBILITY_TIMEOUT_S": "6"})
    yield stack
    stack.close()


@pytest.fixture
def steady(tmp_path: Path) -> Iterator[Stack]:
    """The default visibility timeout: on a slow machine a task that takes over 6 s
    (model loading included) would be delivered twice."""
    stack = Stack(tmp_path, {})
    yield stack
    stack.close()


def _big_article(seed_paths: list[Path], dest: Path) -> Path:
    """An article long enough that NER is still running when we pull the plug."""
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in seed_paths * 4)
    dest.write_text(text, encoding="utf-8")
    return dest


def _wait_until_processing(cli: Newsflow, name: str) -> None:
    def busy() -> bool:
        record = next((r for r in cli.json_lines("sources") if r["source"].endswith(name)), {})
        return record.get("stage") == "process_files"

    wait_for(busy, timeout=60, every=0.2)


def test_a_worker_child_killed_mid_task_leaves_the_message_to_be_redelivered(
    faulty: Stack, seed_paths: list[Path], tmp_path: Path
) -> None:
    pool = faulty.start_workers()
    article = _big_article(seed_paths, tmp_path / "long.txt")
    faulty.cli("submit", str(article))
    _wait_until_processing(faulty.cli, "long.txt")
    for child in child_pids(pool.procs[0].pid):
        os.kill(child, signal.SIGKILL)
    wait_for(lambda: _states(faulty.cli).get("long.txt") == "done", timeout=120)
    assert len(_exported(faulty.cli)) == 1


def test_a_whole_worker_killed_mid_task_is_made_good_by_another_worker(
    faulty: Stack, seed_paths: list[Path], tmp_path: Path
) -> None:
    pool = faulty.start_workers()
    article = _big_article(seed_paths, tmp_path / "long.txt")
    faulty.cli("submit", str(article))
    _wait_until_processing(faulty.cli, "long.txt")
    main = pool.procs[0].pid
    for pid in [main, *child_pids(main)]:  # the machine dies: main process and children at once
        os.kill(pid, signal.SIGKILL)
    pool.procs[0].wait()
    faulty.start_workers()  # after the visibility timeout the unacknowledged message returns
    wait_for(lambda: _states(faulty.cli).get("long.txt") == "done", timeout=120)
    docs = _exported(faulty.cli)
    assert len(docs) == 1
    assert docs[0]["sources"] == [str(article)]


def test_redis_stopped_and_restarted_while_work_is_queued_loses_nothing(
    faulty: Stack, seed_paths: list[Path]
) -> None:
    faulty.start_workers()
    faulty.cli("submit", *map(str, seed_paths))
    faulty.redis.stop()  # SHUTDOWN: the append-only file keeps the queues
    time.sleep(3)
    faulty.redis.start(port=faulty.port)
    wait_for(
        lambda: set(_states(faulty.cli).values()) == {"done"} and len(_states(faulty.cli)) == len(seed_paths),
        timeout=180,
        every=0.5,
    )
    docs = _exported(faulty.cli)
    assert len(docs) == len(seed_paths)
    assert sorted(Path(s).name for d in docs for s in d["sources"]) == sorted(p.name for p in seed_paths)


def test_redis_gone_for_longer_than_a_call_waits_in_the_middle_of_a_task_loses_nothing(
    steady: Stack, seed_paths: list[Path], tmp_path: Path
) -> None:
    """Redis restarts (an upgrade, say) while a document is being processed, and stays away
    longer than one Redis call waits: the task is retried once Redis is back, instead of
    failing and leaving its message to the visibility timeout (an hour by default)."""
    steady.start_workers()
    article = _big_article(seed_paths * 6, tmp_path / "long.txt")  # ~560 KB: 15 s or more of NLP
    steady.cli("submit", str(article))
    _wait_until_processing(steady.cli, "long.txt")
    steady.redis.stop()
    time.sleep(15)
    steady.redis.start(port=steady.port)
    wait_for(lambda: _states(steady.cli).get("long.txt") == "done", timeout=120, every=0.5)
    assert len(_exported(steady.cli)) == 1
    (record,) = [r for r in steady.cli.json_lines("sources") if r["source"] == str(article)]
    assert record["attempts"] >= 1, "the outage missed the task: it finished before Redis stopped"


def _index_messages(client: redis.Redis) -> list[bytes]:
    return client.lrange("index", 0, -1)  # type: ignore[return-value]


def _replaces_a_version(message: bytes) -> bool:
    """Whether a queued index task carries a document that replaced an older version."""
    args = json.loads(base64.b64decode(json.loads(message)["body"]))[0]
    return any(payload.get("versions") for payload in args[0])


def test_a_copy_written_after_the_version_that_replaced_it_still_points_at_it(
    steady: Stack, seed_paths: list[Path], tmp_path: Path
) -> None:
    """Two workers, either order: the newer version's write can come first, find no row to
    mark (the older copy is not written yet), and the older copy's write must catch up."""
    client = redis.Redis.from_url(steady.url)
    # Enrich both; their writes wait in the index queue (as when the index was unreachable).
    steady.start_workers(queues="ingest,process", NEWSFLOW_INDEX_INLINE="false")
    original = seed_paths[0]
    steady.cli("submit", str(original))
    wait_for(lambda: len(_index_messages(client)) == 1, timeout=120)
    lines = original.read_text(encoding="utf-8").splitlines()
    longest = max(range(len(lines)), key=lambda n: len(lines[n]))
    lines[longest] = "An editor added a late detail from the briefing here. " + lines[longest]
    edited = tmp_path / "edited.txt"
    edited.write_text("\n".join(lines), encoding="utf-8")
    steady.cli("submit", str(edited))
    wait_for(lambda: len(_index_messages(client)) == 2, timeout=120)
    queued = _index_messages(client)
    newer = [m for m in queued if _replaces_a_version(m)]
    assert len(newer) == 1  # one of the two was resolved as the version search shows
    # The queue pops from the right: the newer version's write goes first.
    client.delete("index")
    client.rpush("index", *[m for m in queued if m not in newer], *newer)
    steady.start_workers(queues="index")
    wait_for(lambda: _states(steady.cli) == {original.name: "done", "edited.txt": "done"}, timeout=120)
    docs = _exported(steady.cli)
    copies = [d for d in docs if d["duplicate_of"]]
    assert len(docs) == 2
    assert len(copies) == 1
    assert copies[0]["duplicate_of"] == next(d["id"] for d in docs if not d["duplicate_of"])
    hits = steady.cli.json_lines("search", "Rutte")
    assert copies[0]["id"] not in {h["id"] for h in hits}
    client.close()


def test_the_worker_that_enriches_a_batch_writes_it_and_the_index_queue_is_left_for_retries(
    steady: Stack, seed_paths: list[Path]
) -> None:
    client = redis.Redis.from_url(steady.url)
    steady.start_workers(queues="ingest,process")  # nobody reads the index queue
    steady.cli("submit", *map(str, seed_paths[:2]))
    wait_for(
        lambda: set(_states(steady.cli).values()) == {"done"} and len(_states(steady.cli)) == 2,
        timeout=120,
        every=0.5,
    )
    assert _index_messages(client) == []
    assert len(steady.cli.json_lines("search", "Rutte")) == 2
    client.close()


def test_a_file_queued_for_ingest_by_an_earlier_version_is_still_read_and_processed(
    steady: Stack, seed_paths: list[Path]
) -> None:
    """Files now go straight to `process_files`; a message for the ingest queue sent
    before an upgrade still works."""
    from workers.app import app

    steady.start_workers()
    with app.connection_for_write(steady.url) as conn:
        app.send_task("newsflow.ingest_files", args=[[str(seed_paths[0])]], queue="ingest", connection=conn)
    wait_for(lambda: _states(steady.cli).get(seed_paths[0].name) == "done", timeout=120, every=0.5)
    assert [Path(s).name for d in _exported(steady.cli) for s in d["sources"]] == [seed_paths[0].name]
