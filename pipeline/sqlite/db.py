"""The index file's shared helpers (does I/O): one way to connect (autocommit, WAL, a
minute's patience for a lock), schema creation and migration of older files once per
file, in one write transaction, and the FTS5 query every full-text table uses. The documents (index.py),
claims (claims.py) and stories (stories.py) tables all live in that one file.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
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


def ensure_schema(
    db: sqlite3.Connection,
    name: str,
    version: int,
    schema: str,
    migrate: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """Create table group `name` and bring a file made by an earlier version up to
    `version`, once per file: the version reached is kept in the file (schema_versions),
    so opening an up-to-date file costs one read, no write lock and no migration check.

    Workers and the command line open the same file at once; created statement by
    statement outside a transaction, one of them could meet a half-made FTS table
    ("vtable constructor failed"). BEGIN IMMEDIATE makes the others wait their turn, and
    the one after finds the version already reached. `migrate` runs inside the same
    transaction, after the CREATE ... IF NOT EXISTS statements.
    """
    if _version(db, name) >= version:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        if _version(db, name) < version:  # nobody else did it meanwhile
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)
            if migrate is not None:
                migrate(db)
            db.execute("INSERT OR REPLACE INTO schema_versions VALUES (?, ?)", (name, version))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _version(db: sqlite3.Connection, name: str) -> int:
    try:
        row = db.execute("SELECT version FROM schema_versions WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:  # no such table: a new file, or one from before versions
        return 0
    return int(row[0]) if row else 0


def move_old_fts(db: sqlite3.Connection, old: str, copy: str) -> None:
    """In a migration: move a file made by an earlier version from full-text table `old`
    to its rowid-aligned successor (`copy` fills it from `old`), then drop `old`."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (old,)).fetchone() is not None:
        db.execute(copy)
        db.execute(f"DROP TABLE {old}")


def add_column(db: sqlite3.Connection, table: str, column: str, definition: str) -> None:
    """In a migration: add `column` to `table` of a file made before it existed."""
    if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def fts_query(query: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must match (prefix ok)."""
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " AND ".join(f'"{w}"' for w in words)
