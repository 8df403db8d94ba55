"""Per-document Redis state is kept only within the window (pipeline/redis/retention.py),
against a real private Redis, with a clock the test moves forward."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from pipeline.claims.plan import ClaimsPlan
from pipeline.document import Document
from pipeline.entities.local import LocalEntity, Mention
from pipeline.redis.claim_groups import ClaimGroups
from pipeline.redis.entity_registry import RedisEntityRegistry
from pipeline.redis.retention import DAY_S, Retention
from pipeline.redis.story_store import NearDuplicates, StoryStore
from pipeline.stages.stories import assign_story, find_duplicates
from tests.conftest import Clock
from tests.factories import make_claim, make_document
from tests.unit.test_stories import RAHMAN_2_DOC, RAHMAN_DOC

pytestmark = pytest.mark.integration


def retention(clock: Clock) -> Retention:
    return Retention(window_s=30 * DAY_S, clock=clock, prune_every_s=0)


def fight(doc: Document, outlet: str, **fields: Any) -> Document:
    """A Rahman fight article with claims, as the stages before the stores leave it."""
    claims = (
        make_claim(
            "Klitschko is the best heavyweight of his era",
            speaker="Hasim Rahman",
            speaker_canonical="Hasim Rahman",
            start=0,
            end=40,
        ),
    )
    return make_document(
        doc.text,
        text=doc.text,
        entities=doc.entities,
        published=doc.published,
        outlet=outlet,
        claims=claims,
        **fields,
    )


def keys_naming(client: redis.Redis, doc_id: str) -> list[str]:
    """Every key, hash field, set or sorted-set member that names `doc_id` (datasketch's
    buckets included: they hold the id pickled)."""
    found = []
    for raw in client.scan_iter(count=1000):
        key = raw.decode("utf-8", "replace")
        kind = client.type(raw).decode()
        if doc_id in key:
            found.append(key)
        elif kind == "hash" and client.hexists(raw, doc_id):
            found.append(f"{key}[{doc_id}]")
        elif kind == "set" and any(doc_id.encode() in m for m in client.smembers(raw)):
            found.append(f"{key}{{{doc_id}}}")
        elif kind == "zset" and any(doc_id.encode() in m for m in client.zrange(raw, 0, -1)):
            found.append(f"{key}<{doc_id}>")
        elif kind == "list" and any(doc_id.encode() in m for m in client.lrange(raw, 0, -1)):
            found.append(f"{key}({doc_id})")
    return found


def stores(client: redis.Redis, clock: Clock) -> tuple[NearDuplicates, StoryStore, ClaimGroups]:
    r = retention(clock)
    return (
        NearDuplicates(client, prefix="t:dups", retention=r),
        StoryStore(client, prefix="t:stories", retention=r),
        ClaimGroups(client, prefix="t:claims", retention=r),
    )


@contextmanager
def filed(groups: ClaimGroups, docs: list[Document]) -> Iterator[ClaimsPlan]:
    with groups.planning(docs) as plan:  # the claims table's write would go here
        yield plan


def place(doc: Document, lsh: NearDuplicates, store: StoryStore, groups: ClaimGroups) -> Document:
    doc = assign_story(find_duplicates(doc, lsh=lsh), stories=store)
    with filed(groups, [doc]):
        pass
    return doc


def test_keys_expire_with_the_window(client: redis.Redis, clock: Clock) -> None:
    lsh, store, groups = stores(client, clock)
    registry = RedisEntityRegistry(client, prefix="t:entities", retention=retention(clock))
    try:
        old = place(fight(RAHMAN_DOC, "Reuters"), lsh, store, groups)
        registry.resolve(old.id, [person("Hasim Rahman")])
        assert keys_naming(client, old.id)  # filed everywhere
        clock.now += 29 * DAY_S
        assert (lsh.prune(), store.prune(), groups.prune()) == (0, 0, 0)
        assert registry.prune() == 1  # its redelivery answer: kept for a day
        clock.now += 2 * DAY_S  # 31 days after it arrived
        new = place(fight(RAHMAN_2_DOC, "AP"), lsh, store, groups)
        registry.resolve(new.id, [person("Hasim Rahman")])  # the writers prune as they go
        assert keys_naming(client, old.id) == []
        assert keys_naming(client, new.id)
    finally:
        lsh.close()


def test_a_redelivered_document_gets_its_answer_back_for_a_day(client: redis.Redis, clock: Clock) -> None:
    """Within a day (ANSWERS_S) a document delivered again gets the entities it was given,
    counted once; later it is matched again and counted again. The entities stay."""
    registry = RedisEntityRegistry(client, prefix="t:entities", retention=retention(clock))

    def documents(name: str) -> int:
        return next(e["documents"] for e in registry.entities() if e["canonical"] == name)

    (first,) = registry.resolve("doc-1", [person("Hasim Rahman")])
    clock.now += 20 * 3600
    (seen,) = registry.resolve("doc-1", [person("Hasim Rahman")])
    assert (seen.id, seen.rule) == (first.id, "seen")  # its earlier answer
    assert documents("Hasim Rahman") == 1
    clock.now += 5 * 3600  # 25 hours after it arrived
    registry.prune()
    assert client.exists("t:entities:doc:doc-1") == 0
    (again,) = registry.resolve("doc-1", [person("Hasim Rahman")])
    assert again.id == first.id
    assert again.rule != "seen"
    assert documents("Hasim Rahman") == 2


def test_what_a_placement_changed_is_kept_for_a_day(client: redis.Redis, clock: Clock) -> None:
    """The index writer reads what placing a document changed right after the placement,
    or when its task comes back: kept for a day (redelivery_s), then the document's own
    label is what a late writer gets. The document stays filed for the window."""
    lsh, store, groups = stores(client, clock)
    try:
        first = place(fight(RAHMAN_DOC, "Reuters"), lsh, store, groups)
        second = place(fight(RAHMAN_2_DOC, "AP"), lsh, store, groups)
        assert client.hexists("t:stories:placed", second.id)
        within = store.component_labels(second.id)
        clock.now += 25 * 3600
        assert store.prune() == 0  # nothing past the window
        assert not client.hexists("t:stories:placed", second.id)
        assert store.component_labels(second.id) == {second.id: within[second.id]}
        assert store.story_of(second.id) == second.story_id
        assert client.exists(f"t:stories:f:{first.id}")
    finally:
        lsh.close()


def person(name: str) -> LocalEntity:
    return LocalEntity(
        name, "PERSON", [Mention(surface=name, name=name, label="PERSON", start=0, end=len(name))]
    )


def test_an_entitys_state_does_not_grow_with_its_documents(client: redis.Redis, clock: Clock) -> None:
    """One entity named in 600 documents, each with a new name beside it (a new context
    word): its keys take no more memory after 600 documents than after 300 (its context
    words are capped, its documents counted), and it still counts them all."""
    registry = RedisEntityRegistry(client, prefix="t:entities", retention=retention(clock))
    sizes = []
    for n in range(600):
        registry.resolve(f"doc{n:04d}", [person("Mark Rutte"), person(f"Visitor{n} Guest{n}")])
        if n + 1 in (300, 600):
            rutte = next(e for e in registry.entities() if e["canonical"] == "Mark Rutte")
            keys = list(client.scan_iter(f"t:entities:e:{rutte['id']}*"))
            sizes.append(sum(int(client.memory_usage(k, samples=0) or 0) for k in keys))
    assert sizes[1] <= sizes[0] * 1.05, sizes
    assert rutte["documents"] == 600
    assert client.scard(f"t:entities:e:{rutte['id']}:cx") <= 256


def test_a_late_document_still_gets_a_story(client: redis.Redis, clock: Clock) -> None:
    lsh, store, groups = stores(client, clock)
    try:
        first = place(fight(RAHMAN_DOC, "Reuters"), lsh, store, groups)
        second = place(fight(RAHMAN_2_DOC, "AP"), lsh, store, groups)
        assert first.story_id == second.story_id
        clock.now += 40 * DAY_S  # its peers are pruned when it arrives
        late = make_document(
            RAHMAN_2_DOC.text + " The rematch talk began.",
            text=RAHMAN_2_DOC.text + " The rematch talk began.",
            entities=RAHMAN_2_DOC.entities,
            published="2008-12-15",
            outlet="BBC",
        )
        late = place(late, lsh, store, groups)
        assert late.story_id == f"s-{late.id}"
        assert store.story_of(late.id) == late.story_id
        assert store.story_of(first.id) == ""  # pruned: the index keeps its story id
    finally:
        lsh.close()


def test_retiring_a_document_after_the_window_does_not_fail(client: redis.Redis, clock: Clock) -> None:
    """What pipeline/write.retire asks of the Redis stores, for a document pruned already."""
    lsh, store, groups = stores(client, clock)
    try:
        old = place(fight(RAHMAN_DOC, "Reuters"), lsh, store, groups)
        clock.now += 31 * DAY_S
        place(fight(RAHMAN_2_DOC, "AP"), lsh, store, groups)  # prunes `old`
        assert store.story_of(old.id) == ""
        with filed(groups, [Document(id=old.id, source="", raw_text="")]) as plan:
            assert plan.deleted == ()
        assert store.forget([old.id]) == set()
        assert lsh.forget([old.id]) == {}
        assert keys_naming(client, old.id) == []
    finally:
        lsh.close()
