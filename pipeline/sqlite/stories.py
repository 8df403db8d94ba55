"""The embedded stories table, in the same SQLite file as the document index (does I/O).

    doc_story(doc_id, story_id, gen,   which story each document is in, the generation
              member)                  of the story store that said so, and the
                                       document's `story_member` summary
    stories(id, record, last_seen)     one `to_story_record` per story, as JSON

`update(doc, labels)` runs in the index task after the document is written: it
takes the story labels of the document's whole component from the story store,
keeps each only if its generation is not older than the stored one (workers may
finish out of order), copies the story id onto the documents' rows, rebuilds the
records of every story touched, and marks the older versions of a document that
replaced them (`duplicate_of`), all in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.sqlite.db import connect, create_schema
from pipeline.stories.record import story_member, to_story_record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_story (
    doc_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, gen INTEGER NOT NULL, member TEXT
);
CREATE INDEX IF NOT EXISTS doc_story_story ON doc_story (story_id);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, record TEXT NOT NULL, last_seen TEXT
);
"""


class SqliteStories:
    """Stories next to the documents table of `SqliteIndex` (same file)."""

    def __init__(self, path: Path) -> None:
        from pipeline.sqlite.index import SqliteIndex

        SqliteIndex(path).close()  # the documents table must exist: records are built from it
        self._db = connect(path)
        create_schema(self._db, _SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(doc_story)")}
        if "member" not in columns:  # a file from before members were kept: add the column
            with contextlib.suppress(sqlite3.OperationalError):  # another process just did
                self._db.execute("ALTER TABLE doc_story ADD COLUMN member TEXT")

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def update(self, doc: Document, labels: Mapping[str, tuple[int, str]]) -> None:
        """Apply story labels (doc -> (generation, story id)) and `doc`'s versions."""
        self.update_many([(doc, labels)])

    def update_many(self, items: Sequence[tuple[Document, Mapping[str, tuple[int, str]]]]) -> None:
        """`update` for each (document, labels), in one transaction; each story touched is
        rebuilt once, at the end (a batch from one story costs one rebuild, not one each)."""
        with self._rebuilding() as touched:
            for doc, labels in items:
                touched |= self._apply(doc, labels)

    @contextlib.contextmanager
    def _rebuilding(self) -> Iterator[set[str]]:
        """One transaction; the stories added to the set it gives are rebuilt at its end."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            touched: set[str] = set()
            yield touched
            for story in sorted(touched):
                self._rebuild(story)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _apply(self, doc: Document, labels: Mapping[str, tuple[int, str]]) -> set[str]:
        """Write the labels and versions of one document; return the stories they touch."""
        db = self._db
        touched: set[str] = set()
        for doc_id, (gen, story) in sorted(labels.items()):
            row = db.execute("SELECT story_id, gen FROM doc_story WHERE doc_id = ?", (doc_id,)).fetchone()
            if row is not None and row[1] > gen:  # a newer clustering already placed it,
                if doc_id == doc.id:  # but its row was just rewritten with the story it carried
                    self._set_story(doc_id, row[0])
                continue
            if row is not None and row[0] == story and doc_id != doc.id:
                # Most of a component stays where it was (the document itself was just
                # rewritten in the documents table, with whatever story it carried).
                if row[1] != gen:
                    db.execute("UPDATE doc_story SET gen = ? WHERE doc_id = ?", (gen, doc_id))
                continue
            if row is not None:
                touched.add(row[0])
            touched.add(story)
            db.execute(
                "INSERT INTO doc_story (doc_id, story_id, gen) VALUES (?, ?, ?) ON CONFLICT(doc_id)"
                " DO UPDATE SET story_id = excluded.story_id, gen = excluded.gen",
                (doc_id, story, gen),
            )
            self._set_story(doc_id, story)
        db.execute("UPDATE doc_story SET member = ? WHERE doc_id = ?",
                   (json.dumps(story_member(doc), ensure_ascii=False), doc.id))
        touched.update(r[0] for r in db.execute(  # its own story: the summary just changed
            "SELECT story_id FROM doc_story WHERE doc_id = ?", (doc.id,)))
        touched |= self._mark_copies({v: doc.id for v in doc.versions})
        return touched

    def _set_story(self, doc_id: str, story: str) -> None:
        self._db.execute(
            "UPDATE documents SET story_id = ?, body = json_set(body, '$.story_id', ?) WHERE id = ?",
            (story, story, doc_id),
        )

    def mark_copies(self, shown_of: Mapping[str, str]) -> None:
        """Point each copy (key) at the copy search shows instead (value), in one transaction;
        copies not written yet are left alone: their own index task asks the near-duplicate
        store (`NearDuplicates.shown_instead`) after writing them."""
        if shown_of:
            with self._rebuilding() as touched:
                touched |= self._mark_copies(shown_of)

    def _mark_copies(self, shown_of: Mapping[str, str]) -> set[str]:
        """Set `duplicate_of` on the copies' rows and summaries; return their stories."""
        db = self._db
        db.executemany(
            "UPDATE documents SET duplicate_of = ?, body = json_set(body, '$.duplicate_of', ?) WHERE id = ?",
            [(shown, shown, copy) for copy, shown in shown_of.items()],
        )
        db.executemany(
            "UPDATE doc_story SET member = json_set(member, '$.duplicate_of', ?) WHERE doc_id = ?",
            [(shown, copy) for copy, shown in shown_of.items()],
        )
        return {
            r[0]
            for copy in shown_of
            for r in db.execute("SELECT story_id FROM doc_story WHERE doc_id = ?", (copy,))
        }

    def _rebuild(self, story: str) -> None:
        # Each member's summary; the whole body only for rows written before summaries were kept.
        bodies = [
            json.loads(b)
            for (b,) in self._db.execute(
                "SELECT coalesce(s.member, d.body) FROM doc_story s JOIN documents d ON d.id = s.doc_id"
                " WHERE s.story_id = ?",
                (story,),
            )
        ]
        if not bodies:
            self._db.execute("DELETE FROM stories WHERE id = ?", (story,))
            return
        record = to_story_record(story, bodies)
        self._db.execute(
            "INSERT INTO stories (id, record, last_seen) VALUES (?, ?, ?) ON CONFLICT(id)"
            " DO UPDATE SET record = excluded.record, last_seen = excluded.last_seen",
            (story, json.dumps(record, ensure_ascii=False), record["last_seen"]),
        )

    # -- reading -------------------------------------------------------------
    def all(self) -> Iterator[dict[str, Any]]:
        """Every story record, the biggest first, then the most recent."""
        rows = self._db.execute("SELECT record FROM stories ORDER BY last_seen DESC, id").fetchall()
        records = [json.loads(r) for (r,) in rows]
        yield from sorted(records, key=lambda r: -r["n_documents"])

    def get(self, story_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT record FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None and len(story_id) >= 6:  # a unique prefix, as for documents
            rows = self._db.execute(
                "SELECT record FROM stories WHERE id LIKE ? LIMIT 2", (story_id + "%",)
            ).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return json.loads(row[0]) if row else None

    def story_of(self, doc_id: str) -> str:
        row = self._db.execute("SELECT story_id FROM doc_story WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""
