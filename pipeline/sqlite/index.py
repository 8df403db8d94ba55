"""The embedded search index: SQLite with FTS5 (does I/O).

One file under NEWSFLOW_HOME holds every enriched document (as JSON) and a full-text
table over title, text and entity names. Several worker processes write to it at
once: WAL mode and a generous busy timeout make that safe.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.entities.names import fold
from pipeline.index import document_from_body, to_search_body
from pipeline.search import plan as search_plan
from pipeline.search.names import SEP, doc_entity_keys, doc_name_keys, doc_speaker_keys
from pipeline.search.query import parse
from pipeline.sqlite import search as sql
from pipeline.sqlite.db import connect, ensure_schema, move_old_fts
from pipeline.stores import Labels

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
-- What a search by name matches (pipeline/search/names.py), by document rowid:
-- field 'entity' (key: entity key), 'speaker' (key: speaker key) and
-- 'name' (key: a lookup form, value: the entity key it finds).
CREATE TABLE IF NOT EXISTS doc_keys (
    doc INTEGER NOT NULL, field TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS doc_keys_by_key ON doc_keys (field, key);
CREATE INDEX IF NOT EXISTS doc_keys_by_value ON doc_keys (field, value);
CREATE INDEX IF NOT EXISTS doc_keys_by_doc ON doc_keys (doc);
"""


SCHEMA_VERSION = 3  # 2: documents_text replaced documents_fts; 3: doc_keys (search by name)


class SqliteIndex:
    """Documents and full-text search in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        self._db.create_function("fold", 1, fold, deterministic=True)
        ensure_schema(self._db, "documents", SCHEMA_VERSION, _SCHEMA, self._migrate)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """A file made by an earlier version: documents_text replaced documents_fts (2);
        search by name needs each document's keys (3)."""
        move_old_fts(
            db,
            "documents_fts",
            "INSERT INTO documents_text (rowid, title, text, names) SELECT d.rowid,"
            " f.title, f.text, f.names FROM documents_fts f JOIN documents d ON d.id = f.id",
        )
        if db.execute("SELECT 1 FROM doc_keys LIMIT 1").fetchone() is None:
            for rowid, body in db.execute("SELECT rowid, body FROM documents").fetchall():
                self._write_keys(rowid, document_from_body(json.loads(body)))

    def _write_keys(self, rowid: int, doc: Document) -> None:
        self._db.execute("DELETE FROM doc_keys WHERE doc = ?", (rowid,))
        rows = [(rowid, "entity", k, "") for k in doc_entity_keys(doc)]
        rows += [(rowid, "speaker", k, "") for k in doc_speaker_keys(doc)]
        names = (nk.partition(SEP) for nk in doc_name_keys(doc))
        rows += [(rowid, "name", form, key) for form, _, key in names]
        self._db.executemany("INSERT INTO doc_keys (doc, field, key, value) VALUES (?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def write(self, docs: Sequence[Document], labels: Labels | None = None) -> list[tuple[str, str]]:
        """Upsert documents by id, each in the story `labels` gives it now, if any (the
        stories table's guard, pipeline/sqlite/stories.py, puts back a newer one). Returns
        (doc id, reason) for any that were rejected."""
        rows = []
        for doc in docs:
            if labels and doc.id in labels:
                doc = replace(doc, story_id=labels[doc.id][1])
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
                (rowid,) = self._db.execute("SELECT rowid FROM documents WHERE id = ?", (doc.id,)).fetchone()
                self._db.execute("DELETE FROM documents_text WHERE rowid = ?", (rowid,))
                self._db.execute(
                    "INSERT INTO documents_text (rowid, title, text, names) VALUES (?, ?, ?, ?)",
                    (rowid, doc.title, doc.text, names),
                )
                self._write_keys(rowid, doc)
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
                    self._db.execute("DELETE FROM doc_keys WHERE doc = ?", row)
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
        """Search in the query language of pipeline/search/query.py; each hit has id, title,
        outlet, score, snippet, sources, story_id. Documents that mention an entity the query
        names come first, then by text relevance (bm25: title 5, text 1, entity names 3).

        A near-duplicate copy or older version (duplicate_of set) is left out unless
        `duplicates`: search lists each text once. Raises QueryError for a query that
        cannot run (the message says what to type instead).
        """
        plan = search_plan.plan(parse(query), self)
        cond, params = sql.conditions(plan)
        score, score_params = sql.entity_score(plan)
        highlight = sql.fts(plan.highlight)
        ranked = (
            (
                "LEFT JOIN (SELECT rowid, bm25(documents_text, 5.0, 1.0, 3.0) AS rank FROM documents_text"
                " WHERE documents_text MATCH ?) hl ON hl.rowid = d.rowid"
            )
            if highlight
            else "LEFT JOIN (SELECT NULL AS rowid, 0.0 AS rank) hl ON 0"
        )
        rows = self._db.execute(
            f"SELECT d.rowid, d.id, {score} AS hits, hl.rank, d.body FROM documents d {ranked}"
            f" WHERE {cond} AND (? OR coalesce(d.duplicate_of, '') = '')"
            " ORDER BY hits DESC, coalesce(hl.rank, 0.0) ASC, d.id LIMIT ?",
            [*score_params, *([highlight] if highlight else []), *params, duplicates, limit],
        ).fetchall()
        snippets = self._snippets([r[0] for r in rows], highlight)
        hits = []
        for rowid, doc_id, n_entities, rank, body_json in rows:
            body = json.loads(body_json)
            snippet = snippets.get(rowid) or " ".join(body.get("text", "").split()[:24])
            hits.append(
                {
                    "id": doc_id,
                    "title": body.get("title", ""),
                    "outlet": body.get("outlet", ""),
                    "score": float(f"{n_entities - float(rank or 0.0):.6g}"),
                    "snippet": " ".join(snippet.split()),
                    "sources": body.get("sources", []),
                    "story_id": body.get("story_id", ""),
                }
            )
        return hits

    def _snippets(self, rowids: list[int], highlight: str) -> dict[int, str]:
        if not rowids or not highlight:
            return {}
        marks = ", ".join("?" * len(rowids))
        return dict(
            self._db.execute(
                "SELECT rowid, snippet(documents_text, 1, char(2), char(3), '…', 24) FROM documents_text"
                f" WHERE documents_text MATCH ? AND rowid IN ({marks})",
                [highlight, *rowids],
            ).fetchall()
        )

    def with_entities(self, keys: Iterable[str]) -> list[str]:
        """Ids of the documents that mention any of these entities (`kind:canonical`)."""
        keys = sorted(set(keys))
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            query = (
                "SELECT d.id FROM doc_keys k JOIN documents d ON d.rowid = k.doc"
                f" WHERE k.field = 'entity' AND k.key IN ({', '.join('?' * len(chunk))})"
            )
            found.update(row[0] for row in self._db.execute(query, chunk))
        return sorted(found)

    # -- names (pipeline/search/plan.NameIndex) ------------------------------
    def lookup(self, forms: Collection[str]) -> dict[str, set[str]]:
        """Lookup form -> the entity keys indexed documents know it for."""
        found: dict[str, set[str]] = {}
        forms = list(forms)
        for i in range(0, len(forms), 500):
            chunk = forms[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT DISTINCT key, value FROM doc_keys WHERE field = 'name' AND key IN ({marks})"
            for form, key in self._db.execute(query, chunk):
                found.setdefault(form, set()).add(key)
        return found

    def forms_of(self, keys: Collection[str]) -> dict[str, set[str]]:
        """Entity key -> every lookup form documents wrote it in."""
        found: dict[str, set[str]] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT DISTINCT value, key FROM doc_keys WHERE field = 'name' AND value IN ({marks})"
            for key, form in self._db.execute(query, chunk):
                found.setdefault(key, set()).add(form)
        return found
