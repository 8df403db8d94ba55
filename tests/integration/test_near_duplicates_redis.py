"""The near-duplicate index's layout in Redis (pipeline/redis/story_store.NearDuplicates),
against a real private Redis: one record per document, one hash per band holding packed
document names, no key per document; the layout before it (datasketch's) refiled."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
import redis
from datasketch import MinHashLSH

from pipeline.redis.retention import DAY_S, Retention
from pipeline.redis.story_store import NearDuplicates
from pipeline.stories import versions
from tests.conftest import Clock

pytestmark = pytest.mark.integration

VOCABULARY = [f"w{i}" for i in range(5000)]


def index(client: redis.Redis, clock: Clock, prefix: str = "nd") -> NearDuplicates:
    return NearDuplicates(client, prefix=prefix, retention=Retention(clock=clock, prune_every_s=0))


def article(seed: int, words: int = 400) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def edited(text: str, changes: int, seed: int = 0) -> str:
    """`text` with `changes` of its words replaced."""
    words = text.split()
    rng = random.Random(seed)
    for i in rng.sample(range(len(words)), changes):
        words[i] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


def version(doc_id: str, outlet: str = "x", day: int = 1) -> versions.Version:
    return versions.Version(id=doc_id, outlet=outlet, received_at=f"2024-01-{day:02d}T08:00:00")


def names_in_bands(client: redis.Redis, prefix: str) -> list[Counter[bytes]]:
    """Per band: how many times each document name is filed in it (in its 256 hashes)."""
    out = []
    for band in range(9):
        counts: Counter[bytes] = Counter()
        for key in client.scan_iter(f"{prefix}:b:{band}:*"):
            for bucket in client.hvals(key):
                counts.update(bucket[i : i + 8] for i in range(0, len(bucket), 8))
        out.append(counts)
    return out


def kinds_of_keys(client: redis.Redis) -> set[str]:
    """The keys, with a band's hashes as one, "nd:b:<band>", and the arrival sets as one,
    "nd:arrived"."""
    return {":".join(k.decode().split(":")[: 2 if ":arrived" in k.decode() else 3]) for k in client.keys("*")}


def test_a_copy_matches_with_the_signatures_similarity_and_other_texts_do_not(
    client: redis.Redis, clock: Clock
) -> None:
    near = index(client, clock)
    original = article(1)
    assert near.match(version("a"), versions.minhash(original)) == (version("a"), [])
    for changes, copy_id in ((4, "b"), (12, "c")):
        copy = edited(original, changes, seed=changes)
        me, found = near.match(version(copy_id, day=2), versions.minhash(copy))
        assert me == version(copy_id, day=2)
        assert [v.id for v, _ in found] == ["a"]  # b and c differ in 16 words: no copies
        # The stored 16-bit values give the full MinHash's estimate on these pairs.
        assert found[0][1] == versions.similarity(versions.minhash(original), versions.minhash(copy))
        assert found[0][1] >= 0.8
    # Another text is no copy; one that shares a third of the words neither.
    assert near.match(version("d"), versions.minhash(article(2)))[1] == []
    half = " ".join(original.split()[:130] + article(3).split()[130:])
    assert near.match(version("e"), versions.minhash(half))[1] == []
    assert near.shown_instead(["a"]) == {"a": "c"}  # the newest version of the outlet


def test_a_document_is_filed_once_per_band_and_no_key_names_it(client: redis.Redis, clock: Clock) -> None:
    near = index(client, clock)
    for i in range(30):
        near.match(version(f"doc{i}"), versions.minhash(article(100 + i)))
    again, _ = near.match(version("doc0", outlet="later", day=9), versions.minhash(article(100)))
    assert again == version("doc0")  # the first sighting's facts
    assert kinds_of_keys(client) == {"nd:d", "nd:arrived", *(f"nd:b:{i}" for i in range(9))}
    assert len(client.keys("nd:b:*")) <= 9 * 30  # a band's buckets in at most 256 hashes
    assert {client.object("encoding", k) for k in client.keys("nd:b:*")} == {b"listpack"}
    assert client.hlen("nd:d") == 30
    for counts in names_in_bands(client, "nd"):
        assert len(counts) == 30
        assert set(counts.values()) == {1}
    assert near.query(versions.minhash(article(105))) == ["doc5"]


def test_forget_and_prune_take_a_document_out_of_every_band(client: redis.Redis, clock: Clock) -> None:
    near = index(client, clock)
    original = article(7)
    near.match(version("old"), versions.minhash(original))
    clock.now += 20 * DAY_S
    near.match(version("copy", day=21), versions.minhash(edited(original, 3)))
    near.match(version("other", day=21), versions.minhash(article(8)))
    named = [set(c) for c in names_in_bands(client, "nd")]
    assert all(len(n) == 3 for n in named)

    assert near.shown_instead(["old"]) == {"old": "copy"}  # the newer version is shown
    assert near.forget(["copy"]) == {"old": ""}  # and now the older, itself
    assert near.query(versions.minhash(original)) == ["old"]
    assert client.hlen("nd:d") == 2
    assert all(len(set(c)) == 2 for c in names_in_bands(client, "nd"))

    clock.now += 11 * DAY_S  # "old" is past the window, "other" is not
    assert near.prune() == 1
    assert near.query(versions.minhash(original)) == []
    assert near.query(versions.minhash(article(8))) == ["other"]
    assert all(len(set(c)) == 1 for c in names_in_bands(client, "nd"))
    clock.now += 30 * DAY_S
    assert near.prune() == 1
    assert client.keys("nd:*") == []  # emptied buckets and bands go


def older_layout(client: redis.Redis, prefix: str, docs: dict[str, tuple[str, str]], when: float) -> None:
    """File `docs` (id -> (text, outlet)) as the code before this layout did: datasketch's
    LSH in Redis, the MinHash values in `<prefix>:mh`, the facts in `<prefix>:meta`."""
    lsh = MinHashLSH(
        threshold=versions.NEAR_DUPLICATE,
        num_perm=versions.NUM_PERM,
        storage_config={
            "type": "redis",
            "basename": f"{prefix}:lsh".encode(),
            "redis": {"connection_pool": client.connection_pool},
        },
    )
    for doc_id, (text, outlet) in docs.items():
        mh = versions.minhash(text)
        facts = {"outlet": outlet, "published": "", "received_at": "2024-01-01T08:00:00"}
        client.hset(f"{prefix}:mh", doc_id, mh.hashvalues.tobytes())
        client.hsetnx(f"{prefix}:meta", doc_id, json.dumps(facts))
        client.zadd(f"{prefix}:arrived", {doc_id: when})
        lsh.insert(doc_id, mh, check_duplication=False)


def test_the_older_layout_is_refiled_at_the_first_turn_and_its_keys_deleted(
    client: redis.Redis, clock: Clock
) -> None:
    texts = {f"old{i}": (article(200 + i), f"outlet{i}") for i in range(12)}
    older_layout(client, "nd", texts, clock.now)
    assert any(k.startswith(b"nd:lsh") for k in client.keys("*"))
    near = index(client, clock)
    copy = edited(texts["old3"][0], 5)
    clock.now += 10 * DAY_S
    _, found = near.match(version("new", day=2), versions.minhash(copy))  # the turn refiles first
    assert [(v.id, v.outlet) for v, _ in found] == [("old3", "outlet3")]
    assert found[0][1] == versions.similarity(versions.minhash(texts["old3"][0]), versions.minhash(copy))
    assert client.hlen("nd:d") == 13
    assert near.migrate() == 0  # nothing left: datasketch's keys and the older hashes go
    assert kinds_of_keys(client) == {
        "nd:d",
        "nd:arrived",
        "nd:shown",
        *(f"nd:b:{i}" for i in range(9)),
    }
    # The refiled documents leave with the window as the others do (but the one shown
    # instead of the new copy, which lives as long as it).
    clock.now += 21 * DAY_S
    assert near.prune() == 11
    assert near.query(versions.minhash(texts["old5"][0])) == []
    assert near.query(versions.minhash(copy)) == ["new", "old3"]


def test_an_older_document_not_yet_refiled_can_be_forgotten(client: redis.Redis, clock: Clock) -> None:
    original = article(300)
    older_layout(client, "nd", {"old": (original, "o")}, clock.now)
    near = NearDuplicates(client, prefix="nd", retention=Retention(clock=clock, prune_every_s=10**9))
    near.arrivals.turn()  # this process's turn is spent: nothing is refiled by the match below
    near.arrivals.release()
    near.match(version("copy", day=2), versions.minhash(edited(original, 2)))
    client.hset("nd:shown", "old", "copy")
    assert near.forget(["copy"]) == {"old": ""}  # its facts are read from the older hash
    assert near.forget(["old"]) == {}
    assert client.hexists("nd:mh", "old") == 0
    assert client.hexists("nd:meta", "old") == 0
