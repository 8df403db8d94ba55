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


def to_story_record(story_id: str, docs: Sequence[Document | Mapping[str, Any]]) -> dict[str, Any]:
    """id, title, first/last seen, outlets, documents, sources, top entities, claim counts."""
    members = sorted((_doc(d) for d in docs), key=lambda d: (_when(d) or "~", d.id))
    titled = [d for d in members if d.title] or members
    # The title comes from the article most connected to the others (most shared
    # entity names), the first one on a tie: the story's centre, not an outlier.
    names = [{e.canonical for e in d.entities} for d in members]
    weight = Counter(n for ns in names for n in ns)
    central = max(titled, key=lambda d: (sum(weight[e.canonical] - 1 for e in d.entities), -members.index(d)))
    seen = sorted(w for w in (_when(d) for d in members) if w)
    entity_docs: Counter[tuple[str, str]] = Counter()
    for d in members:
        for key in {(e.canonical, e.label) for e in d.entities}:
            entity_docs[key] += 1
    claims = [c for d in members for c in d.claims]
    return {
        "id": story_id,
        "title": central.title,
        "first_seen": seen[0] if seen else "",
        "last_seen": seen[-1] if seen else "",
        "outlets": sorted({d.outlet for d in members if d.outlet}),
        "documents": [d.id for d in members],
        "n_documents": len(members),
        "duplicates": sorted(d.id for d in members if d.duplicate_of),
        "sources": sorted({s for d in members for s in (d.sources or (d.source,)) if s}),
        "top_entities": [
            {"name": name, "label": label, "documents": n}
            for (name, label), n in sorted(entity_docs.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ENTITIES]
        ],
        "n_claims": len(claims),
        "n_conflicting_claims": sum(c.conflict for c in claims),
    }
