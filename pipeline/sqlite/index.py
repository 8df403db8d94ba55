"""The embedded search index: SQLite with FTS5 (does I/O).

One file under NEWSFLOW_HOME holds every enriched document (as JSON) and a full-text
table over title, text and entity names. Several worker processes write to it at
once: WAL mode and a generous busy timeout make that safe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.index import to_search_body
from pipeline.sqlite.db import connect, create_schema, fts_query, replace_old_fts

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT, outlet TEXT, published TEXT, story_id TEXT, duplicate_of TEXT,
    body TEXT NOT NULL,
    updated_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- Full text, one row per document with the document's rowid: found and replaced by
-- rowid (an UNINDEXED id column made every replacement scan the whole table).
CREATE VIRTUAL TABLE IF NOT EXISTS documents_text USING fts5(
    title, text, names, tokenize = 'porter unicode61'
);
"""


class SqliteIndex:
    """Documents and full-text search in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        create_schema(self._db, _SCHEMA)
        replace_old_fts(self._db, "documents_fts",
                        "INSERT INTO documents_text (rowid, title, text, names) SELECT d.rowid,"
                        " f.title, f.text, f.names FROM documents_fts f JOIN documents d ON d.id = f.id")

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def write(self, docs: Sequence[Document]) -> list[tuple[str, str]]:
        """Upsert documents by id. Returns (doc id, reason) for any that were rejected."""
        rows = []
        for doc in docs:
            body = to_search_body(doc)
            names = " ".join(body["people"] + body["organisations"] + body["places"])
            rows.append((doc, json.dumps(body, ensure_ascii=False), names))
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for doc, body_json, names in rows:
                self._db.execute(
                    "INSERT INTO documents (id, title, outlet, published, story_id, duplicate_of, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                    " title=excluded.title, outlet=excluded.outlet, published=excluded.published,"
                    " story_id=excluded.story_id, duplicate_of=excluded.duplicate_of,"
                    " body=excluded.body, updated_at=strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                    (doc.id, doc.title, doc.outlet, doc.published, doc.story_id, doc.duplicate_of, body_json),
                )
                (rowid,) = self._db.execute(
                    "SELECT rowid FROM documents WHERE id = ?", (doc.id,)).fetchone()
                self._db.execute("DELETE FROM documents_text WHERE rowid = ?", (rowid,))
                self._db.execute(
                    "INSERT INTO documents_text (rowid, title, text, names) VALUES (?, ?, ?, ?)",
                    (rowid, doc.title, doc.text, names),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return []

    def delete(self, doc_ids: Sequence[str]) -> None:
        """Remove documents (and their full text); ids not here are ignored."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for doc_id in doc_ids:
                row = self._db.execute("SELECT rowid FROM documents WHERE id = ?", (doc_id,)).fetchone()
                if row is not None:
                    self._db.execute("DELETE FROM documents_text WHERE rowid = ?", row)
                    self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def set_sources(self, sources: Mapping[str, Sequence[str]]) -> None:
        """Replace each document's sources (doc id -> sources), where it is indexed."""
        with self._db:
            self._db.executemany(
                "UPDATE documents SET body = json_set(body, '$.sources', json(?)) WHERE id = ?",
                [(json.dumps(list(srcs), ensure_ascii=False), doc_id) for doc_id, srcs in sources.items()],
            )

    # -- reading -------------------------------------------------------------
    def get(self, doc_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None and len(doc_id) >= 6:  # accept a unique prefix, as git does
            rows = self._db.execute(
                "SELECT body FROM documents WHERE id LIKE ? LIMIT 2", (doc_id + "%",)
            ).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return json.loads(row[0]) if row else None

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def iter_all(self) -> Iterator[dict[str, Any]]:
        for (body,) in self._db.execute("SELECT body FROM documents ORDER BY id"):
            yield json.loads(body)

    def search(self, query: str, *, limit: int = 10, duplicates: bool = False) -> list[dict[str, Any]]:
        """Full-text search; each hit has id, title, outlet, score, snippet, sources.

        A near-duplicate copy or older version (duplicate_of set) is left out unless
        `duplicates` is true: search lists each text once.
        """
        match = fts_query(query)
        if not match:
            return []
        rows = self._db.execute(
            "SELECT d.id, bm25(documents_text, 5.0, 1.0, 3.0) AS rank,"
            " snippet(documents_text, 1, char(2), char(3), '…', 24), d.body"
            " FROM documents_text f JOIN documents d ON d.rowid = f.rowid"
            " WHERE documents_text MATCH ? AND (? OR coalesce(d.duplicate_of, '') = '')"
            " ORDER BY rank LIMIT ?",
            (match, duplicates, limit),
        ).fetchall()
        hits = []
        for doc_id, rank, snippet, body_json in rows:
            body = json.loads(body_json)
            hits.append({
                "id": doc_id, "title": body.get("title", ""), "outlet": body.get("outlet", ""),
                "score": float(f"{-float(rank):.6g}"), "snippet": " ".join(snippet.split()),
                "sources": body.get("sources", []), "story_id": body.get("story_id", ""),
            })
        return hits
