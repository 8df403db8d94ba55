"""The embedded claims table: one row per claim, in the same SQLite file as the index (does I/O).

Rows carry who said it (as written and canonical), the cue, kind, text, figures,
outlet and sources, offsets, and the cross-document group with its conflict flag.
Writing a document regroups every stored claim of the speakers it touches
(`grouping.group_refs`) inside the same transaction, so groups, outlets and conflicts
in this table depend only on which documents are stored, never on their order.
FTS5 over text and speaker answers `newsflow claims --search` and `search --claims`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.claims.grouping import ClaimRef, group_refs, match_keys, speaker_key
from pipeline.claims.records import to_claim_records
from pipeline.document import Document, Figure
from pipeline.sqlite.db import connect, create_schema, fts_query, replace_old_fts

EXACT_REGROUP_MAX = 20  # a speaker with this many claims or fewer is regrouped whole (exact)
CANDIDATES = 30  # beyond that: for each new claim, the claims sharing most of its match keys

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, n INTEGER, kind TEXT,
    speaker TEXT, speaker_canonical TEXT, speaker_key TEXT, cue TEXT, text TEXT,
    figures TEXT, outlet TEXT, sources TEXT, title TEXT, published TEXT,
    start INTEGER, "end" INTEGER, raw_start INTEGER, raw_end INTEGER,
    group_id TEXT, conflict INTEGER DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_doc ON claims(doc_id);
CREATE INDEX IF NOT EXISTS claims_speaker ON claims(speaker_key);
CREATE INDEX IF NOT EXISTS claims_group ON claims(group_id);
-- What each claim can group through (grouping.match_keys), per speaker: finds the
-- claims a new one could join without reading all of the speaker's.
CREATE TABLE IF NOT EXISTS claim_keys (speaker_key TEXT, key TEXT, claim_id TEXT);
CREATE INDEX IF NOT EXISTS claim_keys_lookup ON claim_keys(speaker_key, key);
CREATE INDEX IF NOT EXISTS claim_keys_claim ON claim_keys(claim_id);
-- Full text with each claim's rowid (see documents_text in index.py).
CREATE VIRTUAL TABLE IF NOT EXISTS claims_text USING fts5(
    text, speaker, tokenize = 'porter unicode61'
);
"""
# The full-text row of each claim: its rowid, text and speaker as written or canonical.
_TEXT_ROWS = "SELECT rowid, text, coalesce(nullif(speaker_canonical, ''), speaker) FROM claims"
Keys = tuple[frozenset[str], int]  # grouping.match_keys: keys, and how many must be shared
_INSERT_KEYS = "INSERT INTO claim_keys (speaker_key, key, claim_id) VALUES (?, ?, ?)"
_COLUMNS = (
    "id",
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
    "group_id",
    "conflict",
)


class SqliteClaims:
    """Claims, their groups and full-text search in the index's SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = connect(path)
        create_schema(self._db, _SCHEMA)
        replace_old_fts(self._db, "claims_fts",
                        f"INSERT INTO claims_text (rowid, text, speaker) {_TEXT_ROWS}")
        self._fill_keys()

    def _fill_keys(self) -> None:
        """Give the claims of an index file made before claim_keys existed their keys. Once."""
        rows_without_keys = (
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM claim_keys) AND EXISTS (SELECT 1 FROM claims)"
        )
        if self._db.execute(rows_without_keys).fetchone() is None:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._db.execute(rows_without_keys).fetchone() is not None:  # nobody did meanwhile
                rows = self._db.execute(
                    "SELECT id, doc_id, speaker_key, text, figures FROM claims").fetchall()
                self._db.executemany(_INSERT_KEYS, [
                    (speaker, k, key) for key, doc_id, speaker, text, figures in rows
                    for k in match_keys(_ref(key, doc_id, speaker, text, figures))[0]
                ])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------
    def write(self, doc: Document) -> int:
        """Replace the document's claims and regroup their speakers. Returns the claim count."""
        return self.write_many([doc])

    def write_many(self, docs: Sequence[Document]) -> int:
        """`write` for each document, in one transaction, each speaker they touch regrouped
        once for the batch. Returns the claim count."""
        old: dict[str, set[str]] = defaultdict(set)  # speaker -> groups the documents were in
        clues: dict[str, list[Keys]] = defaultdict(list)  # speaker -> the new claims' match keys
        self._db.execute("BEGIN IMMEDIATE")
        try:
            count = sum(self._replace(doc, old, clues) for doc in docs)
            self._regroup(old, clues, [doc.id for doc in docs])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return count

    def _replace(self, doc: Document, old: dict[str, set[str]], clues: dict[str, list[Keys]]) -> int:
        """Swap the document's rows; note its speakers' old groups and its new claims' keys."""
        rows = [_row(r) for r in to_claim_records(doc)]
        for key, group in self._db.execute(
            "SELECT speaker_key, group_id FROM claims WHERE doc_id = ?", (doc.id,)
        ):
            old[key].add(group)
        self._db.execute(
            "DELETE FROM claims_text WHERE rowid IN (SELECT rowid FROM claims WHERE doc_id = ?)",
            (doc.id,),
        )
        self._db.execute(
            "DELETE FROM claim_keys WHERE claim_id IN (SELECT id FROM claims WHERE doc_id = ?)",
            (doc.id,),
        )
        self._db.execute("DELETE FROM claims WHERE doc_id = ?", (doc.id,))
        marks = ", ".join("?" * len(_COLUMNS))
        names = ", ".join(f'"{c}"' for c in _COLUMNS)
        self._db.executemany(
            f"INSERT INTO claims ({names}) VALUES ({marks})",  # noqa: S608 (fixed names)
            [[row[c] for c in _COLUMNS] for row in rows],
        )
        self._db.execute(
            f"INSERT INTO claims_text (rowid, text, speaker) {_TEXT_ROWS} WHERE doc_id = ?", (doc.id,)
        )
        key_rows = []
        for row in rows:
            keys = match_keys(_ref(row["id"], doc.id, row["speaker_key"], row["text"], row["figures"]))
            clues[row["speaker_key"]].append(keys)
            key_rows += [(row["speaker_key"], k, row["id"]) for k in keys[0]]
        self._db.executemany(_INSERT_KEYS, key_rows)
        return len(rows)

    def _regroup(self, old: dict[str, set[str]], clues: dict[str, list[Keys]],
                 docs: Sequence[str]) -> None:
        """Regroup the claims a write can affect.

        A speaker with up to EXACT_REGROUP_MAX claims is regrouped whole: exact, and the same
        whatever the arrival order. Beyond that (the outlets' own statements, a head of
        state in a long-running corpus), regrouping everything on every write grows with
        the square of the speaker's claims (measured: 83 ms per write after only 150
        documents, 25 ms with the bound at 40); then only the documents' own claims, for
        each of them the CANDIDATES claims sharing most of its match keys (claims sharing
        too few could not group with it), and the groups these and the documents' old
        claims belong to are regrouped: bounded work, at the price of exactness for claims
        beyond the candidates.
        """
        for speaker in sorted(set(old) | set(clues)):
            (count,) = self._db.execute(
                "SELECT count(*) FROM claims WHERE speaker_key = ?", (speaker,)
            ).fetchone()
            if count <= EXACT_REGROUP_MAX:
                selected = self._db.execute(
                    "SELECT id, doc_id, text, figures, group_id, conflict FROM claims"
                    " WHERE speaker_key = ?", (speaker,)
                ).fetchall()
            else:
                selected = self._neighbourhood(speaker, clues.get(speaker, []), old.get(speaker, set()), docs)
            refs = [_ref(k, d, speaker, t, f) for k, d, t, f, _, _ in selected]
            stored = {k: (group, conflict) for k, _, _, _, group, conflict in selected}
            self._db.executemany(
                "UPDATE claims SET group_id = ?, conflict = ? WHERE id = ?",
                [(g.group, int(g.conflict), key) for key, g in group_refs(refs).items()
                 if stored[key] != (g.group, int(g.conflict))],  # most groups do not change
            )

    def _neighbourhood(self, speaker: str, clues: list[Keys], old_groups: set[str],
                       docs: Sequence[str]) -> list[tuple[str, str, str, str, str, int]]:
        dmarks = ",".join("?" * len(docs)) or "''"
        ids: set[str] = set()
        for keys, least in clues:
            if len(keys) < least:
                continue
            marks = ",".join("?" * len(keys))
            ids |= {i for (i,) in self._db.execute(
                "SELECT k.claim_id FROM claim_keys k JOIN claims c ON c.id = k.claim_id"  # noqa: S608
                f" WHERE k.speaker_key = ? AND k.key IN ({marks}) AND c.doc_id NOT IN ({dmarks})"
                " GROUP BY k.claim_id HAVING count(*) >= ? ORDER BY count(*) DESC, k.claim_id LIMIT ?",
                [speaker, *sorted(keys), *docs, least, CANDIDATES],  # the documents' own come anyway
            )}
        marks = ",".join("?" * len(ids)) or "''"
        groups = old_groups | {g for (g,) in self._db.execute(
            f"SELECT DISTINCT group_id FROM claims WHERE id IN ({marks})", sorted(ids),  # noqa: S608
        ) if g}
        gmarks = ",".join("?" * len(groups)) or "''"
        # Three lookups by their own indices; `+speaker_key` keeps SQLite from reading
        # all of the speaker's claims through claims_speaker instead (thousands, for the
        # outlets' own statements, on every write).
        select = "SELECT id, doc_id, text, figures, group_id, conflict FROM claims WHERE +speaker_key = ?"
        return list(self._db.execute(
            f"{select} AND doc_id IN ({dmarks}) UNION {select} AND id IN ({marks})"
            f" UNION {select} AND group_id IN ({gmarks})",
            [speaker, *docs, speaker, *sorted(ids), speaker, *sorted(groups)],
        ))

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


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    speaker = "" if rec["kind"] == "statement" else (rec["speaker_canonical"] or rec["speaker"])
    return {
        **rec,
        "group_id": rec["group"],
        "conflict": int(rec["conflict"]),
        "speaker_key": speaker_key(speaker),
        "figures": json.dumps(rec["figures"], ensure_ascii=False),
        "sources": json.dumps(rec["sources"], ensure_ascii=False),
    }


def _record(row: dict[str, Any]) -> dict[str, Any]:
    rec = dict(row)
    rec["group"] = rec.pop("group_id")
    rec["conflict"] = bool(rec["conflict"])
    rec["figures"] = json.loads(rec["figures"] or "[]")
    rec["sources"] = json.loads(rec["sources"] or "[]")
    rec.pop("speaker_key", None)
    return rec


def _ref(key: str, doc_id: str, speaker: str, text: str, figures: str) -> ClaimRef:
    return ClaimRef(key=key, doc_id=doc_id, speaker=speaker, text=text, figures=_figures(figures))


def _figures(raw: str) -> tuple[Figure, ...]:
    return tuple(
        Figure(text=f["text"], value=f["value"], unit=f["unit"], modifier=f["modifier"])
        for f in json.loads(raw or "[]")
    )
