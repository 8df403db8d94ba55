"""Duplicates and stories against a real private Redis, in many orders and concurrently."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from pipeline.document import Document
from pipeline.redis.retention import DAY_S, Retention
from pipeline.redis.split import SplitHash
from pipeline.redis.story_store import NearDuplicates, StoryStore, _edge_doc, _unpack_placed
from pipeline.run import build_stages, run_stages
from pipeline.sources.files import read_dropped_file
from pipeline.stages.stories import assign_story, find_duplicates
from pipeline.stories import grouping
from pipeline.stories.features import story_features
from tests.conftest import REPO, Clock, Newsflow
from tests.factories import make_document, make_entity
from tests.unit.test_stories import RAHMAN, RAHMAN_2

pytestmark = pytest.mark.integration

SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds" / "documents").glob("*.txt"))


@pytest.fixture(scope="module")
def enriched() -> list[Document]:
    """The seeds through the workers' own stages up to claims (no shared state yet)."""
    from workers.resources import get_nlp

    stages = [s for s in build_stages(nlp=get_nlp()) if s.name not in ("find_duplicates", "assign_story")]
    return [run_stages(read_dropped_file(p, max_bytes=5_000_000), stages) for p in SEEDS]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_seeds_form_one_story_in_any_order(private_redis: str, enriched: list[Document], seed: int) -> None:
    client = redis.Redis.from_url(private_redis)
    lsh, stories = NearDuplicates(client, prefix=f"o{seed}:d"), StoryStore(client, prefix=f"o{seed}:s")
    order = enriched[:]
    random.Random(seed).shuffle(order)
    try:
        for doc in order:
            assign_story(find_duplicates(doc, lsh=lsh), stories=stories)
        labels = stories.all_labels()
    finally:
        lsh.close()
        client.close()
    assert set(labels) == {d.id for d in enriched}
    assert len(set(labels.values())) == 1


def test_features_are_stored_compressed_and_plain_json_is_still_read(
    private_redis: str, enriched: list[Document]
) -> None:
    """A document's features are kept compressed (under half their JSON); features that
    versions before kept as plain JSON still make a later seed join their story."""
    client = redis.Redis.from_url(private_redis)
    first, *others = enriched
    store = StoryStore(client, prefix="fz:s")
    story = store.add(story_features(first))
    raw = client.get(f"fz:s:f:{first.id}")
    plain = json.dumps(story_features(first).to_dict()).encode()
    assert raw is not None
    assert len(raw) < len(plain) / 2
    client.set(f"fz:s:f:{first.id}", plain)
    fresh = StoryStore(client, prefix="fz:s")  # nothing parsed yet in this process
    assert fresh.add(story_features(others[0])) == story


def test_edges_name_neighbours_in_16_bytes_and_text_names_are_still_read(
    private_redis: str, enriched: list[Document]
) -> None:
    """An edge hash names a neighbour by a zero byte and the 16 bytes of its 32-hex id
    (half the bytes); edge hashes written with the ids as text, as versions before did,
    still hold the seeds' story together."""
    client = redis.Redis.from_url(private_redis)
    store = StoryStore(client, prefix="ed:s")
    first, second, *rest = enriched
    for doc in (first, second):
        store.add(story_features(doc))
    names = {f for k in client.scan_iter("ed:s:e:*") for f in client.hkeys(k)}
    assert names
    assert all(len(n) == 17 and n[:1] == b"\x00" for n in names)
    assert {n[1:].hex() for n in names} <= {first.id, second.id}
    for key in list(client.scan_iter("ed:s:e:*")):
        edges = client.hgetall(key)
        client.delete(key)
        client.hset(key, mapping={n[1:].hex(): v for n, v in edges.items()})
    fresh = StoryStore(client, prefix="ed:s")
    for doc in rest:
        fresh.add(story_features(doc))
    assert len({fresh.story_of(doc.id) for doc in enriched}) == 1


def test_edge_scores_are_kept_in_millionths_and_scores_with_a_point_are_still_read(
    private_redis: str, enriched: list[Document]
) -> None:
    """An edge keeps its pair score as an integer of millionths (the score to 6 decimals);
    edges written with the point, as versions before did, give a placement the same
    scores, so the seeds end in one story either way."""
    client = redis.Redis.from_url(private_redis)
    first, second, *rest = enriched
    store = StoryStore(client, prefix="es:s")
    for doc in (first, second):
        store.add(story_features(doc))
    expected = grouping.pair_score(story_features(second), story_features(first))
    assert expected >= store.floor
    values = client.hvals(f"es:s:e:{second.id}")  # the edge is the second's: it scored it
    assert values == [str(round(expected * 1_000_000)).encode()]
    assert store._edges([first.id, second.id]) == {tuple(sorted((first.id, second.id))): round(expected, 6)}
    for key in list(client.scan_iter("es:s:e:*")):  # as versions before wrote them
        client.hset(key, mapping={n: f"{int(v) / 1_000_000:.6f}" for n, v in client.hgetall(key).items()})
    fresh = StoryStore(client, prefix="es:s")
    assert client.hvals(f"es:s:e:{second.id}") == [f"{expected:.6f}".encode()]
    assert fresh._edges([first.id, second.id]) == {tuple(sorted((first.id, second.id))): round(expected, 6)}
    for doc in rest:
        fresh.add(story_features(doc))
    assert len({fresh.story_of(doc.id) for doc in enriched}) == 1


def test_postings_name_documents_in_17_bytes_and_ids_as_text_are_still_read_and_taken_out(
    private_redis: str, enriched: list[Document]
) -> None:
    """The blocking postings name a document as its edges do (a zero byte and 16 bytes);
    postings that name it by its id as text, as versions before wrote them, still find the
    seeds' story, and forgetting a document takes it out of them in either form."""
    client = redis.Redis.from_url(private_redis)
    store = StoryStore(client, prefix="pk:s")
    first, second, *rest = enriched
    for doc in (first, second):
        store.add(story_features(doc))
    keys = list(client.scan_iter("pk:s:k:*"))
    members = {m for k in keys for m in client.zrange(k, 0, -1)}
    assert members == {b"\x00" + bytes.fromhex(d.id) for d in (first, second)}
    for key in keys:  # as versions before wrote them
        scored = client.zrange(key, 0, -1, withscores=True)
        client.delete(key)
        client.zadd(key, {m[1:].hex(): score for m, score in scored})
    fresh = StoryStore(client, prefix="pk:s")
    for doc in rest:
        fresh.add(story_features(doc))
    assert len({fresh.story_of(doc.id) for doc in enriched}) == 1
    fresh.forget([first.id, *(d.id for d in rest)])
    left = {m for k in client.scan_iter("pk:s:k:*") for m in client.zrange(k, 0, -1)}
    assert left == {second.id.encode()}


def test_two_concurrent_workers_agree_with_the_batch_grouping(
    private_redis: str, enriched: list[Document]
) -> None:
    other = [
        Document(id=f"x{i}", source=f"x{i}", raw_text=t, text=t)
        for i, t in enumerate(
            [
                "A magnitude 5.9 earthquake struck Qeshm island in southern Iran, killing ten people.",
                "The Indian Navy captured 23 Somali pirates in the Gulf of Aden after an attack.",
                "Heavy rain flooded Passau in Bavaria; the Danube rose above its 2002 level.",
            ]
        )
    ]
    docs = enriched + other
    expected = grouping.group([story_features(d) for d in docs])
    for round_ in range(3):
        shuffled = docs[:]
        random.Random(round_).shuffle(shuffled)
        halves = [shuffled[0::2], shuffled[1::2]]
        errors: list[BaseException] = []

        def work(
            batch: list[Document], prefix: str = f"c{round_}", errors: list[BaseException] = errors
        ) -> None:
            client = redis.Redis.from_url(private_redis)  # each worker has its own connection
            lsh, stories = (
                NearDuplicates(client, prefix=f"{prefix}:d"),
                StoryStore(client, prefix=f"{prefix}:s"),
            )
            try:
                for doc in batch:
                    assign_story(find_duplicates(doc, lsh=lsh), stories=stories)
            except BaseException as exc:
                errors.append(exc)
            finally:
                lsh.close()
                client.close()

        threads = [threading.Thread(target=work, args=(h,)) for h in halves]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        with redis.Redis.from_url(private_redis) as client:
            labels = StoryStore(client, prefix=f"c{round_}:s").all_labels()
        assert labels == expected
        assert len({labels[d.id] for d in enriched}) == 1
        assert not {labels[d.id] for d in other} & {labels[d.id] for d in enriched}


def _edit_one_sentence(text: str) -> str:
    """The seed with its longest line's first sentence rewritten."""
    lines = text.splitlines()
    i = max(range(len(lines)), key=lambda n: len(lines[n]))
    first, _, rest = lines[i].partition(". ")
    lines[i] = "An editor rewrote this opening sentence to add a late detail from the briefing. " + rest
    assert lines[i] != first
    return "\n".join(lines)


@pytest.fixture
def lsh(private_redis: str) -> Iterator[NearDuplicates]:
    client = redis.Redis.from_url(private_redis)
    store = NearDuplicates(client, prefix="nd")
    yield store
    store.close()
    client.close()


def _edited(original: Document, received_at: str) -> Document:
    """`original` with one sentence rewritten, received at `received_at`."""
    text = _edit_one_sentence(original.text)
    return Document(id="edited", source="edited.txt", raw_text=text, text=text, received_at=received_at)


def test_near_duplicate_edit_is_marked_and_the_newer_text_is_shown(
    lsh: NearDuplicates, enriched: list[Document]
) -> None:
    original = enriched[0]
    edited = _edited(original, "2099-01-01T00:00:00+00:00")
    assert find_duplicates(original, lsh=lsh).duplicate_of == ""
    marked = find_duplicates(edited, lsh=lsh)
    assert marked.duplicate_of == ""  # the newer version is the one search shows
    assert marked.versions == (original.id,)
    assert marked.similarity is not None
    assert marked.similarity >= 0.8
    again = find_duplicates(original, lsh=lsh)  # the original seen again, after the update
    assert again.duplicate_of == "edited"
    for other in enriched[1:]:  # other outlets' own write-ups are not copies
        assert find_duplicates(other, lsh=lsh).duplicate_of == ""


def test_the_older_text_dropped_again_after_its_update_stays_the_copy(
    lsh: NearDuplicates, enriched: list[Document]
) -> None:
    original = replace(enriched[0], published="", received_at="2099-01-01T00:00:00+00:00")
    edited = _edited(original, "2099-01-02T00:00:00+00:00")
    find_duplicates(original, lsh=lsh)
    assert find_duplicates(edited, lsh=lsh).duplicate_of == ""
    dropped_again = replace(original, source="again.txt", received_at="2099-01-03T00:00:00+00:00")
    assert find_duplicates(dropped_again, lsh=lsh).duplicate_of == "edited"
    assert lsh.shown_instead([original.id]) == {original.id: "edited"}


def test_pipeline_end_to_end_dedups_and_groups(newsflow: Newsflow, tmp_path: Path) -> None:
    """Two worker processes; every seed dropped twice plus one edited seed."""
    inbox = tmp_path / "inbox"
    for folder in ("a", "b"):
        (inbox / folder).mkdir(parents=True)
        for p in SEEDS:
            shutil.copy(p, inbox / folder / f"{folder}-{p.name}")
    edited = _edit_one_sentence(SEEDS[0].read_text(encoding="utf-8"))
    (inbox / "edited.txt").write_text(edited, encoding="utf-8")
    newsflow("run", str(inbox), "--workers", "2", "--timeout", "280")

    docs: list[dict[str, Any]] = [json.loads(line) for line in newsflow("export").stdout.splitlines() if line]
    assert len(docs) == len(SEEDS) + 1  # ten seed files are five documents; the edit is one more
    assert all(len(d["sources"]) == 2 for d in docs if not d["source"].endswith("edited.txt"))
    stories = newsflow.json_lines("stories")
    assert len(stories) == 1
    assert sorted(stories[0]["documents"]) == sorted(d["id"] for d in docs)
    assert {"id", "title", "sources"} <= set(stories[0])
    assert len(stories[0]["sources"]) == 2 * len(SEEDS) + 1

    copies = [d for d in docs if d["duplicate_of"]]
    assert len(copies) == 1  # the original and its edit: one points at the other
    shown = {d["id"] for d in docs} - {copies[0]["id"]}
    assert copies[0]["duplicate_of"] in shown
    hits = newsflow.json_lines("search", "Rutte", "--limit", "20")
    assert copies[0]["id"] not in {h["id"] for h in hits}
    assert len(hits) == len({h["id"] for h in hits})

    shown_story = newsflow("show", stories[0]["id"], "--json").stdout
    assert json.loads(shown_story)["id"] == stories[0]["id"]


_STALE_WRITE = """
import sys
from dataclasses import replace
from pathlib import Path

from pipeline.sources.files import read_dropped_file
from pipeline.index import without_bulk
from pipeline.run import run_stages
from pipeline.write import write_batch, write_documents
from workers.resources import get_ledger, get_stages, get_write_stores

first, second = (without_bulk(run_stages(read_dropped_file(Path(p), max_bytes=10**7), get_stages()))
                 for p in sys.argv[1:])
seen_by_first = get_ledger().add_doc_sources([(first.id, first.source)])[0]  # the first reads...
write_batch([second], get_write_stores())  # ...the second adds its source and writes...
write_documents([replace(first, sources=tuple(seen_by_first))], get_write_stores())  # ...the first writes
"""


def test_a_writer_that_read_the_sources_before_a_copy_arrived_does_not_drop_the_copy(
    newsflow: Newsflow, private_redis: str, tmp_path: Path
) -> None:
    """The same file dropped in two folders, both copies written at once: the index,
    the story and the claims each end with both sources, whichever write lands last."""
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / SEEDS[1].name)
        shutil.copy(SEEDS[1], paths[-1])
    newsflow.env["NEWSFLOW_REDIS_URL"] = private_redis
    subprocess.run(
        [sys.executable, "-c", _STALE_WRITE, *map(str, paths)],
        env=newsflow.env,
        cwd=REPO,
        check=True,
        timeout=120,
    )

    both = sorted(str(p) for p in paths)
    (doc,) = [json.loads(line) for line in newsflow("export").stdout.splitlines() if line]
    assert doc["sources"] == both
    (story,) = newsflow.json_lines("stories")
    assert story["sources"] == both
    groups = newsflow.json_lines("claims", "--statements")
    assert groups
    assert all(g["sources"] == both for g in groups)


# -- bounded work per arrival, on small hand-made articles ----------------------------------

RAHMAN_COPY = (  # RAHMAN with its sentences in another order: a copy, not a write-up
    "Rahman, 35, was a late substitute. Klitschko improved to 52-3. Wladimir Klitschko stopped Hasim "
    "Rahman in the seventh round in Mannheim, Germany on Saturday to retain his heavyweight titles."
)


def _fight(text: str, published: str = "", **fields: Any) -> Document:
    names = [("Wladimir Klitschko", "PERSON", 2), ("Hasim Rahman", "PERSON", 2), ("Mannheim", "GPE", 1)]
    entities = tuple(
        make_entity(n, label, count=count, start=max(0, text.find(n.split()[-1])))
        for n, label, count in names
    )
    return make_document(text, text=text, entities=entities, published=published, **fields)


@pytest.fixture
def store(private_redis: str) -> Iterator[StoryStore]:
    client = redis.Redis.from_url(private_redis)
    yield StoryStore(client, prefix="t")
    client.close()


def _edges(store: StoryStore, doc: Document) -> dict[bytes, bytes]:
    return store.r.hgetall(f"t:e:{doc.id}")


def test_a_document_is_scored_against_at_most_k_candidates(private_redis: str) -> None:
    client = redis.Redis.from_url(private_redis)
    store = StoryStore(client, prefix="k", candidates=3)
    pool = ["arena", "referee", "uppercut", "jab", "promoter", "crowd"]
    pool += ["bell", "canvas", "southpaw", "trainer", "corner", "knockdown"]
    reports = [  # eight write-ups of one fight, each with words of its own (not copies)
        _fight(f"Klitschko beat Rahman in Mannheim. The {pool[n]} and the {pool[n + 4]} made report {n}.")
        for n in range(8)
    ]
    try:
        for doc in reports:
            assign_story(doc, stories=store)
        assert len(client.hgetall(f"k:e:{reports[-1].id}")) == 3  # seven filed before it, three scored
        assert len({story for _, story in store.labels(d.id for d in reports).values()}) == 1
    finally:
        client.close()


@pytest.mark.parametrize(
    ("second_published", "same_story"),
    [
        ("2008-12-14", True),  # the next day: a candidate, the same fight
        ("2009-06-14", False),  # half a year later: outside the window, never compared
    ],
)
def test_candidates_come_from_the_time_window(
    store: StoryStore, second_published: str, same_story: bool
) -> None:
    first = assign_story(_fight(RAHMAN, "2008-12-13"), stories=store)
    second = assign_story(_fight(RAHMAN_2, second_published), stories=store)
    assert (first.story_id == store.story_of(second.id)) == same_story
    assert bool(_edges(store, second)) == same_story


@pytest.mark.parametrize("marked", [True, False])  # by find_duplicates, or found by its words
def test_a_copy_joins_its_originals_story_without_being_scored(store: StoryStore, marked: bool) -> None:
    original = assign_story(_fight(RAHMAN), stories=store)
    other = assign_story(_fight(RAHMAN_2), stories=store)
    copy = _fight(RAHMAN_COPY, duplicate_of=original.id if marked else "")
    placed = assign_story(copy, stories=store)
    assert placed.story_id == store.story_of(original.id) == store.story_of(other.id)
    assert placed.story_id == grouping.story_id([original.id, other.id, copy.id])
    assert _edges(store, copy) == {}
    assert SplitHash("t:copy").hmget(store.r, [copy.id]) == [original.id.encode()]


def test_each_edge_is_kept_once_by_the_document_that_scored_it(store: StoryStore) -> None:
    """An edge lives in the later document's hash only; the earlier one's placement as an
    original, its copies' and its forgetting find it there all the same."""
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    assert _edges(store, first) == {}
    assert set(_edges(store, second)) == {b"\x00" + bytes.fromhex(first.id)}
    pair = tuple(sorted((first.id, second.id)))
    assert set(store._edges([first.id, second.id])) == {pair}
    copy = assign_story(_fight(RAHMAN_COPY, duplicate_of=first.id), stories=store)
    assert copy.story_id == store.story_of(second.id) == grouping.story_id([first.id, second.id, copy.id])
    # The first document leaves: its copy takes its place, with the edge the second scored.
    store.forget([first.id])
    assert set(store._edges([copy.id, second.id])) == {tuple(sorted((copy.id, second.id)))}
    named = {f for k in store.r.scan_iter("t:e:*") for f in store.r.hkeys(k)}
    assert b"\x00" + bytes.fromhex(first.id) not in named
    store.forget([copy.id])  # the heir leaves in turn: nothing names it either
    assert {f for k in store.r.scan_iter("t:e:*") for f in store.r.hkeys(k)} == set()
    assert store.story_of(second.id) == grouping.story_id([first.id, second.id, copy.id])


def _filed(client: redis.Redis, prefix: str) -> set[bytes]:
    """The documents filed (their features kept), as ids."""
    return {k.removeprefix(f"{prefix}:f:".encode()) for k in client.scan_iter(f"{prefix}:f:*")}


def _loose_edges(client: redis.Redis, prefix: str) -> list[Any]:
    """Edge hashes of documents not filed, and edges naming a document not filed."""
    filed = _filed(client, prefix)
    loose: list[Any] = []
    for key in client.scan_iter(f"{prefix}:e:*"):
        if key.removeprefix(f"{prefix}:e:".encode()) not in filed:
            loose.append(key)
        loose += [(key, f) for f in client.hkeys(key) if _edge_doc(f).encode() not in filed]
    return loose


WORDS = ["arena", "referee", "uppercut", "jab", "promoter", "crowd", "bell", "canvas", "southpaw"]


def _report(n: int, tag: str) -> Document:
    """One of several write-ups of one fight, each with words of its own (not copies)."""
    if tag == "new":
        return _fight(f"In Mannheim the {WORDS[8 - n]} saw Rahman lose: Klitschko was fast, {tag} {n} said.")
    return _fight(f"Klitschko beat Rahman in Mannheim. The {WORDS[n]} and the {WORDS[n + 3]} made {tag} {n}.")


def test_pruning_takes_out_the_edges_that_name_the_documents_pruned(private_redis: str) -> None:
    """An edge is kept by the later document only: pruning the earlier one takes it out
    of the later one's hash, which stays filed; nothing names the earlier one after."""
    client = redis.Redis.from_url(private_redis)
    clock = Clock()
    retention = Retention(window_s=30 * DAY_S, clock=clock, prune_every_s=0)
    store = StoryStore(client, prefix="pe", retention=retention)
    try:
        first = assign_story(_report(0, "early"), stories=store)
        clock.now += 10 * DAY_S
        second = assign_story(_report(1, "later"), stories=store)
        assert client.hkeys(f"pe:e:{second.id}") == [b"\x00" + bytes.fromhex(first.id)]
        clock.now += 21 * DAY_S
        assert store.prune() == 1
        assert client.exists(f"pe:e:{second.id}") == 0
        assert [k for k in client.scan_iter("pe:*") if first.id.encode() in k] == []
        assert _filed(client, "pe") == {second.id.encode()}
        assert _loose_edges(client, "pe") == []
    finally:
        client.close()


def test_a_document_is_filed_by_its_features_and_the_day_hash_of_versions_before_goes_with_it(
    private_redis: str,
) -> None:
    """No hash of days: a document's features say it is filed, and their date its day. An
    entry versions before wrote there is taken out when its document is pruned."""
    client = redis.Redis.from_url(private_redis)
    clock = Clock()
    store = StoryStore(
        client, prefix="pd", retention=Retention(window_s=30 * DAY_S, clock=clock, prune_every_s=0)
    )
    try:
        first = assign_story(_report(0, "early"), stories=store)
        assert client.exists("pd:day") == 0
        client.hset("pd:day", first.id, 0)  # as a version before noted it filed
        clock.now += 10 * DAY_S
        second = assign_story(_report(1, "later"), stories=store)
        assert client.hkeys(f"pd:e:{second.id}") == [b"\x00" + bytes.fromhex(first.id)]  # both filed
        clock.now += 21 * DAY_S
        assert store.prune() == 1
        assert _filed(client, "pd") == {second.id.encode()}
        assert client.exists("pd:day") == 0
    finally:
        client.close()


def test_pruning_while_a_worker_links_leaves_no_edge_to_a_document_gone(private_redis: str) -> None:
    """One worker prunes the documents past the window while another links new ones to
    them: whichever comes first, every edge left joins two filed documents."""
    client = redis.Redis.from_url(private_redis)
    with ThreadPoolExecutor(2) as pool:
        for n in range(8):
            now, late = Clock(), Clock()
            pruner = StoryStore(client, prefix=f"pw{n}", retention=Retention(window_s=30 * DAY_S, clock=now))
            linker = StoryStore(client, prefix=f"pw{n}", retention=Retention(window_s=30 * DAY_S, clock=late))
            for i in range(6):
                assign_story(_report(i, "old"), stories=linker)
            late.now += 5 * DAY_S  # the new ones: within the window at the pruner's time
            now.now += 31 * DAY_S  # the old ones: past it
            barrier = threading.Barrier(2)

            def prune(pruner: StoryStore = pruner, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                pruner.prune()

            def link(linker: StoryStore = linker, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                for i in range(6):
                    assign_story(_report(i, "new"), stories=linker)

            for done in [pool.submit(prune), pool.submit(link)]:
                done.result()
            # (an old one a new one copies stays: its copy keeps it within the window)
            copied = set(SplitHash(f"pw{n}:copy").hgetall(client).values())
            old = {_report(i, "old").id.encode() for i in range(6)}
            assert _filed(client, f"pw{n}") & old <= copied, f"round {n}"
            assert _loose_edges(client, f"pw{n}") == [], f"round {n}"
    client.close()


def test_edges_kept_in_both_hashes_as_versions_before_did_are_read_and_taken_out(store: StoryStore) -> None:
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    for (score,) in [store.r.hvals(f"t:e:{second.id}")]:  # the reverse copy, as written before
        store.r.hset(f"t:e:{first.id}", second.id, f"{int(score) / 1_000_000:.6f}")
    assert set(store._edges([first.id, second.id])) == {tuple(sorted((first.id, second.id)))}
    third = assign_story(_fight(RAHMAN_COPY, duplicate_of=first.id), stories=store)
    assert third.story_id == store.story_of(second.id)
    store.forget([second.id])
    assert store.r.hgetall(f"t:e:{first.id}") == {}
    assert store.r.keys("t:e:*") == []


def test_a_storys_members_are_one_string_of_16_byte_ids_and_sets_are_still_read(store: StoryStore) -> None:
    """A story's members are kept as the 16 bytes of each id, in order, in one string;
    stories kept as sets of the ids, as versions before did, are read, grown and left."""
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    story = second.story_id
    both = sorted([first.id, second.id])
    assert store.r.get(f"t:m:{story}") == bytes.fromhex("".join(both))
    assert store.rebuild_view([story])[1] == {story: both}
    store.r.delete(f"t:m:{story}")  # as versions before wrote it
    store.r.sadd(f"t:m:{story}", *both)
    assert store.rebuild_view([story])[1] == {story: both}
    copy = assign_story(_fight(RAHMAN_COPY, duplicate_of=first.id), stories=store)
    three = sorted([*both, copy.id])
    assert store.r.keys("t:m:*") == [f"t:m:{copy.story_id}".encode()]  # named after its smallest
    story = copy.story_id
    assert store.r.get(f"t:m:{story}") == bytes.fromhex("".join(three))  # written whole anew
    store.forget([second.id])  # leaves the string
    assert store.rebuild_view([story])[1] == {story: sorted([first.id, copy.id])}
    store.r.delete(f"t:m:{story}")
    store.r.sadd(f"t:m:{story}", first.id, copy.id)
    store.forget([copy.id])  # leaves the set
    assert store.r.smembers(f"t:m:{story}") == {first.id.encode()}
    store.forget([first.id])
    assert store.r.keys("t:m:*") == []


@pytest.mark.parametrize("as_set", [False, True], ids=["string", "set as versions before"])
def test_documents_of_one_story_taken_out_together_all_leave_its_members(
    store: StoryStore, as_set: bool
) -> None:
    """Several documents of a story forgotten (or pruned) at once leave its member list in
    one pass, the string as the set of versions before."""
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    copy = assign_story(_fight(RAHMAN_COPY, duplicate_of=first.id), stories=store)
    story = copy.story_id
    assert store.rebuild_view([story])[1] == {story: sorted([first.id, second.id, copy.id])}
    if as_set:
        store.r.delete(f"t:m:{story}")
        store.r.sadd(f"t:m:{story}", first.id, second.id, copy.id)
    store.forget([second.id, copy.id])
    assert store.rebuild_view([story])[1] == {story: [first.id]}


def test_labels_name_documents_and_stories_in_16_bytes_and_text_labels_are_still_read(
    store: StoryStore,
) -> None:
    """A label is kept under the document's 17-byte name, its story id in 16 bytes and
    then its generation; labels written as versions before did ("<gen> <story>" under the
    id) are read the same, count as placed, and go with their document."""
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    story = second.story_id
    labels = store.labels([first.id, second.id])
    split = SplitHash("t:label")
    name = b"\x00" + bytes.fromhex(second.id)
    assert store.r.hget(split.part(name), name) == b"\x00" + bytes.fromhex(story.removeprefix("s-")) + b"2"
    for field in split.hgetall(store.r):  # as versions before wrote them: in one hash, by id
        gen, old = labels[field[1:].hex()]
        store.r.hdel(split.part(field), field)
        store.r.hset("t:label", field[1:].hex(), f"{gen} {old}")
    assert store.labels([first.id, second.id]) == labels
    assert store.all_labels() == {first.id: story, second.id: story}
    assert assign_story(_fight(RAHMAN_2), stories=store).story_id == story  # placed already
    assert store.labels([second.id]) == {second.id: labels[second.id]}
    copy = assign_story(_fight(RAHMAN_COPY, duplicate_of=first.id), stories=store)
    assert store.all_labels() == dict.fromkeys([first.id, second.id, copy.id], copy.story_id)
    store.forget([first.id, second.id, copy.id])
    assert split.hgetall(store.r) == {}


def test_a_marked_copy_months_later_is_placed_on_its_own_merits(store: StoryStore) -> None:
    original = assign_story(_fight(RAHMAN, "2008-12-13"), stories=store)
    later = assign_story(_fight(RAHMAN_2, "2009-12-13", duplicate_of=original.id), stories=store)
    assert SplitHash("t:copy").hmget(store.r, [later.id]) == [None]
    assert later.story_id != original.story_id


def test_the_index_writer_gets_every_label_a_placement_changed(store: StoryStore) -> None:
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    labels = store.component_labels(second.id)
    # A story is named after its smallest member: the first document moves only if the
    # second one renamed their story; a member that stays keeps its label (no rewrite).
    moved = first.story_id != second.story_id
    assert set(labels) == ({first.id, second.id} if moved else {second.id})
    assert {story for _, story in labels.values()} == {second.story_id}
    assert all(gen == 2 for gen, _ in labels.values())  # written by the second placement
    assert store.labels([first.id]) == {first.id: (2 if moved else 1, second.story_id)}


def test_a_member_that_stays_keeps_its_label_when_the_story_grows(store: StoryStore) -> None:
    docs = [_fight(RAHMAN), _fight(RAHMAN_2)]
    first = assign_story(min(docs, key=lambda d: d.id), stories=store)  # names the story
    second = assign_story(max(docs, key=lambda d: d.id), stories=store)
    assert second.story_id == first.story_id == grouping.story_id([first.id])
    assert store.component_labels(second.id) == {second.id: (2, first.story_id)}
    assert store.labels([first.id]) == {first.id: (1, first.story_id)}


def test_the_index_writer_gets_the_stories_a_placement_changed_and_their_members(
    store: StoryStore,
) -> None:
    first = assign_story(_fight(RAHMAN), stories=store)
    assert store.changed_stories([first.id]) == {first.story_id}  # a new story
    second = assign_story(_fight(RAHMAN_2), stories=store)
    # the first story gained a member, or is gone if the joint one is named after the second
    assert store.changed_stories([second.id]) == {first.story_id, second.story_id}
    number, members = store.rebuild_view([second.story_id, "s-none"])
    assert members == {second.story_id: sorted([first.id, second.id]), "s-none": []}
    later, _ = store.rebuild_view([])
    assert later > number  # every rebuild reads under a higher number


def test_what_a_placement_changed_is_one_field_of_a_shared_hash(store: StoryStore) -> None:
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    assert store.r.keys("t:t:*") == store.r.keys("t:c:*") == []  # no key per document
    assert set(store.r.hkeys("t:placed")) == {first.id.encode(), second.id.encode()}
    raw = store.r.hget("t:placed", second.id)
    moved, changed = _unpack_placed(raw)
    assert raw == b"\x01" + len(moved).to_bytes(2, "big") + b"".join(
        bytes.fromhex(x.removeprefix("s-")) for x in [*moved, *changed]
    )  # 16 bytes an id
    assert second.id not in moved  # the document placed is always relabelled: not repeated
    assert set(changed) == store.changed_stories([second.id])
    labels = store.component_labels(second.id)
    # As versions before wrote it, a JSON list: the same answers.
    store.r.hset("t:placed", second.id, json.dumps([moved, changed]))
    assert store.changed_stories([second.id]) == set(changed)
    assert store.component_labels(second.id) == labels
    store.forget([second.id])
    assert set(store.r.hkeys("t:placed")) == {first.id.encode()}


def test_what_an_earlier_version_kept_per_placement_is_still_read(store: StoryStore) -> None:
    first = assign_story(_fight(RAHMAN), stories=store)
    second = assign_story(_fight(RAHMAN_2), stories=store)
    store.r.delete("t:placed")
    # As the version before wrote them: a key per document, every document relabelled in t:.
    store.r.set(f"t:t:{second.id}", json.dumps(sorted([first.id, second.id])))
    store.r.set(f"t:c:{second.id}", json.dumps(["s-earlier"]))
    assert store.component_labels(second.id) == store.labels([first.id, second.id])
    assert store.changed_stories([second.id]) == {"s-earlier"}
    # Nothing kept at all (placed before either): the stories of its component.
    assert store.changed_stories([first.id]) == {second.story_id}
    store.forget([first.id, second.id])
    assert store.r.keys("t:t:*") == store.r.keys("t:c:*") == []


def test_rebuild_numbers_keep_growing_after_the_store_is_emptied(store: StoryStore) -> None:
    """Records written under the old numbers stay in Elasticsearch when the story store is
    a new one (a new local Redis): the numbers follow the clock, so new rebuilds still win."""
    number, _ = store.rebuild_view([])
    store.r.flushdb()
    again, _ = store.rebuild_view([])
    assert again > number > 1_600_000_000 * 1_000_000  # microseconds since 1970


def test_the_same_document_twice_is_placed_once(store: StoryStore) -> None:
    doc = _fight(RAHMAN)
    assert assign_story(doc, stories=store).story_id == assign_story(doc, stories=store).story_id
    assert store.labels([doc.id])[doc.id][0] == 1  # no second generation


def test_two_copies_of_one_text_placed_at_the_same_moment_leave_one_original(private_redis: str) -> None:
    """Each may see the other as its twin; exactly one becomes the copy, the other stays
    filed (a candidate for later articles) and both land in one story."""
    client = redis.Redis.from_url(private_redis, decode_responses=True)
    raw = redis.Redis.from_url(private_redis)  # the store's: as the workers', binary-safe
    with ThreadPoolExecutor(2) as pool:
        for n in range(30):
            store = StoryStore(raw, prefix=f"twins{n}")
            docs = [_fight(RAHMAN), _fight(RAHMAN_COPY)]
            barrier = threading.Barrier(2)

            def place(doc: Document, store: StoryStore = store, barrier: threading.Barrier = barrier) -> str:
                barrier.wait()
                return assign_story(doc, stories=store).story_id

            list(pool.map(place, docs))  # re-raises what a thread raised
            copies = SplitHash(f"twins{n}:copy").hgetall(client)
            assert len(copies) == 1, f"round {n}: copies {copies}"
            (original,) = {d.id for d in docs} - set(copies)
            assert client.exists(f"twins{n}:f:{original}")
            assert client.hgetall(f"twins{n}:e:{original}") == {}  # no edge to its own copy
            story = grouping.story_id([d.id for d in docs])
            assert store.story_of(docs[0].id) == store.story_of(docs[1].id) == story
    client.close()
    raw.close()
