"""The search request for what a user typed, and its hits in the embedded index's shape (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SEARCH_FIELDS = ["title^5", "text", "people^3", "organisations^3", "places^3"]


def search_request(query: str, *, limit: int, duplicates: bool = False) -> dict[str, Any] | None:
    """The search request for what a user typed (pure); None when there is nothing to find.

    Every word must match (in the title, the text or an entity name), like the embedded
    index. Copies of another document (`duplicate_of` set) are not listed unless
    `duplicates`. The snippet
    marks matches with \\x02 ... \\x03, as the embedded index does.
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
            "pre_tags": ["\x02"],
            "post_tags": ["\x03"],
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
                "snippet": " ".join(fragments[0].split()),
                "sources": src.get("sources", []),
                "story_id": src.get("story_id", ""),
            }
        )
    return hits
