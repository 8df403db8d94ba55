"""A new version of a file replaces what that path produced before: in search, export,
stories and claims, on the embedded index and on Elasticsearch (issue 16.1).

The case from the issue: half an article was taken before its writer finished (a
truncated document); the whole file, processed later, must replace it, not sit beside it.
A second path holding the same half (a copy) keeps that document alive, with one source.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS, Newsflow
from tests.live_es import client_for, drop_prefix, es_env, new_prefix
from workers.local import PrivateRedis

pytestmark = pytest.mark.integration

ARTICLE = SEEDS / "000_7b308ae5abe5466a.txt"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("elasticsearch", id="elasticsearch", marks=pytest.mark.elasticsearch),
]


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Newsflow]:
    server = PrivateRedis(tmp_path / "redis-home")
    env = {"NEWSFLOW_REDIS_URL": server.start(), "NEWSFLOW_CONCURRENCY": "1"}
    es, prefix = None, ""
    if request.param == "elasticsearch":
        url, prefix = str(request.getfixturevalue("es_url")), new_prefix()
        env.update(es_env(url, prefix))
        es = client_for(url, prefix)
    newsflow = Newsflow(tmp_path / "home", env)
    try:
        if es is not None:
            newsflow("es", "setup")
        yield newsflow
    finally:
        if es is not None:
            drop_prefix(es, prefix)
            es.close()
        server.stop()


def _record(cli: Newsflow, path: Path) -> dict[str, Any]:
    return next(r for r in cli.json_lines("sources") if r["source"] == str(path))


def _mentions(records: list[dict[str, Any]], doc_id: str) -> list[str]:
    """The records (stories, claim groups) that name `doc_id` anywhere but in their own id (a
    story keeps the id it was first given, after a member's name)."""
    return [
        str(r.get("id") or r.get("group"))
        for r in records
        if doc_id in json.dumps({k: v for k, v in r.items() if k != "id"})
    ]


def test_a_new_version_of_a_file_replaces_the_document_its_previous_version_gave(
    cli: Newsflow, tmp_path: Path
) -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    half = text[: text.index("\n", len(text) // 2)] + "\n"  # cut at a line, as a writer flushes
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    article, copy = inbox / "article.txt", inbox / "copy-of-the-half.txt"
    article.write_text(half, encoding="utf-8")
    for seed in sorted(SEEDS.glob("*.txt"))[1:3]:  # other articles, in the same story
        shutil.copy(seed, inbox / seed.name)
    cli("run", str(inbox))
    truncated = _record(cli, article)["document"]
    assert _mentions(cli.json_lines("stories"), truncated)  # in a story, as any document
    assert _mentions(cli.json_lines("claims", "--statements", "--limit", "10000"), truncated)

    article.write_text(text, encoding="utf-8")  # the whole file: a new version of the path
    cli("run", str(inbox))
    whole = _record(cli, article)["document"]
    assert whole != truncated

    exported = {doc["id"]: doc for doc in map(_loads, cli("export").stdout.splitlines())}
    assert truncated not in exported  # gone, not beside the new version
    assert exported[whole]["sources"] == [str(article)]
    assert len(exported) == 3
    hits = cli.json_lines("search", "Rutte", "--limit", "50")
    assert truncated not in {hit["id"] for hit in hits}
    assert whole in {hit["id"] for hit in hits}
    stories = cli.json_lines("stories")
    assert _mentions(stories, truncated) == []
    assert _mentions(stories, whole)
    assert sum(s["n_documents"] for s in stories) == 3
    groups = cli.json_lines("claims", "--statements", "--limit", "10000")
    assert _mentions(groups, truncated) == []
    assert _mentions(groups, whole)

    # The same half at a second path: that document lives on, with that path only.
    article.write_text(half, encoding="utf-8")
    copy.write_text(half, encoding="utf-8")
    cli("run", str(inbox))
    assert _record(cli, article)["document"] == _record(cli, copy)["document"] == truncated
    article.write_text(text, encoding="utf-8")
    cli("run", str(inbox))
    [kept] = cli.json_lines("show", truncated)
    assert kept["sources"] == [str(copy)]
    assert {doc["id"] for doc in map(_loads, cli("export").stdout.splitlines())} == {
        whole,
        truncated,
        *(d for d in exported if d not in (whole, truncated)),
    }


def _loads(line: str) -> dict[str, Any]:
    return dict(json.loads(line))


# -- the shared state a retired document leaves (a private Redis) -------------------------
OLD_SENTENCE = (
    "Mark Rutte made the remarks as foreign ministers from the alliance’s 32 members gathered "
    "in Brussels for a two-day meeting where there will be several discussions on Ukraine."
)
NEW_SENTENCE = (
    "Mark Rutte spoke as foreign ministers of the alliance’s 32 members assembled in Brussels, "
    "our correspondents reported overnight, with Ukraine first among their talks."
)


@pytest.fixture(scope="module")
def versions_of_one_article(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Seed 000 as three near-identical versions (edited, received a day apart) and seed 001,
    through the workers' stages up to claims (no shared state yet)."""
    from pipeline.run import build_stages, run_stages
    from pipeline.sources.files import read_dropped_file
    from workers.resources import get_nlp

    stages = [s for s in build_stages(nlp=get_nlp()) if s.name not in ("find_duplicates", "assign_story")]
    folder = tmp_path_factory.mktemp("versions")
    text = ARTICLE.read_text(encoding="utf-8")
    written = {
        "older": text.replace(OLD_SENTENCE, OLD_SENTENCE.replace("two-day", "two day")),
        "middle": text,
        "newer": text.replace(OLD_SENTENCE, NEW_SENTENCE),
        "other": (SEEDS / "001_d5b6a9cfd5e8d1e9.txt").read_text(encoding="utf-8"),
    }
    docs = {}
    for day, (name, body) in enumerate(written.items(), 1):
        (folder / f"{name}.txt").write_text(body, encoding="utf-8")
        doc = read_dropped_file(folder / f"{name}.txt", max_bytes=1_000_000)
        docs[name] = run_stages(replace(doc, received_at=f"2025-12-0{day}T10:00:00+00:00"), stages)
    return docs


def test_a_retired_document_hands_its_place_to_its_copies(
    private_redis: str, versions_of_one_article: dict[str, Any]
) -> None:
    import redis

    from pipeline.redis.story_store import NearDuplicates, StoryStore
    from pipeline.stages.stories import assign_story, find_duplicates

    docs = versions_of_one_article
    client = redis.Redis.from_url(private_redis)
    lsh, stories = NearDuplicates(client, prefix="v:d"), StoryStore(client, prefix="v:s")
    try:
        placed = {
            name: assign_story(find_duplicates(docs[name], lsh=lsh), stories=stories)
            for name in ("middle", "other", "older")
        }
        middle, older = placed["middle"].id, placed["older"].id
        assert lsh.shown_instead([older]) == {older: middle}  # search hides the older behind it
        story = stories.story_of(middle)

        # The middle version's file now holds another text: the middle document is retired.
        changed = stories.forget([middle])
        reshown = lsh.forget([middle])

        assert changed == {story}
        assert reshown == {older: ""}  # the copy it hid is shown again
        assert lsh.shown_instead([older]) == {}
        assert stories.features([older]), "the copy took the retired document's place"
        assert middle not in stories.all_labels()
        assert stories.story_of(older) == stories.story_of(placed["other"].id)
        # A later version finds the copy left, and joins that story.
        newer = assign_story(find_duplicates(docs["newer"], lsh=lsh), stories=stories)
        assert lsh.shown_instead([older]) == {older: newer.id}
        assert len(set(stories.all_labels().values())) == 1
    finally:
        lsh.close()
        client.close()
