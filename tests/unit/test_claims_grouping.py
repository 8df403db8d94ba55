"""Grouping claims across documents and flagging conflicting figures (pipeline/claims/grouping.py)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from pipeline.claims.figures import parse_figures
from pipeline.claims.grouping import (
    ClaimRef,
    clauses,
    group_refs,
    match_keys,
    pack_units,
    unpack_units,
    words,
)


def ref(key: str, speaker: str, text: str) -> ClaimRef:
    return ClaimRef(
        key=key, doc_id=key.split(":")[0], speaker=speaker, text=text, figures=parse_figures(text)
    )


SYBIHA_20 = ref(
    "a:1", "Andrii Sybiha", "his country needed another 20 air defence systems to protect its power grid"
)
SYBIHA_19 = ref(
    "b:1",
    "Andrii Sybiha",
    "Ukraine needs at least 19 additional air defense systems to protect the population",
)
PEACE_A = ref(
    "a:2", "Mark Rutte", "Putin is not interested in peace. He is pressing on, trying to take more territory."
)
PEACE_B = ref(
    "c:2",
    "Mark Rutte",
    "Mr. Putin is not interested in peace, He is continuing his efforts to seize territory",
)
MORE = ref(
    "c:3", "Mark Rutte", "We all need to do more. The stronger our military support, the stronger our hand."
)
OTHER_SPEAKER = ref(
    "d:1", "Vladimir Putin", "Putin is not interested in peace. He is pressing on, trying to take more."
)


def groups_of(refs: list[ClaimRef]) -> dict[str, str]:
    return {k: g.group for k, g in group_refs(refs).items()}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("defence", "defense"),
        ("Nato", "NATO"),
        ("systems", "system"),
        ("emphasised", "emphasized"),
        ("needed", "needs"),
    ],
)
def test_spelling_case_and_inflection_fold_together(a: str, b: str) -> None:
    assert words(a) == words(b)


def test_same_statement_in_two_outlets_is_one_group_and_different_figures_conflict() -> None:
    grouped = group_refs([SYBIHA_20, SYBIHA_19])
    assert grouped["a:1"].group == grouped["b:1"].group
    assert grouped["a:1"].conflict
    assert grouped["b:1"].conflict


def test_same_figures_do_not_conflict() -> None:
    same = ref(
        "b:1", "Andrii Sybiha", "Ukraine needs another 20 air defense systems to protect its power grid"
    )
    assert not group_refs([SYBIHA_20, same])["a:1"].conflict


def test_different_statements_and_different_speakers_stay_apart() -> None:
    groups = groups_of([PEACE_A, PEACE_B, MORE, OTHER_SPEAKER])
    assert groups["a:2"] == groups["c:2"]
    assert len({groups["a:2"], groups["c:3"], groups["d:1"]}) == 3


def test_groups_do_not_depend_on_arrival_order() -> None:
    refs = [SYBIHA_20, SYBIHA_19, PEACE_A, PEACE_B, MORE, OTHER_SPEAKER]
    results = {tuple(sorted(groups_of(list(p)).items())) for p in itertools.permutations(refs)}
    assert len(results) == 1


def test_outlet_statements_group_only_through_the_same_figure() -> None:
    a = ref("a:9", "", "On Monday, the US announced a new weapons package for Ukraine worth $725m.")
    b = ref("b:9", "", "The United States unveiled a $725m weapons package for Ukraine on Monday.")
    c = ref("c:9", "", "The United States has sent more than $61 billion worth of weapons to Ukraine.")
    groups = groups_of([a, b, c])
    assert groups["a:9"] == groups["b:9"] != groups["c:9"]


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("the organisation analysed its defence", "the organization analyzed its defense"),
        ("the centre of the labour movement", "the center of the labor movement"),
        ("they travelled to the theatre", "they traveled to the theater"),
    ],
)
def test_uk_and_us_spellings_are_one_word(british: str, american: str) -> None:
    assert words(british) == words(american)


@pytest.mark.parametrize("text", ["four", "hour", "prize"])
def test_a_short_or_guarded_word_keeps_its_spelling(text: str) -> None:
    """The one UK/US table (pipeline/search/spelling.py) leaves "four" alone: it is not "for"."""
    assert words(text) == [text]


TEXTS = [r.text for r in (SYBIHA_20, SYBIHA_19, PEACE_A, PEACE_B, MORE, OTHER_SPEAKER)] + [
    "",
    "…",
    "U.S. officials said: “we’ll see” – and then—nothing; really? Yes!",
    "the defence systems, the defense system, and the N.A.T.O. summit's end",
    "3:30 p.m., 19–20 March",
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_claims_clause_words_packed_come_back_the_same(text: str) -> None:
    packed = pack_units(clauses(text))
    assert unpack_units(packed) == clauses(text)
    assert all("=" not in p for p in packed)  # the whole text's words are the clauses' together


def test_claims_kept_without_their_text_group_as_with_it() -> None:
    """The registry keeps a claim's clause words, not its text: the groups are the same."""
    refs = [SYBIHA_20, SYBIHA_19, PEACE_A, PEACE_B, MORE, OTHER_SPEAKER]
    kept = [replace(r, text="", units=unpack_units(pack_units(clauses(r.text)))) for r in refs]
    assert group_refs(kept) == group_refs(refs)
    assert [match_keys(k) for k in kept] == [match_keys(r) for r in refs]
