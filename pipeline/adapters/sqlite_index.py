"""The embedded search index: SQLite with FTS5 (does I/O).

One file under NEWSFLOW_HOME holds every enriched document (as JSON) and a full-text
table over title, text and entity names. Several worker processes write to it at
once: WAL mode and a generous busy timeout make that safe.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.document import Document
from pipeline.index import to_search_body

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


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the index file, as every table of it (documents, stories, claims)
    is written: autocommit (transactions are explicit), WAL, a minute's patience for a lock.
    WAL + synchronous=NORMAL: a commit is durable against a process crash, not a power
    cut; the index can be rebuilt from the inputs, and a full fsync per commit costs more."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    _use_wal(db, patience_s=60)
    db.execute("PRAGMA busy_timeout=60000")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _use_wal(db: sqlite3.Connection, patience_s: float) -> None:
    """Switch to WAL. Turning a new file to WAL needs it alone and does not wait for the
    busy timeout: two workers making their first write at once, one would fail its
    batch with "database is locked". So wait here, a little at a time."""
    deadline = time.monotonic() + patience_s
    while True:
        mode = ""
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if mode == "wal":
            return
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(
                f"could not switch the index file to WAL in {patience_s:.0f} s (journal mode"
                f" {mode or 'locked'}): is another program holding it, or is it on a network file system?")
        time.sleep(0.02)


def create_schema(db: sqlite3.Connection, schema: str) -> None:
    """Create tables in one write transaction.

    Workers and the command line open the same file at once; created statement by
    statement outside a transaction, one of them could meet a half-made FTS table
    ("vtable constructor failed"). BEGIN IMMEDIATE makes the others wait their turn.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in schema.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def replace_old_fts(db: sqlite3.Connection, old: str, copy: str) -> None:
    """Move an index file made by an earlier version from full-text table `old` to its
    rowid-aligned successor (`copy` fills it from `old`), then drop `old`. Once per file."""
    exists = "SELECT 1 FROM sqlite_master WHERE name = ?"
    if db.execute(exists, (old,)).fetchone() is None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute(exists, (old,)).fetchone() is not None:  # nobody else moved it meanwhile
            db.execute(copy)
            db.execute(f"DROP TABLE {old}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


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


def fts_query(query: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must match (prefix ok)."""
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " AND ".join(f'"{w}"' for w in words)
