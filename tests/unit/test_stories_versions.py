"""Near duplicates and versions: shingles, MinHash similarity, which copy search shows (pure)."""

from __future__ import annotations

import pytest

from pipeline.stories.versions import (
    NEAR_DUPLICATE,
    Version,
    choose_shown,
    minhash,
    older_versions,
    resolve,
    shingles,
    similarity,
)

ARTICLE = " ".join(
    f"Sentence {i} of the wire story says the ministers met in Brussels and agreed on item {i}."
    for i in range(40)
)


def test_shingles_are_word_five_grams() -> None:
    assert shingles("One two three four five six") == {b"one two three four five", b"two three four five six"}
    assert shingles("Too short") == {b"too short"}
    assert shingles("") == set()


@pytest.mark.parametrize(
    ("other", "near"),
    [
        (ARTICLE, True),
        (ARTICLE.replace("Sentence 7 of the wire story", "A late edit to the seventh sentence"), True),
        (ARTICLE + " Updated at noon with one more sentence about the talks.", True),
        (ARTICLE[: len(ARTICLE) // 2], False),  # half the text is not a copy
        ("An outlet's own report of the same meeting, in its own words, with other quotes.", False),
    ],
)
def test_minhash_similarity_finds_copies_not_rewrites(other: str, near: bool) -> None:
    assert (similarity(minhash(ARTICLE), minhash(other)) >= NEAR_DUPLICATE) == near


@pytest.mark.parametrize(
    ("group", "shown"),
    [
        # an update from the same outlet replaces the older text
        (
            [
                Version(id="a", outlet="BBC", published="2024-12-04"),
                Version(id="b", outlet="BBC", published="2024-12-05"),
            ],
            "b",
        ),
        # a syndicated copy points at the original outlet's article, even when it is newer
        (
            [
                Version(id="a", outlet="AP", published="2024-12-04"),
                Version(id="b", outlet="Yahoo", published="2024-12-05"),
            ],
            "a",
        ),
        # the original outlet's update wins over every syndicated copy
        (
            [
                Version(id="a", outlet="AP", published="2024-12-04T09:00"),
                Version(id="c", outlet="Yahoo", published="2024-12-04T10:00"),
                Version(id="b", outlet="AP", published="2024-12-04T11:00"),
            ],
            "b",
        ),
        # outlets unknown: arrival time decides, then the id
        (
            [
                Version(id="b", received_at="2024-12-04T09:00"),
                Version(id="a", received_at="2024-12-04T10:00"),
            ],
            "a",
        ),
        ([Version(id="b"), Version(id="a")], "b"),
    ],
)
def test_choose_shown(group: list[Version], shown: str) -> None:
    assert choose_shown(group) == shown
    assert choose_shown(list(reversed(group))) == shown  # never the arrival order


def test_resolve_and_versions() -> None:
    group = [
        Version(id="a", published="2024-12-04"),
        Version(id="b", published="2024-12-06"),
        Version(id="c", published="2024-12-05"),
    ]
    assert resolve(group) == {"a": "b", "b": "", "c": "b"}
    assert older_versions(group, "b") == ("a", "c")
