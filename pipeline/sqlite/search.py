"""A search plan (pipeline/search/plan.py) as SQL over the embedded index (pure).

Each clause becomes a condition on the documents table `d`: phrases through the FTS5
table `documents_text` (title, text, entity names; porter stemming, accents folded),
entity and speaker keys through `doc_keys`, the rest on the documents' own columns.
`fts` quotes phrases so nothing a user types is read as FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.search import plan as p

_IN_TEXT = "d.rowid IN (SELECT rowid FROM documents_text WHERE documents_text MATCH ?)"
_DATE = "substr(coalesce(nullif(d.published, ''), json_extract(d.body, '$.received_at')), 1, 10)"
_ARRIVED = "substr(json_extract(d.body, '$.received_at'), 1, 10)"


def fts(phrases: Sequence[str]) -> str:
    """An FTS5 query matching any of `phrases` (words separated by spaces)."""
    return " OR ".join(f'"{" ".join(ph.split())}"' for ph in phrases if ph.split())


def has_keys(field: str, keys: Sequence[str]) -> tuple[str, list[Any]]:
    if not keys:
        return "0", []
    marks = ", ".join("?" * len(keys))
    return f"d.rowid IN (SELECT doc FROM doc_keys WHERE field = ? AND key IN ({marks}))", [field, *keys]


def where(node: p.Node) -> tuple[str, list[Any]]:
    """The SQL condition for one clause of a plan, and its parameters."""
    if isinstance(node, p.Text):
        return _IN_TEXT, [fts(node.phrases)]
    if isinstance(node, p.Entity):
        keys, params = has_keys("entity", node.keys)
        return f"({keys} OR {_IN_TEXT})", [*params, fts(node.phrases)]
    if isinstance(node, p.Keys):
        return has_keys("entity" if node.field == "entity_keys" else "speaker", node.keys)
    if isinstance(node, p.Outlet):
        return "(' ' || fold(d.outlet) || ' ') LIKE ? ESCAPE '\\'", [f"% {_like(node.words)} %"]
    if isinstance(node, p.Story):
        return "d.story_id LIKE ? ESCAPE '\\'", [f"{_like(node.prefix)}%"]
    if isinstance(node, p.Dates):
        column = _DATE if node.field == "date" else _ARRIVED
        parts, params = [], []
        if node.gte:
            parts.append(f"{column} >= ?")
            params.append(node.gte)
        if node.lt:
            parts.append(f"{column} < ?")
            params.append(node.lt)
        return f"({' AND '.join(parts)})", params
    if isinstance(node, p.Not):
        sql, params = where(node.clause)
        return f"NOT coalesce({sql}, 0)", params
    parts_sql, all_params = [], []
    for clause in node.clauses:
        sql, params = where(clause)
        parts_sql.append(sql)
        all_params.extend(params)
    return f"({' OR '.join(parts_sql)})", all_params


def conditions(plan: p.Plan) -> tuple[str, list[Any]]:
    """Every clause of `plan`, AND'ed."""
    sqls, params = [], []
    for node in plan.clauses:
        sql, ps = where(node)
        sqls.append(sql)
        params.extend(ps)
    return " AND ".join(sqls) or "1", params


def entity_score(plan: p.Plan) -> tuple[str, list[Any]]:
    """How many of the plan's named entities a document mentions (ranks it higher)."""
    sqls, params = [], []
    for node in plan.entities:
        sql, ps = has_keys("entity", node.keys)
        sqls.append(f"({sql})")
        params.extend(ps)
    return " + ".join(sqls) or "0", params


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
