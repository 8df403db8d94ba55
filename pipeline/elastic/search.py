"""A resolved query (pipeline/search/plan.py) as an Elasticsearch request, the name look-ups
that resolve it, and the hits in the embedded index's shape (pure)."""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pipeline.search import plan as p
from pipeline.search.names import SEP

SEARCH_FIELDS = ["title^5", "text", "people^3", "organisations^3", "places^3"]
ENTITY_BOOST = 10.0  # a document that mentions a named entity ranks above one that only has the words
# Elasticsearch marks matches with these tags in HTML-escaped text; `snippet` turns them into
# the embedded index's \x02 ... \x03. Asking for \x02 and \x03 directly loses marks: the
# highlighter trims each fragment like Java's String.trim, which removes every character up
# to U+0020, so a match at the start of a fragment came back as "Rutte\x03 cautiously ...".
PRE_TAG, POST_TAG = "<em>", "</em>"
_TAG = re.compile(f"({re.escape(PRE_TAG)}|{re.escape(POST_TAG)})")


def search_request(plan: p.Plan, *, limit: int, duplicates: bool = False) -> dict[str, Any]:
    """The search request for a resolved query (pure): the same clauses the embedded index
    runs as SQL (pipeline/sqlite/search.py), as Elasticsearch queries.

    Copies of another document (`duplicate_of` set) are not listed unless `duplicates`.
    The highlighter marks every phrase the plan looks for (so "Kiev" marks "Kyiv") in
    HTML-escaped text (encoder "html"): the only tags in a fragment are its marks, and
    `search_hits` gives them back as the embedded index's.
    """
    must = [query(node) for node in plan.clauses if not isinstance(node, p.Not)]
    must_not = [query(node.clause) for node in plan.clauses if isinstance(node, p.Not)]
    if not duplicates:
        must_not.append({"wildcard": {"duplicate_of": "?*"}})
    text_field: dict[str, Any] = {"fragment_size": 160, "number_of_fragments": 1, "no_match_size": 160}
    if plan.highlight:
        text_field["highlight_query"] = _any_phrase(plan.highlight, ["text"])
    return {
        "query": {"bool": {"must": must, "must_not": must_not}},
        "highlight": {
            "pre_tags": [PRE_TAG],
            "post_tags": [POST_TAG],
            "encoder": "html",
            "fields": {"text": text_field},
        },
        "size": limit,
        "sort": ["_score", {"id": "asc"}],
        "source_includes": ["id", "title", "outlet", "sources", "story_id"],
    }


def query(node: p.Node) -> dict[str, Any]:
    """One clause of a plan as an Elasticsearch query (pure)."""
    if isinstance(node, p.Text):
        return _any_phrase(node.phrases, SEARCH_FIELDS)
    if isinstance(node, p.Entity):
        mentions = {
            "constant_score": {"filter": {"terms": {"entity_keys": list(node.keys)}}, "boost": ENTITY_BOOST}
        }
        return {
            "bool": {
                "should": [mentions, _any_phrase(node.phrases, SEARCH_FIELDS)],
                "minimum_should_match": 1,
            }
        }
    if isinstance(node, p.Keys):
        if not node.keys:
            return {"match_none": {}}
        return {"constant_score": {"filter": {"terms": {node.field: list(node.keys)}}}}
    if isinstance(node, p.Outlet):
        return {"constant_score": {"filter": {"match_phrase": {"outlet": node.words}}}}
    if isinstance(node, p.Story):
        return {"constant_score": {"filter": {"prefix": {"story_id": node.prefix}}}}
    if isinstance(node, p.Dates):
        bounds = {k: v for k, v in (("gte", node.gte), ("lt", node.lt)) if v}
        field = "date" if node.field == "date" else "received_at"
        return {"constant_score": {"filter": {"range": {field: {**bounds, "format": "strict_date"}}}}}
    if isinstance(node, p.Not):
        return {"bool": {"must_not": [query(node.clause)]}}
    return {"bool": {"should": [query(c) for c in node.clauses], "minimum_should_match": 1}}


def _any_phrase(phrases: Sequence[str], fields: list[str]) -> dict[str, Any]:
    # zero_terms_query: a phrase of stop words alone ("in", "the") holds everywhere, as in
    # the embedded index (which keeps stop words), instead of nowhere.
    match = {"type": "phrase", "fields": fields, "zero_terms_query": "all"}
    return {
        "bool": {
            "should": [{"multi_match": {"query": ph, **match}} for ph in phrases],
            "minimum_should_match": 1,
        }
    }


# ---------------------------------------------------------------- names (NameIndex)
def names_request(field: str, pattern_of: str, values: Collection[str], size: int) -> dict[str, Any]:
    """A request for the name keys (`form=>entity key`) with a form in `values` (`pattern_of`
    "form") or an entity key in `values` ("key"), as aggregation buckets (pure)."""
    alternatives = "|".join(_regex_escape(v) for v in sorted(values))
    match: dict[str, Any]
    if pattern_of == "form":
        include = f"({alternatives}){_regex_escape(SEP)}.*"
        match = {"bool": {"should": [{"prefix": {"name_keys": f"{v}{SEP}"}} for v in sorted(values)]}}
    else:
        include = f".*{_regex_escape(SEP)}({alternatives})"
        match = {"terms": {"entity_keys": sorted(values)}}
    return {
        "size": 0,
        "query": match,
        "aggs": {"names": {"terms": {"field": field, "include": include, "size": size}}},
    }


def name_pairs(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(form, entity key) of each bucket of a `names_request` response (pure)."""
    buckets = response["aggregations"]["names"]["buckets"]
    pairs = (str(b["key"]).partition(SEP) for b in buckets)
    return [(form, key) for form, sep, key in pairs if sep]


def _regex_escape(text: str) -> str:
    """`text` as a literal in Lucene's regular expressions: every non-alphanumeric escaped."""
    return "".join(c if c.isalnum() else f"\\{c}" for c in text)


def search_hits(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The hits of a search response in the shape `SqliteIndex.search` returns (pure)."""
    hits = []
    for hit in response["hits"]["hits"]:
        src = hit["_source"]
        fragments = hit.get("highlight", {}).get("text", [""])
        hits.append(
            {
                "id": src.get("id", hit["_id"]),
                "title": src.get("title", ""),
                "outlet": src.get("outlet", ""),
                "score": float(f"{hit['_score'] or 0.0:.6g}"),
                "snippet": snippet(fragments[0]),
                "sources": src.get("sources", []),
                "story_id": src.get("story_id", ""),
            }
        )
    return hits


def snippet(fragment: str) -> str:
    """A highlighted fragment (HTML-escaped, marks as tags) as the embedded index gives
    snippets: plain text, whitespace collapsed, each mark \\x02 ... \\x03 and every mark
    closed, whatever the fragment looks like (pure)."""
    out: list[str] = []
    marking = False
    for part in _TAG.split(fragment):
        if part == PRE_TAG:
            if not marking:
                out.append("\x02")
            marking = True
        elif part == POST_TAG:
            if marking:
                out.append("\x03")
            marking = False
        else:
            # the control characters are ours alone: a text that holds them cannot unbalance a mark
            out.append(html.unescape(part).replace("\x02", "").replace("\x03", ""))
    if marking:
        out.append("\x03")
    return " ".join("".join(out).split())
