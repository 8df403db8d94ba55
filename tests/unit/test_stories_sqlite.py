"""The embedded stories table: labels by generation, records rebuilt, versions hidden (real SQLite)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.sqlite.index import SqliteIndex
from pipeline.sqlite.stories import SqliteStories
from tests.factories import make_document

A = make_document("Alpha body about the summit.", text="Alpha body about the summit.", title="Alpha")
B = make_document("Beta body about the summit.", text="Beta body about the summit.", title="Beta")
C = make_document("Gamma body about a flood.", text="Gamma body about a flood.", title="Gamma")


def _setup(tmp_path: Path) -> tuple[SqliteIndex, SqliteStories]:
    index = SqliteIndex(tmp_path / "index.sqlite3")
    index.write([A, B, C])
    return index, SqliteStories(tmp_path / "index.sqlite3")


def test_newer_generation_wins_whatever_the_order_of_writes(tmp_path: Path) -> None:
    index, stories = _setup(tmp_path)
    stories.update(A, {A.id: (5, "s-1"), B.id: (5, "s-1")})
    stories.update(B, {B.id: (3, "s-2")})  # a slower worker with an older view
    assert stories.story_of(B.id) == "s-1"
    assert index.get(B.id)["story_id"] == "s-1"
    assert [r["id"] for r in stories.all()] == ["s-1"]
    assert sorted(stories.get("s-1")["documents"]) == sorted([A.id, B.id])


def test_a_slow_writer_does_not_leave_its_older_story_on_the_document_it_rewrites(tmp_path: Path) -> None:
    index, stories = _setup(tmp_path)
    stories.update(A, {A.id: (5, "s-1"), B.id: (5, "s-1")})
    slow_b = replace(B, story_id="s-2")  # the story B was given when it was processed
    index.write([slow_b])
    stories.update(slow_b, {B.id: (3, "s-2")})
    assert index.get(B.id)["story_id"] == "s-1"
    assert [h["story_id"] for h in index.search("Beta")] == ["s-1"]


def test_a_split_rebuilds_both_records_and_drops_empty_ones(tmp_path: Path) -> None:
    _, stories = _setup(tmp_path)
    stories.update(A, {A.id: (1, "s-1"), B.id: (1, "s-1"), C.id: (1, "s-1")})
    stories.update(C, {A.id: (2, "s-1"), B.id: (2, "s-1"), C.id: (2, "s-3")})
    records = {r["id"]: r for r in stories.all()}
    assert set(records) == {"s-1", "s-3"}
    assert records["s-3"]["documents"] == [C.id]
    stories.update(C, {C.id: (3, "s-1")})
    assert [r["id"] for r in stories.all()] == ["s-1"]


def test_versions_are_hidden_from_search_unless_asked(tmp_path: Path) -> None:
    index, stories = _setup(tmp_path)
    newer = make_document(
        "Alpha body, updated.", text="Alpha body about the summit, updated.", versions=(A.id,)
    )
    index.write([newer])
    stories.update(newer, {A.id: (1, "s-1"), newer.id: (1, "s-1")})
    assert index.get(A.id)["duplicate_of"] == newer.id
    assert [h["id"] for h in index.search("summit Alpha")] == [newer.id]
    assert {h["id"] for h in index.search("summit Alpha", duplicates=True)} == {A.id, newer.id}
    assert stories.get("s-1")["duplicates"] == [A.id]


def test_a_copy_marked_late_is_hidden_and_listed_as_a_duplicate_of_its_story(tmp_path: Path) -> None:
    index, stories = _setup(tmp_path)
    stories.update_many([(A, {A.id: (1, "s-1"), B.id: (1, "s-1")}), (B, {})])
    stories.mark_copies({B.id: A.id, "not-written-yet": A.id})
    assert index.get(B.id)["duplicate_of"] == A.id
    assert [h["id"] for h in index.search("summit body")] == [A.id]
    assert stories.get("s-1")["duplicates"] == [B.id]
    assert index.get("not-written-yet") is None  # its own write is told later, not guessed now


def test_a_record_rebuilt_from_member_summaries_equals_one_built_from_the_documents(tmp_path: Path) -> None:
    from pipeline.stories.record import to_story_record
    from tests.factories import make_claim, make_entity

    a = make_document(
        "Rutte in Brussels.",
        text="Rutte in Brussels.",
        title="Alpha",
        outlet="One",
        entities=(make_entity("Mark Rutte"), make_entity("Brussels", "GPE")),
        claims=(make_claim("we will help", speaker="Mark Rutte"),),
    )
    b = make_document(
        "Rutte again.", text="Rutte again.", title="Beta", outlet="Two", entities=(make_entity("Mark Rutte"),)
    )
    index = SqliteIndex(tmp_path / "index.sqlite3")
    index.write([a, b])
    stories = SqliteStories(tmp_path / "index.sqlite3")
    stories.update_many([(a, {a.id: (1, "s-1")}), (b, {a.id: (2, "s-1"), b.id: (2, "s-1")})])
    assert stories.get("s-1") == to_story_record("s-1", [a, b])


def test_an_index_file_from_before_member_summaries_still_rebuilds_its_stories(tmp_path: Path) -> None:
    import sqlite3

    _setup(tmp_path)
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    db.executescript(
        "DROP TABLE doc_story; CREATE TABLE doc_story (doc_id TEXT PRIMARY KEY,"
        " story_id TEXT NOT NULL, gen INTEGER NOT NULL); DROP TABLE schema_versions;"
    )
    db.execute("INSERT INTO doc_story VALUES (?, 's-1', 1)", (A.id,))
    db.commit()
    db.close()
    stories = SqliteStories(tmp_path / "index.sqlite3")  # adds the column
    stories.update(B, {A.id: (2, "s-1"), B.id: (2, "s-1")})  # A has no summary: read from its body
    assert sorted(stories.get("s-1")["documents"]) == sorted([A.id, B.id])
