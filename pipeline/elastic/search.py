"""The search request for what a user typed, and its hits in the embedded index's shape (pure)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

SEARCH_FIELDS = ["title^5", "text", "people^3", "organisations^3", "places^3"]
# Elasticsearch marks matches with these tags in HTML-escaped text; `snippet` turns them into
# the embedded index's \x02 ... \x03. Asking for \x02 and \x03 directly loses marks: the
# highlighter trims each fragment like Java's String.trim, which removes every character up
# to U+0020, so a match at the start of a fragment came back as "Rutte\x03 cautiously ...".
PRE_TAG, POST_TAG = "<em>", "</em>"
_TAG = re.compile(f"({re.escape(PRE_TAG)}|{re.escape(POST_TAG)})")


def search_request(query: str, *, limit: int, duplicates: bool = False) -> dict[str, Any] | None:
    """The search request for what a user typed (pure); None when there is nothing to find.

    Every word must match (in the title, the text or an entity name), like the embedded
    index. Copies of another document (`duplicate_of` set) are not listed unless
    `duplicates`. The highlighter escapes the text (encoder "html"), so the only tags in a
    fragment are its marks; `search_hits` gives them back as the embedded index's.
    """
    if not re.search(r"\w", query):
        return None
    multi_match = {
        "query": query,
        "type": "cross_fields",
        "operator": "and",
        "fields": SEARCH_FIELDS,
    }
    return {
        "query": {
            "bool": {
                "must": [{"multi_match": multi_match}],
                "must_not": [] if duplicates else [{"wildcard": {"duplicate_of": "?*"}}],
            }
        },
        "highlight": {
            "pre_tags": [PRE_TAG],
            "post_tags": [POST_TAG],
            "encoder": "html",
            "fields": {"text": {"fragment_size": 160, "number_of_fragments": 1, "no_match_size": 160}},
        },
        "size": limit,
        "source_includes": ["id", "title", "outlet", "sources", "story_id"],
    }


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
