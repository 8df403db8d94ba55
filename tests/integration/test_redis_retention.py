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
from pipeline.redis.retention import DAY_S, REDELIVERY_PARTS, Arrivals, Retention, arrival_name
from pipeline.redis.split import SHARDS
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
    """Every key, hash field, set or sorted-set member that names `doc_id`, as it is or
    in 16 bytes (`arrival_name`; datasketch's buckets included: they hold the id
    pickled)."""
    found = []
    names = {doc_id.encode(), arrival_name(doc_id)}

    def named(members: Any) -> bool:
        return any(n in m for m in members for n in names)

    for raw in client.scan_iter(count=1000):
        key = raw.decode("utf-8", "replace")
        kind = client.type(raw).decode()
        if doc_id in key:
            found.append(key)
        elif kind == "hash" and named(client.hkeys(raw)):
            found.append(f"{key}[{doc_id}]")
        elif kind == "set" and named(client.smembers(raw)):
            found.append(f"{key}{{{doc_id}}}")
        elif kind == "zset" and named(client.zrange(raw, 0, -1)):
            found.append(f"{key}<{doc_id}>")
        elif kind == "list" and named(client.lrange(raw, 0, -1)):
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


HEX_IDS = [f"{n:032x}" for n in range(1, 6)]


def arrival_sets(client: redis.Redis, key: str) -> list[bytes]:
    """The sorted sets an `Arrivals` at `key` keeps its members in."""
    return sorted(k for k in client.scan_iter(match=f"{key}:*") if client.type(k) == b"zset")


def test_an_arrival_set_names_a_content_id_in_17_bytes(client: redis.Redis, clock: Clock) -> None:
    """A 32-hex id is kept as a zero byte and its 16 bytes, and read back as the id;
    another id as it is."""
    arrivals = Arrivals(client, "t:a", retention(clock))
    pipe = client.pipeline()
    arrivals.note(pipe, *HEX_IDS, "doc-a")
    pipe.execute()
    members = [m for k in arrival_sets(client, "t:a") for m in client.zrange(k, 0, -1)]
    assert sorted(members) == sorted([b"doc-a", *(arrival_name(d) for d in HEX_IDS)])
    assert {len(m) for m in members} == {5, 17}
    clock.now += 31 * DAY_S
    assert sorted(arrivals.due()) == sorted([*HEX_IDS, "doc-a"])


def test_arrivals_are_split_over_sets_small_enough_to_stay_compact(client: redis.Redis, clock: Clock) -> None:
    """3,000 documents' arrivals, split over SHARDS sorted sets that Redis keeps as
    listpacks, take under 50 bytes a document; one sorted set of them (a skiplist past
    128 members), as versions before kept, over 100. The oldest still come due first."""
    ids = [f"{n:032x}" for n in range(1000, 4000)]
    arrivals = Arrivals(client, "t:split", retention(clock))
    for doc_id in ids:
        clock.now += 1
        pipe = client.pipeline()
        arrivals.note(pipe, doc_id)
        pipe.execute()
    client.zadd("t:one", {arrival_name(d): clock.now for d in ids})
    sets = arrival_sets(client, "t:split")
    assert len(sets) == SHARDS
    assert {client.object("encoding", k) for k in sets} == {b"listpack"}
    split = sum(int(client.memory_usage(k, samples=0) or 0) for k in sets)
    one = int(client.memory_usage("t:one", samples=0) or 0)
    assert split < 50 * len(ids) < 100 * len(ids) < one, (split, one)
    clock.now += 30 * DAY_S - 1999.5  # past the window for the first 1,000
    assert arrivals.due(limit=10) == ids[:10]
    assert arrivals.due(limit=5000) == ids[:1000]


def test_arrivals_the_versions_before_wrote_are_read_and_pruned(client: redis.Redis, clock: Clock) -> None:
    """Members of the one set versions before kept (`t:a`), the ids as they are or in 16
    bytes, come due and go; a document noted again since, in its set of the split, lives
    on with its later arrival, and the old member it left behind goes when due comes to it."""
    arrivals = Arrivals(client, "t:a", retention(clock))
    old, renoted, named = HEX_IDS[0], HEX_IDS[1], HEX_IDS[2]
    client.zadd(
        "t:a", {old: clock.now, renoted: clock.now, "doc-b": clock.now, arrival_name(named): clock.now}
    )
    clock.now += 20 * DAY_S
    pipe = client.pipeline()
    arrivals.note(pipe, renoted)  # in the new layout, while its old member is there
    pipe.execute()
    clock.now += 11 * DAY_S  # 31 days after the first arrivals, 11 after `renoted`'s second
    assert arrivals.still_due([old, renoted, "doc-b", named, HEX_IDS[3]]) == [old, "doc-b", named]
    assert sorted(arrivals.due()) == sorted([old, "doc-b", named])
    assert client.zscore("t:a", renoted) is None  # its older member, left behind, is gone
    home, member = arrivals.home(renoted)
    assert home != "t:a"
    assert member == arrival_name(renoted)
    assert client.zscore(home, member) == clock.now - 11 * DAY_S
    pipe = client.pipeline()
    arrivals.forget(pipe, [old, "doc-b", named])
    pipe.execute()
    assert not client.exists("t:a")
    clock.now += 20 * DAY_S
    assert arrivals.due() == [renoted]


def test_an_old_member_noted_again_by_the_version_before_outlives_the_new_one(
    client: redis.Redis, clock: Clock
) -> None:
    """During an upgrade a worker of a version before may note a document again in the
    one set it kept: its arrival is the later of its members, whichever layout."""
    arrivals = Arrivals(client, "t:a", retention(clock))
    doc = HEX_IDS[3]
    pipe = client.pipeline()
    arrivals.note(pipe, doc)
    pipe.execute()
    clock.now += 20 * DAY_S
    client.zadd("t:a", {doc: clock.now}, gt=True)  # the version before, noting it again
    clock.now += 11 * DAY_S
    assert arrivals.still_due([doc]) == []
    assert arrivals.due() == []
    assert client.zscore(*arrivals.home(doc)) is None  # the older member went
    clock.now += 20 * DAY_S
    assert arrivals.due() == [doc]


def test_what_a_redelivery_reads_notes_arrivals_in_fewer_parts(client: redis.Redis, clock: Clock) -> None:
    """A day of documents is a thirtieth of the window's: their arrival sets (the entity
    answers', the placements') are split over REDELIVERY_PARTS parts, not a window's
    SHARDS, which at a few hundred documents a day would be a key a document."""
    r = retention(clock)
    registry = RedisEntityRegistry(client, prefix="t:e", retention=r)
    store = StoryStore(client, prefix="t:s", retention=r)
    ids = [f"{n:032x}" for n in range(5000)]
    for arrivals in (registry.arrivals, store.placements):
        assert len({arrivals.home(d)[0] for d in ids}) == REDELIVERY_PARTS < SHARDS
    assert len({store.arrivals.home(d)[0] for d in ids}) == SHARDS
