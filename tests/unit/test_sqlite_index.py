"""The embedded index: upserts by id, full-text search with snippets, prefix look-up."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
from pathlib import Path

import pytest

from pipeline.sqlite.db import fts_query
from pipeline.sqlite.index import SqliteIndex
from tests.factories import make_document, make_entity


@pytest.fixture
def index(tmp_path: Path) -> SqliteIndex:
    return SqliteIndex(tmp_path / "index.sqlite3")


def _doc(text: str, title: str = "A title", **kw: object):  # type: ignore[no-untyped-def]
    return make_document(text, text=text, title=title, **kw)


def test_a_written_document_is_found_by_a_word_of_its_text(index: SqliteIndex) -> None:
    index.write([_doc("Mark Rutte warned about missiles."), _doc("Weather is fine today.")])
    hits = index.search("missiles")
    assert [h["title"] for h in hits] == ["A title"]
    assert "\x02missiles\x03" in hits[0]["snippet"]
    assert hits[0]["sources"] == ["/drop/article.txt"]


def test_writing_the_same_id_twice_keeps_one_document(index: SqliteIndex) -> None:
    doc = _doc("Mark Rutte warned about missiles.")
    index.write([doc])
    index.write([doc])
    assert index.count() == 1
    assert len(index.search("Rutte")) == 1


def test_entity_names_are_searchable_even_when_the_text_spells_them_differently(index: SqliteIndex) -> None:
    doc = _doc("Sibiga spoke in Kiev.", entities=(make_entity("Andrii Sybiha"), make_entity("Kyiv", "GPE")))
    index.write([doc])
    assert [h["id"] for h in index.search("Sybiha")] == [doc.id]
    assert [h["id"] for h in index.search("Kyiv")] == [doc.id]


def test_a_unique_id_prefix_finds_the_document(index: SqliteIndex) -> None:
    doc = _doc("Body.")
    index.write([doc])
    assert index.get(doc.id[:8])["id"] == doc.id  # type: ignore[index]
    assert index.get("ffffffffff") is None


@pytest.mark.parametrize(
    ("typed", "query"),
    [('Rutte "peace', '"Rutte" AND "peace"'), ("NOT OR AND", '"NOT" AND "OR" AND "AND"'), ("'; --", "")],
)
def test_what_users_type_cannot_break_the_fts_syntax(typed: str, query: str) -> None:
    assert fts_query(typed) == query


def test_two_connections_can_write_to_one_file(tmp_path: Path) -> None:
    a, b = SqliteIndex(tmp_path / "i.db"), SqliteIndex(tmp_path / "i.db")
    a.write([_doc("First article body.")])
    b.write([_doc("Second article body.")])
    assert a.count() == 2


def test_an_index_file_from_the_earlier_full_text_layout_is_moved_over_and_stays_searchable(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "index.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE documents (id TEXT PRIMARY KEY, title TEXT, outlet TEXT, published TEXT,"
        " story_id TEXT, duplicate_of TEXT, body TEXT NOT NULL, updated_at TEXT);"
        "CREATE VIRTUAL TABLE documents_fts USING fts5(id UNINDEXED, title, text, names,"
        " tokenize = 'porter unicode61');"
        "INSERT INTO documents (id, title, body) VALUES ('old-1', 'Old', '{\"title\": \"Old\"}');"
        "INSERT INTO documents_fts VALUES ('old-1', 'Old', 'Rutte warned about missiles', '');"
    )
    old.commit()
    old.close()

    index = SqliteIndex(path)
    assert [h["id"] for h in index.search("missiles")] == ["old-1"]
    index.write([_doc("Rutte spoke of drones.", id="new-1")])
    index.write([_doc("Rutte spoke of drones again.", id="new-1")])  # replaced, not added
    assert {h["id"] for h in index.search("Rutte")} == {"old-1", "new-1"}
    assert index.search("drones again")[0]["id"] == "new-1"
    assert not index.search("drones")[1:]


def _open_at(args: tuple[str, float]) -> str:
    path, start = args
    while time.time() < start:  # all together, as a pool's processes on their first batch
        pass
    try:
        SqliteIndex(Path(path)).close()
    except sqlite3.OperationalError as exc:
        return str(exc)
    return ""


def test_processes_opening_a_new_index_file_at_the_same_moment_all_get_it(tmp_path: Path) -> None:
    """Turning a new file to WAL needs it alone; the others wait instead of failing."""
    errors = []
    with mp.get_context("fork").Pool(4) as pool:
        for n in range(25):
            start = time.time() + 0.05
            errors += pool.map(_open_at, [(str(tmp_path / f"index-{n}.sqlite3"), start)] * 4)
    assert [e for e in errors if e] == []


def test_opening_an_up_to_date_index_file_waits_for_no_writer_and_migrates_nothing(tmp_path: Path) -> None:
    """Schema creation and migrations run once per file: a worker opening the index while
    another holds the write lock (a long batch) opens at once, even when its documents
    have no names (which once sent every open back to filling search keys)."""
    from pipeline.sqlite.claims import SqliteClaims
    from pipeline.sqlite.stories import SqliteStories

    path = tmp_path / "index.sqlite3"
    SqliteIndex(path).write([_doc("a text that names nobody at all")])
    SqliteClaims(path).close()
    SqliteStories(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a batch being written
    try:
        for store in (SqliteIndex(path), SqliteClaims(path), SqliteStories(path)):
            store.close()
        versions = dict(writer.execute("SELECT name, version FROM schema_versions").fetchall())
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert set(versions) == {"documents", "claims", "stories"}
