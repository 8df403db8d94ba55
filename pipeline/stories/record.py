"""The story record: what a story looks like in the indices and on the CLI (pure).

`to_story_record(story_id, docs)` is shared by the embedded stories table and the
Elasticsearch `newsflow-stories` index. It takes the member documents (Document or
the body `to_search_body` / `to_dict` made of one) and never hides one: a
near-duplicate copy is listed too, marked in `duplicates`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.document import Document

TOP_ENTITIES = 10


def _doc(d: Document | Mapping[str, Any]) -> Document:
    # Index bodies leave raw_text out (pipeline/index.py); the record never reads it.
    return d if isinstance(d, Document) else Document.from_dict({"raw_text": "", **d})


def _when(doc: Document) -> str:
    return doc.published or doc.received_at


def story_member(d: Document | Mapping[str, Any]) -> dict[str, Any]:
    """What the story record needs of one document, small enough to keep beside it: the
    stories table rebuilds a record from these rather than from every member's body."""
    if isinstance(d, Mapping) and d.get("member") == 1:
        return dict(d)
    doc = _doc(d)
    return {
        "member": 1, "id": doc.id, "title": doc.title, "when": _when(doc), "outlet": doc.outlet,
        "duplicate_of": doc.duplicate_of, "sources": [s for s in (doc.sources or (doc.source,)) if s],
        "entities": [[e.canonical, e.label] for e in doc.entities],
        "n_claims": len(doc.claims), "n_conflicting": sum(c.conflict for c in doc.claims),
    }


def to_story_record(story_id: str, docs: Sequence[Document | Mapping[str, Any]]) -> dict[str, Any]:
    """id, title, first/last seen, outlets, documents, sources, top entities, claim counts.

    `docs`: Documents, index bodies or `story_member`s, in any mix."""
    members = sorted((story_member(d) for d in docs), key=lambda m: (m["when"] or "~", m["id"]))
    titled = [m for m in members if m["title"]] or members
    # The title comes from the article most connected to the others (most shared
    # entity names), the first one on a tie: the story's centre, not an outlier.
    weight = Counter(n for m in members for n in {name for name, _ in m["entities"]})
    central = max(titled, key=lambda m: (sum(weight[name] - 1 for name, _ in m["entities"]),
                                         -members.index(m)))
    seen = sorted(m["when"] for m in members if m["when"])
    entity_docs: Counter[tuple[str, str]] = Counter()
    for m in members:
        for name, label in {(name, label) for name, label in m["entities"]}:
            entity_docs[name, label] += 1
    return {
        "id": story_id,
        "title": central["title"],
        "first_seen": seen[0] if seen else "",
        "last_seen": seen[-1] if seen else "",
        "outlets": sorted({m["outlet"] for m in members if m["outlet"]}),
        "documents": [m["id"] for m in members],
        "n_documents": len(members),
        "duplicates": sorted(m["id"] for m in members if m["duplicate_of"]),
        "sources": sorted({s for m in members for s in m["sources"]}),
        "top_entities": [
            {"name": name, "label": label, "documents": n}
            for (name, label), n in sorted(entity_docs.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ENTITIES]
        ],
        "n_claims": sum(m["n_claims"] for m in members),
        "n_conflicting_claims": sum(m["n_conflicting"] for m in members),
    }
