"""The entity registry against a real private Redis: across documents, redelivered, concurrent."""

from __future__ import annotations

import itertools
import multiprocessing
import threading

import pytest
import redis

from pipeline.entities.local import LocalEntity, Mention
from pipeline.redis.entity_registry import RedisEntityRegistry

pytestmark = pytest.mark.integration


def entity(name: str, label: str = "PERSON") -> LocalEntity:
    return LocalEntity(
        name=name,
        label=label,
        mentions=[Mention(surface=name, name=name, label=label, start=0, end=len(name))],
    )


# One document each: a spelling of the foreign minister's name, and what surrounds it.
DOCS = {
    "a": [entity("Andrii Sybiha"), entity("NATO", "ORG"), entity("Kyiv", "GPE"), entity("Mark Rutte")],
    "b": [entity("Andriy Sibiga"), entity("NATO", "ORG"), entity("Kyiv", "GPE")],
    "c": [entity("Andriy Sybiha"), entity("Mark Rutte"), entity("Kyiv", "GPE")],
    "d": [entity("Sibiga"), entity("NATO", "ORG"), entity("Mark Rutte"), entity("Kyiv", "GPE")],
}


def registry(url: str, prefix: str = "test:entities") -> RedisEntityRegistry:
    return RedisEntityRegistry(redis.Redis.from_url(url), prefix=prefix)


SPELLINGS = {"Andrii Sybiha", "Andriy Sibiga", "Andriy Sybiha", "Sibiga"}


def minister_ids(reg: RedisEntityRegistry) -> set[str]:
    rows = reg.entities()
    return {row["id"] for row in rows if row["type"] == "PERSON" and SPELLINGS & set(row["variants"])}


@pytest.mark.parametrize("order", list(itertools.permutations("abcd"))[::5])
def test_spellings_of_one_name_get_one_canonical_in_any_order(
    private_redis: str,
    order: tuple[str, ...],
) -> None:
    reg = registry(private_redis)
    for doc_id in order:
        reg.resolve(doc_id, DOCS[doc_id])
    assert len(minister_ids(reg)) == 1
    rows = {row["canonical"]: row for row in reg.entities()}
    assert rows["NATO"]["documents"] == 3
    assert rows["Kyiv"]["documents"] == 4


def test_a_redelivered_document_gets_the_same_answer_and_counts_once(private_redis: str) -> None:
    reg = registry(private_redis)
    first = reg.resolve("a", DOCS["a"])
    again = reg.resolve("a", DOCS["a"])
    assert [r.id for r in again] == [r.id for r in first]
    assert {row["canonical"]: row["documents"] for row in reg.entities()}["Andrii Sybiha"] == 1


def test_different_people_with_one_surname_stay_apart(private_redis: str) -> None:
    reg = registry(private_redis)
    reg.resolve("x", [entity("Venus Williams"), entity("Wimbledon", "EVENT")])
    reg.resolve("y", [entity("Serena Williams"), entity("Wimbledon", "EVENT")])
    people = sorted(row["canonical"] for row in reg.entities() if row["type"] == "PERSON")
    assert people == ["Serena Williams", "Venus Williams"]


def _resolve_in_thread(url: str, prefix: str, doc_id: str, barrier: threading.Barrier) -> None:
    reg = registry(url, prefix)
    barrier.wait()
    reg.resolve(doc_id, DOCS[doc_id[0]])


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_workers_never_create_two_entities_for_one_name(private_redis: str, round_: int) -> None:
    prefix = f"race{round_}"
    doc_ids = [f"{key}{n}" for n in range(3) for key in "abc"]  # 9 documents at once
    barrier = threading.Barrier(len(doc_ids))
    threads = [
        threading.Thread(target=_resolve_in_thread, args=(private_redis, prefix, d, barrier)) for d in doc_ids
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    reg = registry(private_redis, prefix)
    rows = reg.entities()
    minister = minister_ids(reg)
    assert len(minister) == 1  # whichever spelling came first names it
    others = sorted(row["canonical"] for row in rows if row["id"] not in minister)
    assert others == ["Kyiv", "Mark Rutte", "NATO"]
    assert sum(row["documents"] for row in rows if row["canonical"] == "Kyiv") == len(doc_ids)


def _resolve_in_process(url: str, prefix: str, doc_id: str, start: multiprocessing.synchronize.Event) -> None:
    reg = registry(url, prefix)
    start.wait()
    reg.resolve(doc_id, DOCS[doc_id[0]])


def test_concurrent_worker_processes_agree_too(private_redis: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_resolve_in_process, args=(private_redis, "procs", d, start))
        for d in ("a1", "b1", "c1", "a2", "b2", "c2")
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    reg = registry(private_redis, "procs")
    minister = minister_ids(reg)
    assert len(minister) == 1
    assert sorted(row["canonical"] for row in reg.entities() if row["id"] not in minister) == [
        "Kyiv",
        "Mark Rutte",
        "NATO",
    ]


# ----------------------------------------------------------------------- renames
def test_a_better_name_learned_later_is_queued_once_for_the_documents_written_before(
    private_redis: str,
) -> None:
    reg = registry(private_redis)
    (short,) = [r for r in reg.resolve("d", DOCS["d"]) if r.label == "PERSON" and "ibiga" in r.canonical]
    assert short.canonical == "Sibiga"  # all the registry knew then
    reg.resolve("a", DOCS["a"])
    assert reg.current_names(["person:Sibiga", "person:Mark Rutte"]) == {"person:Sibiga": "Andrii Sybiha"}
    with reg.renames() as pending:
        assert pending == {"person:Sibiga": "Andrii Sybiha"}
        with registry(private_redis).renames() as other:  # another process meanwhile: nothing
            assert other == {}
    with reg.renames() as pending:
        assert pending == {}  # taken off once carried
    # the old name still maps to the entity's name for documents enriched before, written after
    assert reg.current_names(["person:Sibiga"]) == {"person:Sibiga": "Andrii Sybiha"}


def test_renames_stay_queued_when_carrying_them_failed(private_redis: str) -> None:
    reg = registry(private_redis)
    reg.resolve("d", DOCS["d"])
    reg.resolve("a", DOCS["a"])

    def carry() -> None:
        with reg.renames() as pending:
            assert pending
            raise RuntimeError("the index went away")

    with pytest.raises(RuntimeError, match="went away"):
        carry()
    with reg.renames() as pending:
        assert pending == {"person:Sibiga": "Andrii Sybiha"}


def test_index_sets_hold_entity_numbers(private_redis: str) -> None:
    """The lookup sets and the set of all entities keep the number of an entity ("e7" as
    7): Redis keeps a set of integers as an intset, a few bytes a member."""
    reg = registry(private_redis)
    (nato,) = reg.resolve("a", [entity("NATO", "ORG")])
    client = redis.Redis.from_url(private_redis)
    lookups = [k for k in client.scan_iter("test:entities:idx:*")]
    assert lookups
    assert all(client.smembers(k) == {nato.id[1:].encode()} for k in lookups)
    assert all(client.object("encoding", k) == b"intset" for k in [*lookups, b"test:entities:ids"])
    assert client.get("test:entities:doc:a") == f"[{nato.id[1:]}]".encode()


def test_a_registry_written_with_entity_ids_in_its_sets_is_read(private_redis: str) -> None:
    """Versions before kept entity ids ("e7") in the lookup sets, the set of all entities
    and a document's answer: they match, count and answer as before."""
    import json

    reg = registry(private_redis)
    first = reg.resolve("a", DOCS["a"])
    client = redis.Redis.from_url(private_redis)
    for key in [*client.scan_iter("test:entities:idx:*"), b"test:entities:ids"]:
        numbers = client.smembers(key)
        client.delete(key)
        client.sadd(key, *(b"e" + n for n in numbers))
    client.set("test:entities:doc:a", json.dumps([r.id for r in first]))
    assert reg.resolve("a", DOCS["a"]) == [
        type(r)(r.id, r.canonical, r.label, "seen") for r in first
    ]  # redelivered: the earlier answer
    reg.resolve("b", DOCS["b"])
    reg.resolve("c", DOCS["c"])
    assert len(minister_ids(reg)) == 1  # the spellings still meet the entity filed by id
    rows = {row["canonical"]: row for row in reg.entities()}
    assert rows["Kyiv"]["documents"] == 3
    assert len(reg.entities()) == len({row["id"] for row in reg.entities()})  # each listed once


def test_context_words_are_kept_as_integers(private_redis: str) -> None:
    """An entity's context words are hashed to 32-bit integers: an intset, 4 bytes a word."""
    reg = registry(private_redis)
    reg.resolve("a", DOCS["a"])
    client = redis.Redis.from_url(private_redis)
    sets = list(client.scan_iter("test:entities:e:*:cx"))
    assert len(sets) == 4  # each entity has the other three as its context
    assert all(client.object("encoding", k) == b"intset" and client.scard(k) >= 3 for k in sets)


def test_context_written_as_words_still_counts_and_is_converted(private_redis: str) -> None:
    """Versions before kept an entity's context as words (`e:<id>:ctx`): a surname alone
    still finds its person through them, and the set becomes integers when written."""
    from pipeline.entities.matching import context_words

    reg = registry(private_redis)
    reg.resolve("a", DOCS["a"])
    client = redis.Redis.from_url(private_redis)
    for key in list(client.scan_iter("test:entities:e:*:cx")):
        client.delete(key)
    words = context_words(DOCS["a"])
    for eid in (r["id"] for r in reg.entities()):
        client.sadd(f"test:entities:e:{eid}:ctx", *words)
    reg.resolve("d", DOCS["d"])  # "Sibiga" alone: matched by the context NATO, Rutte, Kyiv
    assert len(minister_ids(reg)) == 1
    assert not list(client.scan_iter("test:entities:e:*:ctx"))
    assert all(client.object("encoding", k) == b"intset" for k in client.scan_iter("test:entities:e:*:cx"))


def test_documents_recorded_as_a_set_before_the_count_are_counted(private_redis: str) -> None:
    """Versions before kept an entity's documents as a set (`e:<id>:docs`), not a count:
    they still count, with the documents counted since."""
    reg = registry(private_redis)
    (nato,) = reg.resolve("a", [entity("NATO", "ORG")])
    client = redis.Redis.from_url(private_redis)
    client.hdel(f"test:entities:e:{nato.id}", "docs")
    client.sadd(f"test:entities:e:{nato.id}:docs", "a", "old1", "old2")
    reg.resolve("b", [entity("NATO", "ORG")])
    assert {row["canonical"]: row["documents"] for row in reg.entities()}["NATO"] == 4


def test_an_entity_is_one_small_hash_with_its_names(private_redis: str) -> None:
    """Forms and variants are fields of the entity's hash ("f:<form>", "v:<as written>"),
    not sets of their own: one key an entity besides its context, kept as a listpack."""
    reg = registry(private_redis)
    for doc_id in "abcd":
        reg.resolve(doc_id, DOCS[doc_id])
    client = redis.Redis.from_url(private_redis)
    (minister,) = minister_ids(reg)
    key = f"test:entities:e:{minister}"
    assert client.object("encoding", key) == b"listpack"
    fields = {f.decode() for f in client.hkeys(key)}
    assert {f"v:{s}" for s in SPELLINGS} <= fields
    assert not list(client.scan_iter("test:entities:e:*:forms"))
    assert not list(client.scan_iter("test:entities:e:*:variants"))


def test_names_kept_as_sets_by_versions_before_still_match_and_list(private_redis: str) -> None:
    """Versions before kept an entity's forms and variants as sets: the same name in a
    later document still meets its entity through them, and the listing shows them."""
    places = [entity("Kyiv", "GPE"), entity("North Atlantic Treaty Organization", "ORG")]
    reg = registry(private_redis)
    reg.resolve("a", places)
    client = redis.Redis.from_url(private_redis)
    for eid in (r["id"] for r in reg.entities()):
        key = f"test:entities:e:{eid}"
        names = [f.decode() for f in client.hkeys(key) if f.decode().startswith(("f:", "v:"))]
        client.hdel(key, *names)
        client.sadd(f"{key}:forms", *(n[2:] for n in names if n.startswith("f:")))
        client.sadd(f"{key}:variants", *(n[2:] for n in names if n.startswith("v:")))
    reg.resolve("b", places)
    rows = reg.entities()
    assert sorted(r["canonical"] for r in rows) == ["Kyiv", "North Atlantic Treaty Organization"]
    assert all(r["documents"] == 2 and r["variants"] == [r["canonical"]] for r in rows)
