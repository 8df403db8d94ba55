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


# The fields of an index body a member summary reads (Elasticsearch fetches only these;
# `claims.kind` because every claim has one: a filtered list drops objects left empty).
MEMBER_FIELDS = (
    "id",
    "title",
    "published",
    "received_at",
    "outlet",
    "duplicate_of",
    "source",
    "sources",
    "entities.canonical",
    "entities.label",
    "claims.kind",
    "claims.conflict",
)


def story_member(d: Document | Mapping[str, Any]) -> dict[str, Any]:
    """What the story record needs of one document, small enough to keep beside it: the
    stories table rebuilds a record from these rather than from every member's body.

    `d`: a Document, its index body (`to_search_body`, `to_dict`), that body cut down to
    `MEMBER_FIELDS`, or a summary already."""
    if isinstance(d, Document):
        return {
            "member": 1,
            "id": d.id,
            "title": d.title,
            "when": d.published or d.received_at,
            "outlet": d.outlet,
            "duplicate_of": d.duplicate_of,
            "sources": [s for s in (d.sources or (d.source,)) if s],
            "entities": [[e.canonical, e.label] for e in d.entities],
            "n_claims": len(d.claims),
            "n_conflicting": sum(c.conflict for c in d.claims),
        }
    if d.get("member") == 1:
        return dict(d)
    claims = d.get("claims") or ()
    return {
        "member": 1,
        "id": d["id"],
        "title": d.get("title") or "",
        "when": d.get("published") or d.get("received_at") or "",
        "outlet": d.get("outlet") or "",
        "duplicate_of": d.get("duplicate_of") or "",
        "sources": [s for s in (d.get("sources") or (d.get("source"),)) if s],
        "entities": [[e.get("canonical", ""), e.get("label", "")] for e in d.get("entities") or ()],
        "n_claims": len(claims),
        "n_conflicting": sum(bool(c.get("conflict")) for c in claims),
    }


def to_story_record(story_id: str, docs: Sequence[Document | Mapping[str, Any]]) -> dict[str, Any]:
    """id, title, first/last seen, outlets, documents, sources, top entities, claim counts.

    `docs`: Documents, index bodies or `story_member`s, in any mix."""
    members = sorted((story_member(d) for d in docs), key=lambda m: (m["when"] or "~", m["id"]))
    titled = [m for m in members if m["title"]] or members
    # The title comes from the article most connected to the others (most shared
    # entity names), the first one on a tie: the story's centre, not an outlier.
    weight = Counter(n for m in members for n in {name for name, _ in m["entities"]})
    central = max(
        titled, key=lambda m: (sum(weight[name] - 1 for name, _ in m["entities"]), -members.index(m))
    )
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
