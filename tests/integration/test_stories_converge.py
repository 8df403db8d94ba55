"""Stories written out of order, and by two worker processes at once, end at the story
store's newest labels, with every record rebuilt from its final members: on the embedded
SQLite index and on a live Elasticsearch (tests/conftest.py `es_url`; a per-module index
prefix, deleted at the end). The Elasticsearch writers never refresh: what they read
they read by id (real-time), and the tests read the same way, refreshing only before
listing the story records.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from config.settings import Settings
from pipeline.stories.record import to_story_record
from tests.conftest import SEEDS, Newsflow, wait_for
from tests.story_tasks import COPY, SHOWN, HandLabels, Label, World, schedules, with_sources
from tests.unit.test_stories import QUAKE, RAHMAN, RAHMAN_2, THOMPSON

pytestmark = pytest.mark.integration
ES = pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)


@pytest.fixture(scope="module")
def cluster(es_url: str) -> Iterator[tuple[Any, str, str]]:
    """(client, index prefix, URL) on the live cluster; everything under the prefix goes at the end."""
    from pipeline.elastic.admin import setup
    from pipeline.elastic.client import make_client
    from pipeline.elastic.records import KINDS, alias_name

    prefix = f"nftest-{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if k.startswith("NEWSFLOW_ES_")}
    env["NEWSFLOW_ES_URLS"] = es_url
    client = make_client(Settings.from_env(env))
    setup(client, prefix)
    yield client, prefix, es_url
    for name in sorted(client.indices.get(index=f"{prefix}-*").body):  # by name: no wildcard deletes
        client.indices.delete(index=name)
    for kind in KINDS:
        client.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))
    client.close()


class Written:
    """One back-end's index and stories, written as the index tasks write them."""

    def __init__(self, backend: str, request: pytest.FixtureRequest, path: Path, store: Any = None) -> None:
        """`path`: the SQLite file; `store`: the story store ElasticStories reads."""
        self.backend = backend
        if backend == "sqlite":
            from pipeline.sqlite.index import SqliteIndex
            from pipeline.sqlite.stories import SqliteStories

            self.index: Any = SqliteIndex(path)
            self.stories: Any = SqliteStories(path)
            return
        from pipeline.elastic.documents import ElasticIndex
        from pipeline.elastic.stories import ElasticStories

        self.es, prefix, _ = request.getfixturevalue("cluster")
        self.index = ElasticIndex(self.es, prefix=prefix)  # no refresh on any write
        self.stories = ElasticStories(self.index, store)

    def run(self, schedule: list[tuple[str, int]], world: World) -> None:
        """Play `schedule` as the write path (pipeline/write.py) would: each index task
        reads its component's labels, writes its document with its own, and (some time
        later) writes the stories and marks its document if it is a copy by then."""
        read: dict[int, dict[str, Label]] = {}
        for step, i in schedule:
            doc = world.document(i)
            if step == "place":
                world.place(i)
            elif step == "read":
                read[i] = world.component_labels(i)
                own = {doc.id: read[i][doc.id]} if doc.id in read[i] else {}
                assert self.index.write([doc], own) == []
            else:
                self.stories.update_many([(doc, read[i])])
                self.stories.mark_copies(world.shown_instead(doc.id))

    def records(self) -> dict[str, dict[str, Any]]:
        if self.backend == "elasticsearch":
            self.es.indices.refresh(index=self.index.alias("stories"))
        return {r["id"]: r for r in self.stories.all()}


def expected_records(written: Written, final: dict[str, Label]) -> dict[str, dict[str, Any]]:
    """`to_story_record` over each story's final members, as the index holds them."""
    members: dict[str, list[dict[str, Any]]] = {}
    for doc_id, (_, story) in sorted(final.items()):
        body = written.index.get(doc_id)
        assert body is not None, doc_id
        members.setdefault(story, []).append(body)
    return {s: json.loads(json.dumps(to_story_record(s, bodies))) for s, bodies in members.items()}


@pytest.mark.parametrize("backend", ["sqlite", ES])
def test_index_tasks_in_any_interleaving_leave_the_newest_labels_and_records(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for n, schedule in enumerate(schedules(40)):
        world = World(f"o{n}")
        written = Written(backend, request, tmp_path / f"o{n}.sqlite3", world)
        written.run(schedule, world)
        final = world.given
        where = f"schedule {schedule}"
        assert {d: written.index.get(d)["story_id"] for d in final} == {
            d: story for d, (_, story) in final.items()
        }, where
        assert written.index.get(world.id(COPY))["duplicate_of"] == world.id(SHOWN), where
        records = {s: r for s, r in written.records().items() if s.startswith(f"s-o{n}-")}
        assert records == expected_records(written, final), where


def test_an_older_rebuild_landing_last_leaves_the_newer_record(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two rebuilds of one story: the one that read the members later wins on Elasticsearch,
    whichever write lands last (external versions: the store's rebuild numbers)."""
    world = World("late")
    a, b = world.document(0), world.document(1)
    views = [
        (2_000, {"s-late": [a.id, b.id]}),
        (1_000, {"s-late": [a.id]}),
        (3_000, {"s-late": []}),
        (2_500, {"s-late": [a.id]}),
    ]

    class Views(HandLabels):
        def rebuild_view(self, stories: Any) -> tuple[int, dict[str, list[str]]]:
            return views.pop(0)

    written = Written("elasticsearch", request, tmp_path / "unused", Views({}))
    assert written.index.write([a, b]) == []
    written.stories.rebuild(["s-late"])  # read later: a and b
    written.stories.rebuild(["s-late"])  # read earlier, written later: a only
    assert written.stories.get("s-late")["documents"] == sorted([a.id, b.id])
    written.stories.rebuild(["s-late"])  # the story emptied: the record goes
    written.stories.rebuild(["s-late"])  # an older view after that: it stays gone
    assert written.stories.get("s-late") is None


def test_a_record_deleted_after_a_refresh_is_gone_by_its_id_and_by_a_prefix(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`get` reads in real time: a search that still sees the record (the index refreshed
    before the delete, not after) does not bring it back, and a unique prefix still finds a
    record that is there."""
    world = World("refreshed")
    a = world.document(0)
    views = [(1_000, {"s-refreshed": [a.id]}), (2_000, {"s-refreshed": []})]

    class Views(HandLabels):
        def rebuild_view(self, stories: Any) -> tuple[int, dict[str, list[str]]]:
            return views.pop(0)

    written = Written("elasticsearch", request, tmp_path / "unused", Views({}))
    assert written.index.write([a]) == []
    written.stories.rebuild(["s-refreshed"])
    written.es.indices.refresh(index=written.index.alias("stories"))
    assert written.stories.get("s-refreshed")["documents"] == [a.id]
    assert written.stories.get("s-refresh")["id"] == "s-refreshed"  # a unique prefix
    written.stories.rebuild(["s-refreshed"])  # emptied: deleted, no refresh since
    assert written.stories.get("s-refreshed") is None
    assert written.stories.get("s-refresh") is None


@pytest.mark.parametrize("backend", ["sqlite", ES])
def test_a_document_written_again_with_an_older_story_shows_the_newer_one(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    world = World("again")
    for i in range(3):
        world.place(i)
    doc = world.document(1)  # B, processed into A's story, moved to C's by the third placement
    written = Written(backend, request, tmp_path / "index.sqlite3", world)
    assert written.index.write([doc]) == []
    written.stories.update_many([(doc, world.component_labels(1))])
    again = with_sources(doc, "/drop/again.txt")  # its text dropped again
    assert written.index.write([again]) == []
    if backend == "elasticsearch":  # the body write itself keeps the newer label
        assert written.index.get(doc.id)["story_id"] == world.story("b")
    written.stories.update_many([(again, {doc.id: (2, world.story("a"))})])  # read before it moved
    assert written.index.get(doc.id)["story_id"] == world.story("b")
    assert written.index.get(doc.id)["sources"] == list(again.sources)


# ------------------------------------------------------- two worker processes at once
def _inputs(inbox: Path) -> list[Path]:
    """The seeds, and each seed's first and second half as articles of their own (the
    NATO story, or a few); an edited copy of two seeds (newer versions: the older one is
    marked a copy); articles of two other events."""
    from tests.integration.test_stories_redis import _edit_one_sentence

    inbox.mkdir()
    paths = [Path(shutil.copy(p, inbox)) for p in sorted(SEEDS.glob("*.txt"))]
    texts = {}
    for p in paths[:5]:
        lines = p.read_text(encoding="utf-8").splitlines()
        texts[f"{p.stem}-first"] = "\n".join(lines[: len(lines) // 2])
        texts[f"{p.stem}-second"] = "\n".join(lines[len(lines) // 2 :])
    for p in paths[:2]:
        texts[f"{p.stem}-edited"] = _edit_one_sentence(p.read_text(encoding="utf-8"))
    texts.update({"rahman": RAHMAN, "rahman-2": RAHMAN_2, "thompson": THOMPSON, "quake": QUAKE})
    for name, text in texts.items():
        (inbox / f"{name}.txt").write_text(text, encoding="utf-8")
        paths.append(inbox / f"{name}.txt")
    return paths


def test_two_worker_processes_writing_the_same_stories_at_once_lose_nothing(
    index_env: dict[str, str], private_redis: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from pipeline.redis.ledger import Ledger
    from pipeline.redis.story_store import StoryStore
    from workers.local import WorkerProcesses

    home = tmp_path / "home"
    cli = Newsflow(home, {"NEWSFLOW_REDIS_URL": private_redis, "NEWSFLOW_BATCH_SIZE": "2", **index_env})
    settings = Settings(home=home, redis_url=private_redis, concurrency=1)
    pool = WorkerProcesses(settings, private_redis, processes=2, concurrency=1, env=cli.env)
    paths = _inputs(tmp_path / "inbox")
    client = redis.Redis.from_url(private_redis)
    ledger = Ledger(client)
    pool.start()
    try:
        cli("submit", *map(str, paths))
        sources = [str(p.absolute()) for p in paths]

        def finished() -> bool:
            return all(
                r is not None and r.state in ("done", "duplicate", "failed", "skipped")
                for r in ledger.get_many(sources)
            )

        wait_for(finished, timeout=600, every=0.5)
    finally:
        pool.stop()
    states = {Path(r.source).name: (r.state, r.reason) for r in ledger.get_many(sources) if r is not None}
    assert {name: state for name, (state, _) in states.items()} == {p.name: "done" for p in paths}, states

    labels = StoryStore(client).labels(StoryStore(client).all_labels())
    client.close()
    assert len(labels) == len(paths)
    written = Written(index_env["NEWSFLOW_INDEX_BACKEND"], request, settings.index_path)
    assert {d: written.index.get(d)["story_id"] for d in labels} == {d: s for d, (_, s) in labels.items()}
    expected = expected_records(written, labels)
    records = {s: r for s, r in written.records().items() if set(r["documents"]) & set(labels)}
    assert records == expected  # and no record left of a story emptied meanwhile
    assert len({s for _, s in labels.values()}) >= 3  # the seeds', the fights', the quake's
    written_by = [log.read_text().count(" indexed ") for log in sorted((home / "logs").glob("worker-*.log"))]
    assert len(written_by) == 2
    assert all(written_by), written_by  # both processes wrote
    copies = [d for d in labels if written.index.get(d)["duplicate_of"]]
    assert len(copies) == 2  # the older versions of the two edited seeds
