"""The embedded stories table, in the same SQLite file as the document index (does I/O).

    doc_story(doc_id, story_id, gen,   which story each document is in, the generation
              member)                  of the story store that said so, and the
                                       document's `story_member` summary
    stories(id, record, last_seen)     one `to_story_record` per story, as JSON

`update(doc, labels)` runs in the index task after the document is written, with the
story labels of the document's whole component from the story store. In one
transaction it reads the stored labels of those documents, asks the planner
(pipeline/stories/plan.py: generation guard, own row restored, members that stay left
alone) what changes, writes that, and rebuilds the records of the stories touched from
their members' summaries (a story's members are its `doc_story` rows: real-time here,
and the transaction makes the rebuild see every write before it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.sqlite.db import add_column, connect, ensure_schema
from pipeline.stories.plan import StoryPlan, plan_stories, story_records

Labels = Mapping[str, tuple[int, str]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_story (
    doc_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, gen INTEGER NOT NULL, member TEXT
);
CREATE INDEX IF NOT EXISTS doc_story_story ON doc_story (story_id);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, record TEXT NOT NULL, last_seen TEXT
);
"""


SCHEMA_VERSION = 2  # 2: doc_story.member (a file from before members were kept)


def _migrate(db: sqlite3.Connection) -> None:
    add_column(db, "doc_story", "member", "TEXT")


class SqliteStories:
    """Stories next to the documents table of `SqliteIndex` (same file)."""

    def __init__(self, path: Path) -> None:
        from pipeline.sqlite.index import SqliteIndex

        SqliteIndex(path).close()  # the documents table must exist: records are built from it
        self._db = connect(path)
        ensure_schema(self._db, "stories", SCHEMA_VERSION, _SCHEMA, _migrate)

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def update(self, doc: Document, labels: Mapping[str, tuple[int, str]]) -> None:
        """Apply story labels (doc -> (generation, story id)) and `doc`'s versions."""
        self.update_many([(doc, labels)])

    def update_many(self, items: Sequence[tuple[Document, Mapping[str, tuple[int, str]]]]) -> None:
        """`update` for each (document, labels), in one transaction; each story touched is
        rebuilt once, at the end (a batch from one story costs one rebuild, not one each)."""
        self._write(items, {})

    def mark_copies(self, shown_of: Mapping[str, str]) -> None:
        """Point each copy (key) at the copy search shows instead (value), in one transaction;
        copies not written yet are left alone: their own index task asks the near-duplicate
        store (`NearDuplicates.shown_instead`) after writing them."""
        if shown_of:
            self._write([], shown_of)

    def forget(self, doc_ids: Sequence[str], stories: Iterable[str] = ()) -> None:
        """Take documents out of their stories (replaced by a new version of their source,
        and deleted from the documents table): their rows go, and their stories' records,
        and `stories`, are rebuilt from the members left (a story left empty is deleted)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            theirs = {
                story
                for (story,) in db.execute(
                    "SELECT story_id FROM doc_story WHERE doc_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(doc_ids)),),
                )
            }
            db.execute(
                "DELETE FROM doc_story WHERE doc_id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(doc_ids)),),
            )
            self._rebuild((theirs | set(stories)) - {""})
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _write(self, items: Sequence[tuple[Document, Labels]], shown_of: Mapping[str, str]) -> None:
        """Read the stored labels, plan (pipeline/stories/plan.py), persist the plan and the
        rebuilt records: one BEGIN IMMEDIATE, so concurrent writers take turns."""
        db = self._db
        ids = sorted(
            {d for _, labels in items for d in labels}
            | set(shown_of)
            | {v for doc, _ in items for v in doc.versions}
            | {doc.id for doc, _ in items}
        )
        db.execute("BEGIN IMMEDIATE")
        try:
            stored: dict[str, tuple[int, str] | None] = dict.fromkeys(ids)  # a row may come later
            stored.update(
                (d, (gen, story))
                for d, story, gen in db.execute(
                    "SELECT doc_id, story_id, gen FROM doc_story"
                    " WHERE doc_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(ids),),
                )
            )
            plan = plan_stories(items, stored, copies=shown_of)
            self._persist(plan)
            self._rebuild(plan.rebuild)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _persist(self, plan: StoryPlan) -> None:
        db = self._db
        for doc_id, story in sorted(plan.restore.items()):
            self._set_story(doc_id, story)
        db.executemany(
            "INSERT INTO doc_story (doc_id, story_id, gen) VALUES (?, ?, ?) ON CONFLICT(doc_id)"
            " DO UPDATE SET story_id = excluded.story_id, gen = excluded.gen",
            [(doc_id, story, gen) for doc_id, (gen, story) in sorted(plan.labels.items())],
        )
        for doc_id, (_, story) in sorted(plan.labels.items()):
            self._set_story(doc_id, story)
        db.executemany(
            "UPDATE doc_story SET gen = ? WHERE doc_id = ?",
            [(gen, doc_id) for doc_id, (gen, _) in sorted(plan.gens.items())],
        )
        db.executemany(
            "UPDATE doc_story SET member = ? WHERE doc_id = ?",
            [
                (json.dumps(member, ensure_ascii=False), doc_id)
                for doc_id, member in sorted(plan.members.items())
            ],
        )
        db.executemany(
            "UPDATE documents SET duplicate_of = ?, body = json_set(body, '$.duplicate_of', ?) WHERE id = ?",
            [(shown, shown, copy) for copy, shown in plan.copies.items()],
        )
        db.executemany(
            "UPDATE doc_story SET member = json_set(member, '$.duplicate_of', ?) WHERE doc_id = ?",
            [(shown, copy) for copy, shown in plan.copies.items() if copy not in plan.members],
        )

    def _set_story(self, doc_id: str, story: str) -> None:
        self._db.execute(
            "UPDATE documents SET story_id = ?, body = json_set(body, '$.story_id', ?) WHERE id = ?",
            (story, story, doc_id),
        )

    def _rebuild(self, stories: Iterable[str]) -> None:
        """Rebuild the records of `stories` from their members' rows (inside the transaction
        that changed them): each member's summary, or its whole body for a row written
        before summaries were kept. Reads a story's members only: bounded by its size."""
        members: dict[str, list[dict[str, Any]]] = {}
        for story in sorted(stories):
            members[story] = [
                json.loads(b)
                for (b,) in self._db.execute(
                    "SELECT coalesce(s.member, d.body) FROM doc_story s JOIN documents d ON d.id = s.doc_id"
                    " WHERE s.story_id = ?",
                    (story,),
                )
            ]
        for story, record in story_records(members).items():
            if record is None:
                self._db.execute("DELETE FROM stories WHERE id = ?", (story,))
                continue
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
