"""Story grouping: features, pair scores, clustering and the story record (pure)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from pipeline.document import Claim
from pipeline.index import to_search_body
from pipeline.stages.stories import assign_story, find_duplicates
from pipeline.stories import grouping
from pipeline.stories.features import StoryFeatures, name_key, stem, story_features
from pipeline.stories.record import to_story_record
from tests.factories import make_document, make_entity

RAHMAN = (
    "Wladimir Klitschko stopped Hasim Rahman in the seventh round in Mannheim, Germany on Saturday "
    "to retain his heavyweight titles. Rahman, 35, was a late substitute. Klitschko improved to 52-3."
)
RAHMAN_2 = (
    "Heavyweight champion Wladimir Klitschko beat American Hasim Rahman in seven rounds at the SAP Arena "
    "in Mannheim. Klitschko dominated Rahman from the opening bell and the referee stopped it."
)
THOMPSON = (
    "Wladimir Klitschko stopped Tony Thompson in the sixth round in Bern, Switzerland on Saturday to keep "
    "his heavyweight titles in July 2012. Thompson, 40, had lost to Klitschko before."
)
QUAKE = (
    "A magnitude 5.9 earthquake struck Qeshm island in southern Iran on Sunday, killing ten people and "
    "levelling seven villages, state television said."
)


def _doc(text: str, *names: tuple[str, str, int], published: str = "") -> object:
    entities = tuple(
        make_entity(n, label, count=count, start=text.find(n.split()[-1])) for n, label, count in names
    )
    return make_document(text, text=text, entities=entities, published=published)


RAHMAN_DOC = _doc(
    RAHMAN,
    ("Wladimir Klitschko", "PERSON", 2),
    ("Hasim Rahman", "PERSON", 2),
    ("Mannheim", "GPE", 1),
    published="2008-12-13",
)
RAHMAN_2_DOC = _doc(
    RAHMAN_2,
    ("Wladimir Klitschko", "PERSON", 2),
    ("Hasim Rahman", "PERSON", 2),
    ("Mannheim", "GPE", 1),
    published="2008-12-14",
)
THOMPSON_DOC = _doc(
    THOMPSON,
    ("Wladimir Klitschko", "PERSON", 2),
    ("Tony Thompson", "PERSON", 2),
    ("Bern", "GPE", 1),
    published="2012-07-07",
)
QUAKE_DOC = _doc(QUAKE, ("Qeshm", "GPE", 1), ("Iran", "GPE", 1))


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("pirates", "pirate"),
        ("Countries", "country"),
        ("Rutte's", "rutte"),
        ("press", "press"),
        ("bus", "bus"),
    ],
)
def test_stem_folds_plurals_and_possessives(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(
    ("canonical", "key"),
    [
        ("the Promises Treatment Center", "promises treatment center"),
        ("NATO", "nato"),
        ("  Mark   Rutte ", "mark rutte"),
    ],
)
def test_name_key_gives_one_spelling_per_name(canonical: str, key: str) -> None:
    assert name_key(canonical) == key


def test_features_hold_what_tells_events_apart() -> None:
    f = story_features(THOMPSON_DOC)
    assert f.years == (2012,)
    assert "40" in f.numbers
    assert story_features(QUAKE_DOC).lede_numbers == ("5.9",)
    assert ("thompson",) in f.who or ("tony", "thompson") in f.who
    assert "thompson" in f.vocab
    assert "the" not in f.terms  # the commonest words carry no weight
    assert StoryFeatures.from_dict(f.to_dict()) == f


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (RAHMAN_DOC, RAHMAN_2_DOC, True),  # one fight, two outlets' own words, a day apart
        (RAHMAN_DOC, THOMPSON_DOC, False),  # same champion, another opponent, years apart
        (RAHMAN_DOC, QUAKE_DOC, False),
    ],
)
def test_pair_score_separates_look_alike_events(a: object, b: object, same: bool) -> None:
    score = grouping.pair_score(story_features(a), story_features(b))
    assert (score >= grouping.THRESHOLD) == same, score


def test_undated_look_alikes_are_told_apart_only_by_other_signals() -> None:
    # Without dates the opponent alone is not enough evidence against: a known limit.
    undated = [replace(d, published="") for d in (RAHMAN_DOC, THOMPSON_DOC)]
    dated = grouping.pair_score(story_features(RAHMAN_DOC), story_features(THOMPSON_DOC))
    assert grouping.pair_score(*map(story_features, undated)) > dated


def test_pair_score_is_symmetric() -> None:
    a, b = story_features(RAHMAN_DOC), story_features(THOMPSON_DOC)
    assert grouping.pair_score(a, b) == pytest.approx(grouping.pair_score(b, a))


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        # a-b strong, c weakly tied to b only: the average to {a, b} is too low (and the
        # one link under RESCUE_LINK)
        ({("a", "b"): 0.9, ("b", "c"): 0.45}, {"a": "s-a", "b": "s-a", "c": "s-c"}),
        # c tied to both: it joins
        ({("a", "b"): 0.9, ("b", "c"): 0.8, ("a", "c"): 0.7}, {"a": "s-a", "b": "s-a", "c": "s-a"}),
        # a chain of strong links between two tight pairs does not glue them
        (
            {("a", "b"): 0.95, ("c", "d"): 0.95, ("b", "c"): 0.55},
            {"a": "s-a", "b": "s-a", "c": "s-c", "d": "s-c"},
        ),
        ({}, {"a": "s-a", "b": "s-b", "c": "s-c"}),
    ],
)
def test_cluster_is_average_link(edges: dict[tuple[str, str], float], expected: dict[str, str]) -> None:
    ids = sorted({x for pair in edges for x in pair} | {"a", "b", "c"})
    assert grouping.cluster(ids, edges, threshold=0.5) == expected


def test_a_small_story_with_one_strong_link_is_rescued(monkeypatch: pytest.MonkeyPatch) -> None:
    # c scores 0.6 with b only: average link leaves it apart (0.3 to {a, b}), the second
    # pass puts it with the bigger story of its best pair
    edges = {("a", "b"): 0.9, ("b", "c"): 0.6}
    monkeypatch.setattr(grouping, "RESCUE_LINK", 0.5)
    assert grouping.cluster("abc", edges, threshold=0.5) == {"a": "s-a", "b": "s-a", "c": "s-a"}
    monkeypatch.setattr(grouping, "RESCUE_LINK", 0.7)
    assert grouping.cluster("abc", edges, threshold=0.5)["c"] == "s-c"


def test_rescue_joins_only_a_bigger_story_and_only_small_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grouping, "RESCUE_LINK", 0.5)
    # two pairs of one size: neither is rescued into the other
    pairs = {("a", "b"): 0.95, ("c", "d"): 0.95, ("b", "c"): 0.6}
    assert len(set(grouping.cluster("abcd", pairs, threshold=0.7).values())) == 2
    # a story of more than SMALL_STORY articles stays apart however strong one link
    big = [f"x{i}" for i in range(grouping.SMALL_STORY + 1)]
    bigger = [f"y{i}" for i in range(grouping.SMALL_STORY + 2)]
    edges = {(a, b): 0.9 for group in (big, bigger) for a, b in itertools.combinations(group, 2)}
    edges["x0", "y0"] = 0.8
    labels = grouping.cluster(big + bigger, edges, threshold=0.5)
    assert labels["x0"] != labels["y0"]
    # a chain of small stories ends in the biggest: the single joins the pair, which joins
    # the story of three
    chain = {
        ("a", "b"): 0.9,
        ("a", "c"): 0.9,
        ("b", "c"): 0.9,
        ("d", "e"): 0.9,
        ("c", "d"): 0.6,
        ("e", "f"): 0.6,
    }
    assert set(grouping.cluster("abcdef", chain, threshold=0.7).values()) == {"s-a"}


def test_group_does_not_depend_on_input_order() -> None:
    features = [story_features(d) for d in (RAHMAN_DOC, RAHMAN_2_DOC, THOMPSON_DOC, QUAKE_DOC)]
    expected = grouping.group(features)
    for order in itertools.permutations(features):
        assert grouping.group(list(order)) == expected
    assert expected[RAHMAN_DOC.id] == expected[RAHMAN_2_DOC.id] != expected[THOMPSON_DOC.id]


def test_cluster_with_random_orders_of_many_ids() -> None:
    rng = random.Random(7)
    ids = [f"d{i:02d}" for i in range(30)]
    edges = {(a, b): rng.random() for a, b in itertools.combinations(ids, 2) if rng.random() < 0.3}
    expected = grouping.cluster(ids, edges)
    for _ in range(5):
        shuffled = ids[:]
        rng.shuffle(shuffled)
        assert grouping.cluster(shuffled, dict(sorted(edges.items(), key=lambda _: rng.random()))) == expected


def test_stages_without_shared_state_leave_the_document_alone() -> None:
    assert find_duplicates(RAHMAN_DOC, lsh=None) == RAHMAN_DOC
    assert assign_story(RAHMAN_DOC, stories=None) == RAHMAN_DOC


def test_story_record_lists_every_document_and_counts_claims() -> None:
    a = make_document(
        "a",
        title="Klitschko beats Rahman",
        outlet="BBC",
        published="2008-12-13",
        sources=("x.txt",),
        entities=(make_entity("Wladimir Klitschko"), make_entity("Hasim Rahman")),
        claims=(
            Claim(text="He was too strong", kind="direct"),
            Claim(text="7 rounds", kind="statement", conflict=True),
        ),
    )
    b = make_document(
        "b",
        title="Rahman stopped",
        outlet="ESPN",
        published="2008-12-14",
        sources=("y.txt", "z.txt"),
        duplicate_of="",
        entities=(make_entity("Wladimir Klitschko"),),
    )
    c = make_document(
        "c", title="Copy", outlet="ESPN", published="2008-12-15", duplicate_of=b.id, sources=("w.txt",)
    )
    record = to_story_record("s-1", [c, to_search_body(b), a])  # as the index stores it
    assert record["id"] == "s-1"
    assert record["title"] == "Klitschko beats Rahman"
    assert (record["first_seen"], record["last_seen"]) == ("2008-12-13", "2008-12-15")
    assert record["outlets"] == ["BBC", "ESPN"]
    assert record["documents"] == [a.id, b.id, c.id]
    assert record["duplicates"] == [c.id]
    assert record["sources"] == ["w.txt", "x.txt", "y.txt", "z.txt"]
    assert record["top_entities"][0] == {"name": "Wladimir Klitschko", "label": "PERSON", "documents": 2}
    assert (record["n_claims"], record["n_conflicting_claims"]) == (2, 1)


# -- bounded work per arrival: candidates, copies, attach, naming ----------------------------


@pytest.mark.parametrize(
    ("hits", "k", "expected"),
    [
        (["b", "c", "b", "me", "d", "c", "b"], 2, ["b", "c"]),  # most shared keys first
        (["d", "c", "d", "c"], 5, ["c", "d"]),  # ties break on the id
        (["me", "me"], 3, []),  # never itself
    ],
)
def test_rank_candidates_keeps_the_k_most_shared(hits: list[str], k: int, expected: list[str]) -> None:
    assert grouping.rank_candidates(hits, "me", k) == expected


def test_a_reordered_copy_is_a_twin_and_another_write_up_is_not() -> None:
    sentences = RAHMAN.split(". ")
    reordered = ". ".join([sentences[0], *reversed(sentences[1:])])
    copy = _doc(reordered, ("Wladimir Klitschko", "PERSON", 2), ("Hasim Rahman", "PERSON", 2))
    original = story_features(RAHMAN_DOC)
    assert grouping.twin_of(story_features(copy), [story_features(THOMPSON_DOC), original]) == original.id
    assert grouping.twin_of(story_features(RAHMAN_2_DOC), [original, story_features(THOMPSON_DOC)]) == ""


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"a1": 0.9, "a2": 0.8, "b1": 0.95}, "s-a"),  # average over the whole story: 0.85 > 0.475
        ({"a1": 0.9, "b1": 0.6, "b2": 0.6}, "s-b"),  # 0.45 and 0.6 against b
        ({"a1": 0.5, "b1": 0.5}, ""),  # 0.25 each: below the threshold, a story of its own
    ],
)
def test_attach_picks_the_best_average_link(scores: dict[str, float], expected: str) -> None:
    stories = {"s-a": ["a1", "a2"], "s-b": ["b1", "b2"]}
    assert grouping.attach(scores, stories, threshold=0.45) == expected


@pytest.mark.parametrize(
    ("labels", "followers", "expected"),
    [
        # a copy takes its original's story; the story is named after its smallest member, copy included
        ({"b": "s-b", "c": "s-b"}, {"a": "b"}, {"a": "s-a", "b": "s-a", "c": "s-a"}),
        ({"b": "s-b", "d": "s-d"}, {"e": "d", "f": "e"}, {"b": "s-b", "d": "s-d", "e": "s-d", "f": "s-d"}),
        ({"b": "s-b"}, {"c": "gone"}, {"b": "s-b", "c": "s-c"}),  # an unknown original: alone
    ],
)
def test_name_stories_places_copies_with_their_original(
    labels: dict[str, str], followers: dict[str, str], expected: dict[str, str]
) -> None:
    assert grouping.name_stories(labels, followers) == expected


def test_copies_weigh_in_the_average_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grouping, "RESCUE_LINK", 1.0)  # average link alone, no second pass
    # c is tied to a (0.9) and to b (0.2): alone with {a, b} the average is 0.55
    edges = {("a", "b"): 0.9, ("a", "c"): 0.9, ("b", "c"): 0.2}
    assert set(grouping.cluster("abc", edges, threshold=0.5).values()) == {"s-a"}
    # b syndicated three more times: {a, b} is mostly b now, and c (0.9 + 4 * 0.2) / 5 = 0.34 stays out
    assert grouping.cluster("abc", edges, threshold=0.5, weights={"b": 4})["c"] == "s-c"


def _fight(opponent: str, place: str, text: str) -> object:
    return _doc(
        text,
        ("Wladimir Klitschko", "PERSON", 3),
        (opponent, "PERSON", 2),
        (place, "GPE", 2),
    )


RAHMAN_GROUP = [
    _fight("Hasim Rahman", "Mannheim", RAHMAN),
    _fight("Hasim Rahman", "Mannheim", RAHMAN_2),
]
THOMPSON_GROUP = [
    _fight("Tony Thompson", "Bern", THOMPSON),
    _fight(
        "Tony Thompson",
        "Bern",
        "Klitschko beat Tony Thompson in Bern to keep his heavyweight titles; Thompson was stopped "
        "in the sixth round in Bern.",
    ),
]


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        (RAHMAN_GROUP, THOMPSON_GROUP, True),  # each has an opponent the other never names
        (RAHMAN_GROUP[:1], RAHMAN_GROUP[1:], False),  # one article each: not enough to say
        (RAHMAN_GROUP, [*RAHMAN_GROUP[::-1]], False),  # the same fight
    ],
)
def test_two_events_needs_a_signature_on_each_side(a: list[object], b: list[object], apart: bool) -> None:
    fa, fb = [story_features(d) for d in a], [story_features(d) for d in b]
    assert grouping.two_events(fa, fb) == apart


def test_cluster_keeps_two_events_apart_whatever_their_pair_scores() -> None:
    features = {f.id: f for f in map(story_features, RAHMAN_GROUP + THOMPSON_GROUP)}
    ids = sorted(features)
    fight = {story_features(d).id: n for n, group in enumerate([RAHMAN_GROUP, THOMPSON_GROUP]) for d in group}
    # every pair looks alike (0.7), each fight's own reports a bit more (0.9)
    edges = {(a, b): 0.9 if fight[a] == fight[b] else 0.7 for i, a in enumerate(ids) for b in ids[i + 1 :]}
    assert len(set(grouping.cluster(ids, edges, threshold=0.5).values())) == 1
    split = grouping.cluster(ids, edges, threshold=0.5, features=features)
    rahman = {split[story_features(d).id] for d in RAHMAN_GROUP}
    thompson = {split[story_features(d).id] for d in THOMPSON_GROUP}
    assert len(rahman) == len(thompson) == 1
    assert rahman != thompson
