"""What a document looks like in the search indices (pure).

`to_search_body` is shared by the embedded SQLite index and Elasticsearch, so both
hold the same record: the full document plus flat keyword fields Kibana aggregates on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pipeline.document import Document


def without_bulk(doc: Document) -> Document:
    """The document as the indices need it: without the original input and the offset
    map, which `to_search_body` leaves out anyway (half a message, or more for HTML)."""
    return replace(doc, raw_text="", text_map=())


def to_search_body(doc: Document) -> dict[str, Any]:
    """The indexed record: every field of the document, minus bulk, plus flat facets."""
    body = doc.to_dict()
    body.pop("raw_text", None)  # the original input stays with its source, not in search
    body.pop("text_map", None)
    body["people"] = sorted(set(doc.people))
    body["organisations"] = sorted(set(doc.organisations))
    body["places"] = sorted(set(doc.places))
    body["speakers"] = sorted({c.speaker_canonical or c.speaker for c in doc.claims if c.speaker})
    body["n_entities"] = len(doc.entities)
    body["n_claims"] = len(doc.claims)
    return body


def document_from_body(body: Mapping[str, Any]) -> Document:
    """The document an indexed record holds (the record leaves out the raw input)."""
    return Document.from_dict({"id": "", "source": "", "raw_text": "", **body})
