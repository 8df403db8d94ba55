"""The embedded claims table: one row per claim, in the same SQLite file as the index (does I/O).

Rows carry who said it (as written and canonical), the cue, kind, text, figures,
outlet and sources, offsets, and the cross-document group with its conflict flag.
The groups are decided once per batch, by `plan.plan_claims` over the claims the
registry in Redis holds (pipeline/redis/claim_groups.py); `apply(plan)` persists a
plan, with a generation guard: content from the last write, group fields (and
deletions) only from a plan newer than the row's, so plans applied in any order
converge to the newest. FTS5 over text and speaker answers `newsflow claims --search`
and `search --claims`.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.claims.grouping import speaker_key
from pipeline.claims.plan import ClaimsPlan
from pipeline.sqlite.db import add_column, connect, ensure_schema, fts_query, move_old_fts

# An index file made before the registry moved to Redis also has a `claim_keys` table
# (the match-key index); it is no longer read or written.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, n INTEGER, kind TEXT,
    speaker TEXT, speaker_canonical TEXT, speaker_key TEXT, cue TEXT, text TEXT,
    figures TEXT, outlet TEXT, sources TEXT, title TEXT, published TEXT,
    start INTEGER, "end" INTEGER, raw_start INTEGER, raw_end INTEGER,
    group_id TEXT, conflict INTEGER DEFAULT 0, gen INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_doc ON claims(doc_id);
CREATE INDEX IF NOT EXISTS claims_speaker ON claims(speaker_key);
CREATE INDEX IF NOT EXISTS claims_group ON claims(group_id);
-- Full text with each claim's rowid (see documents_text in index.py).
CREATE VIRTUAL TABLE IF NOT EXISTS claims_text USING fts5(
    text, speaker, tokenize = 'porter unicode61'
);
"""
# The full-text row of each claim: its rowid, text and speaker as written or canonical.
_TEXT_ROWS = "SELECT rowid, text, coalesce(nullif(speaker_canonical, ''), speaker) FROM claims"
# What a claim says, from its document: rewritten by every write of the claim.
_CONTENT = (
    "doc_id",
    "n",
    "kind",
    "speaker",
    "speaker_canonical",
    "speaker_key",
    "cue",
    "text",
    "figures",
    "outlet",
    "sources",
    "title",
    "published",
    "start",
    "end",
    "raw_start",
    "raw_end",
)
_COLUMNS = ("id", *_CONTENT, "group_id", "conflict", "gen")
_NAMES = ", ".join(f'"{c}"' for c in _COLUMNS)
_UPSERT = (
    f"INSERT INTO claims ({_NAMES}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    " ON CONFLICT(id) DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in _CONTENT)
)


SCHEMA_VERSION = 2  # 2: claims_text replaced claims_fts; gen column (rows older than any plan)


def _migrate(db: sqlite3.Connection) -> None:
    move_old_fts(db, "claims_fts", f"INSERT INTO claims_text (rowid, text, speaker) {_TEXT_ROWS}")
    add_column(db, "claims", "gen", "INTEGER NOT NULL DEFAULT 0")


class SqliteClaims:
    """Claims, their groups and full-text search in the index's SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = connect(path)
        ensure_schema(self._db, "claims", SCHEMA_VERSION, _SCHEMA, _migrate)

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def apply(self, plan: ClaimsPlan) -> int:
        """Persist `plan` in one transaction. Returns the number of claim records written.

        Content (what the document says) is written whatever the row's generation: it
        depends on the document only. Group fields, and deletions, only where the row is
        older than the plan: a plan that arrives after a newer one changes no group.
        """
        if not (plan.records or plan.fields or plan.deleted):
            return 0
        rows = [_row(r, plan.gen) for r in plan.records]
        ids = [(row[0],) for row in rows]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "DELETE FROM claims_text WHERE rowid = (SELECT rowid FROM claims WHERE id = ?)", ids
            )
            db.executemany(_UPSERT, rows)
            db.executemany(f"INSERT INTO claims_text (rowid, text, speaker) {_TEXT_ROWS} WHERE id = ?", ids)
            db.executemany(
                "UPDATE claims SET group_id = ?, conflict = ?, gen = ? WHERE id = ? AND gen < ?",
                [(f.group, int(f.conflict), plan.gen, key, plan.gen) for key, f in plan.fields.items()],
            )
            gone = [(key, plan.gen) for key in plan.deleted]
            db.executemany(
                "DELETE FROM claims_text WHERE rowid = (SELECT rowid FROM claims WHERE id = ? AND gen < ?)",
                gone,
            )
            db.executemany("DELETE FROM claims WHERE id = ? AND gen < ?", gone)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return len(rows)

    # -- reading -------------------------------------------------------------
    def claims(self, *, speaker: str = "", doc_id: str = "") -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM claims WHERE 1=1", []
        if speaker:
            sql += " AND (speaker_key LIKE ? OR lower(speaker) LIKE ?)"
            args += [f"%{speaker.casefold()}%"] * 2
        if doc_id:
            sql += " AND doc_id = ?"
            args.append(doc_id)
        return [_record(r) for r in self._query(sql + " ORDER BY group_id, doc_id, start", args)]

    def groups(
        self,
        *,
        speaker: str = "",
        conflicts: bool = False,
        min_sources: int = 0,
        kinds: Sequence[str] = ("direct", "reported", "statement"),
    ) -> list[dict[str, Any]]:
        """One object per claim group: speaker, text, sources, outlets, documents, conflict, figures."""
        by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rec in self.claims(speaker=speaker):
            if rec["kind"] in kinds:
                by_group[rec["group"]].append(rec)
        out = [summarise_group(group, members) for group, members in by_group.items()]
        out = [g for g in out if (g["conflict"] or not conflicts) and len(g["sources"]) >= min_sources]
        out.sort(key=lambda g: (-len(g["documents"]), g["speaker"], g["group"]))
        return out

    def search(self, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
        match = fts_query(query)
        if not match:
            return []
        sql = (
            "SELECT c.* FROM claims_text f JOIN claims c ON c.rowid = f.rowid WHERE claims_text MATCH ?"
            " ORDER BY bm25(claims_text) LIMIT ?"
        )
        return [_record(r) for r in self._query(sql, [match, limit])]

    def _query(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        cur = self._db.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def summarise_group(group: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    """The group as `newsflow claims --json` prints it (members sorted by document)."""
    members = sorted(members, key=lambda m: (m["doc_id"], m["start"]))
    main = max(members, key=lambda m: (m["kind"] == "direct", len(m["text"])))
    sources = sorted({s for m in members for s in m["sources"]})
    return {
        "group": group,
        "speaker": main["speaker_canonical"] or main["speaker"],
        "text": main["text"],
        "kind": main["kind"],
        "sources": sources,
        "outlets": sorted({m["outlet"] for m in members if m["outlet"]}),
        "documents": sorted({m["doc_id"] for m in members}),
        "conflict": any(m["conflict"] for m in members),
        "figures": [{**f, "doc_id": m["doc_id"]} for m in members for f in m["figures"]],
        "claims": [
            {
                "doc_id": m["doc_id"],
                "speaker": m["speaker"],
                "cue": m["cue"],
                "text": m["text"],
                "start": m["start"],
                "end": m["end"],
                "raw_start": m["raw_start"],
                "raw_end": m["raw_end"],
            }
            for m in members
        ],
    }


def _row(rec: dict[str, Any], gen: int) -> tuple[Any, ...]:
    """A claim record (`to_claim_records`) as the values of `_COLUMNS`."""
    speaker = "" if rec["kind"] == "statement" else (rec["speaker_canonical"] or rec["speaker"])
    row = {
        **rec,
        "group_id": rec["group"],
        "conflict": int(rec["conflict"]),
        "speaker_key": speaker_key(speaker),
        "figures": json.dumps(rec["figures"], ensure_ascii=False),
        "sources": json.dumps(rec["sources"], ensure_ascii=False),
        "gen": gen,
    }
    return tuple(row[c] for c in _COLUMNS)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    rec = dict(row)
    rec["group"] = rec.pop("group_id")
    rec["conflict"] = bool(rec["conflict"])
    rec["figures"] = json.loads(rec["figures"] or "[]")
    rec["sources"] = json.loads(rec["sources"] or "[]")
    rec.pop("speaker_key", None)
    rec.pop("gen", None)
    return rec
