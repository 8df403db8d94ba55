"""The stories planner (pipeline/stories/plan.py): what a batch changes, as a table (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.document import Document
from pipeline.stories.plan import StoryPlan, plan_stories, story_records
from pipeline.stories.record import story_member, to_story_record
from tests.factories import make_claim, make_document, make_entity


def doc(doc_id: str, **fields: Any) -> Document:
    return make_document(f"Body of {doc_id}.", id=doc_id, title=doc_id.upper(), **fields)


A, B, C = doc("a"), doc("b"), doc("c")
NEW_A = doc("n", versions=("a",))  # a newer version of A: A becomes its copy


def plan(**kw: Any) -> dict[str, Any]:
    """The fields of a plan a row of the table states (members: their ids)."""
    p = StoryPlan(**kw)
    return {
        "labels": p.labels,
        "gens": p.gens,
        "restore": p.restore,
        "copies": p.copies,
        "rebuild": p.rebuild,
    }


CASES = [
    pytest.param(
        [(A, {"a": (1, "s-a")})],
        {"a": None},
        plan(labels={"a": (1, "s-a")}, rebuild=frozenset({"s-a"})),
        id="first label",
    ),
    pytest.param(
        [(A, {"a": (4, "s-a"), "b": (4, "s-a")})],
        {"a": (2, "s-a"), "b": (2, "s-b")},
        plan(labels={"a": (4, "s-a"), "b": (4, "s-a")}, rebuild=frozenset({"s-a", "s-b"})),
        id="a member moves: its old and new story rebuilt",
    ),
    pytest.param(
        [(A, {"a": (4, "s-a"), "b": (4, "s-a")})],
        {"a": (4, "s-a"), "b": (2, "s-a")},
        plan(gens={"b": (4, "s-a")}, rebuild=frozenset({"s-a"})),
        id="a member that stays: only its generation",
    ),
    pytest.param(
        [(A, {"a": (4, "s-a"), "b": (4, "s-a")})],
        {"a": (4, "s-a"), "b": (4, "s-a")},
        plan(rebuild=frozenset({"s-a"})),
        id="the document written with its label: nothing to write, its story rebuilt",
    ),
    pytest.param(
        [(A, {"a": (4, "s-a")})],
        {"a": (3, "s-a")},
        plan(labels={"a": (4, "s-a")}, rebuild=frozenset({"s-a"})),
        id="the document just written, its label older: labelled again",
    ),
    pytest.param(
        [(A, {"a": (3, "s-x"), "b": (3, "s-x")})],
        {"a": None, "b": (5, "s-y")},
        plan(labels={"a": (3, "s-x")}, rebuild=frozenset({"s-x"})),
        id="generation guard: an older label for another document is dropped",
    ),
    pytest.param(
        [(B, {"b": (3, "s-x")})],
        {"b": (5, "s-y")},
        plan(restore={"b": "s-y"}, rebuild=frozenset({"s-y"})),
        id="newer placement, own row rewritten: the stored story goes back",
    ),
    pytest.param(
        [(A, {"a": (2, "s-a"), "b": (2, "s-a")})],
        {"a": None},
        plan(labels={"a": (2, "s-a")}, rebuild=frozenset({"s-a"})),
        id="a document not written yet is left to its own write",
    ),
    pytest.param(
        [(A, {"a": (2, "s-a"), "b": (2, "s-a")}), (B, {"a": (1, "s-a"), "b": (1, "s-b")})],
        {"a": None, "b": None},
        plan(labels={"a": (2, "s-a"), "b": (2, "s-a")}, restore={}, rebuild=frozenset({"s-a"})),
        id="in a batch, each item sees the labels the ones before set",
    ),
    pytest.param(
        [(NEW_A, {"n": (3, "s-a"), "a": (3, "s-a")})],
        {"n": None, "a": (2, "s-a")},
        plan(labels={"n": (3, "s-a")}, gens={"a": (3, "s-a")}, copies={"a": "n"}, rebuild=frozenset({"s-a"})),
        id="a newer version marks its older one a copy",
    ),
    pytest.param(
        [(NEW_A, {"n": (3, "s-n")})],
        {"n": None},
        plan(labels={"n": (3, "s-n")}, rebuild=frozenset({"s-n"})),
        id="an older version not written yet is not marked",
    ),
    pytest.param(
        [],
        {"b": (2, "s-b"), "z": None},
        plan(copies={"b": "a", "z": "a"}, rebuild=frozenset({"s-b"})),
        id="copies marked late: the stories of those with a label rebuilt",
    ),
]


@pytest.mark.parametrize(("items", "stored", "expected"), CASES)
def test_plan(
    items: list[tuple[Document, dict[str, tuple[int, str]]]],
    stored: dict[str, tuple[int, str] | None],
    expected: dict[str, Any],
) -> None:
    copies = {"b": "a", "z": "a", "y": "a"} if not items else None  # y: not written, left alone
    assert (
        plan(**{k: v for k, v in vars(plan_stories(items, stored, copies=copies)).items() if k != "members"})
        == expected
    )


def test_the_written_documents_summaries_carry_their_copy_marks() -> None:
    got = plan_stories(
        [(A, {"a": (1, "s-a")}), (NEW_A, {"n": (2, "s-a"), "a": (2, "s-a")})], {"a": None, "n": None}
    )
    assert got.members == {"a": {**story_member(A), "duplicate_of": "n"}, "n": story_member(NEW_A)}


def test_a_records_members_come_from_summaries_and_an_empty_story_goes() -> None:
    assert story_records({"s-a": [story_member(A), story_member(B)], "s-c": []}) == {
        "s-a": to_story_record("s-a", [A, B]),
        "s-c": None,
    }


def test_a_summary_is_the_same_from_a_document_its_body_or_the_fields_elasticsearch_returns() -> None:
    from pipeline.elastic.records import from_es_source, to_es_body
    from pipeline.index import to_search_body
    from pipeline.stories.record import MEMBER_FIELDS

    full = doc(
        "d",
        outlet="One",
        published="2024-12-04",
        duplicate_of="a",
        sources=("x", "y"),
        entities=(make_entity("Mark Rutte"), make_entity("Brussels", "GPE")),
        claims=(make_claim("we will help", conflict=True), make_claim("we agree")),
    )
    es = to_es_body(full, indexed_at="2024-12-04T10:00:00+00:00")
    wanted = {f.split(".")[0] for f in MEMBER_FIELDS}
    cut = {
        k: (
            [{s: e[s] for s in e if f"{k}.{s}" in MEMBER_FIELDS} for e in v]
            if isinstance(v, list) and v and isinstance(v[0], dict)
            else v
        )
        for k, v in es.items()
        if k in wanted
    }
    assert story_member(full) == story_member(to_search_body(full)) == story_member(from_es_source(cut))
    assert story_member(full)["n_claims"] == 2
    assert story_member(full)["n_conflicting"] == 1
    undated = doc("u")
    assert (
        story_member(from_es_source(to_es_body(undated, indexed_at="2024-12-04T10:00:00+00:00")))["when"]
        == story_member(undated)["when"]
        == ""
    )
