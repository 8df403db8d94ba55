"""The index file's shared helpers (does I/O): one way to connect (autocommit, WAL, a
minute's patience for a lock), schema creation and old-table migration in one write
transaction, and the FTS5 query every full-text table uses. The documents (index.py),
claims (claims.py) and stories (stories.py) tables all live in that one file.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path


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
                f" {mode or 'locked'}): is another program holding it, or is it on a network file system?"
            )
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


def fts_query(query: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must match (prefix ok)."""
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " AND ".join(f'"{w}"' for w in words)
