"""Templates, aliases and records as Elasticsearch stores them (pure, but for reading the
template files shipped in config/elasticsearch/).

Unknown dates are "" in the pipeline and null in Elasticsearch; `to_es_body` and
`to_es_record` add `date` and `indexed_at` (and a document the keys search by name
uses, pipeline/search/names.py) on the way in, `from_es_source` removes what
this back-end added on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from pipeline.document import Document
from pipeline.index import document_from_body, to_search_body
from pipeline.search.names import doc_entity_keys, doc_name_keys, doc_speaker_keys

KINDS = ("documents", "claims", "stories")
DEFAULT_PREFIX = "newsflow"
# Fields that hold dates. The pipeline writes "" when a date is unknown, which a date
# field refuses; Elasticsearch gets null instead and `from_es_source` gives "" back.
DATE_KEYS = frozenset({"published", "received_at", "at", "first_seen", "last_seen"})
# Fields this adapter adds on the way in (and removes on the way out), per kind.
ES_ONLY_KEYS = {
    "documents": ("date", "indexed_at", "story_gen", "entity_keys", "name_keys", "speaker_keys"),
    "claims": ("date", "indexed_at", "speaker_key", "outlets", "n_outlets", "n_documents", "gen"),
    "stories": ("date", "indexed_at"),
}


def alias_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def load_template(kind: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The composable index template for `kind` from config/elasticsearch/, for `prefix`."""
    path = resources.files("config") / "elasticsearch" / f"{kind}.json"
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    alias = alias_name(prefix, kind)
    template["index_patterns"] = [f"{alias}-*"]
    template["_meta"]["alias"] = alias
    template["template"]["mappings"]["_meta"]["template"] = alias
    return template


def to_es_body(doc: Document, *, indexed_at: str) -> dict[str, Any]:
    """The document record as Elasticsearch stores it: `to_search_body` plus `date` and
    `indexed_at`, with unknown dates as null (pure)."""
    body: dict[str, Any] = _nulls_for_empty_dates(to_search_body(doc))
    body.update(search_keys(doc))
    body["indexed_at"] = indexed_at
    body["date"] = iso_date(doc.published) or iso_date(doc.received_at) or indexed_at
    return body


def search_keys(doc: Document) -> dict[str, list[str]]:
    """What a search by name matches (pipeline/search/names.py), as the record's fields."""
    return {
        "entity_keys": doc_entity_keys(doc),
        "name_keys": doc_name_keys(doc),
        "speaker_keys": doc_speaker_keys(doc),
    }


def with_search_keys(source: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document record with its search keys computed again (pure): for records
    copied from an index built before they existed."""
    return {**source, **search_keys(document_from_body(from_es_source(source)))}


def to_es_record(record: Mapping[str, Any], *, indexed_at: str) -> dict[str, Any]:
    """A claim or story record as Elasticsearch stores it: unknown dates null, plus
    `indexed_at` and `date` (the article's or the story's latest date, else now) (pure)."""
    body: dict[str, Any] = _nulls_for_empty_dates(dict(record))
    body.setdefault("indexed_at", indexed_at)
    when = body.get("published") or body.get("last_seen")
    body.setdefault("date", iso_date(when) or indexed_at)
    return body


def from_es_source(source: Mapping[str, Any], kind: str = "documents") -> dict[str, Any]:
    """Back from Elasticsearch to the record the embedded index returns (pure)."""
    drop = ES_ONLY_KEYS[kind]
    body: dict[str, Any] = _empty_for_null_dates({k: v for k, v in source.items() if k not in drop})
    return body


def iso_date(value: str | None) -> str | None:
    """`value` as an ISO 8601 timestamp Elasticsearch's strict parser accepts, else None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _nulls_for_empty_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (None if k in DATE_KEYS and v == "" else _nulls_for_empty_dates(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_nulls_for_empty_dates(v) for v in value]
    return value


def _empty_for_null_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("" if k in DATE_KEYS and v is None else _empty_for_null_dates(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_empty_for_null_dates(v) for v in value]
    return value


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
