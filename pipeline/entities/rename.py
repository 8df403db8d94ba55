"""A canonical name that settled later, carried into a document written before (pure).

The registry names an entity from what it has seen: an article that only writes "Sibiga"
makes "Sibiga"; a later one writing "Andrii Sybiha" renames it. `renamed(doc, renames)`
gives the document as if it had been written after: its entities under the new name
(merged with an entity already under it) and its claims' speakers too.
`renames` maps an entity key (pipeline/search/names.entity_key: "person:Sibiga") to
the entity's canonical name now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from pipeline.document import MAX_MENTIONS, Document, Entity
from pipeline.search.names import entity_key, kind


def renamed(doc: Document, renames: Mapping[str, str]) -> Document:
    """`doc` with every entity (and claim speaker) `renames` names otherwise; `doc` itself
    when nothing changes."""
    new_of = {key: name for key, name in renames.items() if name and name != key.split(":", 1)[1]}
    hits = [e for e in doc.entities if entity_key(e.label, e.canonical) in new_of]
    if not hits:
        return doc
    by_key: dict[str, list[Entity]] = {}
    for e in doc.entities:
        name = new_of.get(entity_key(e.label, e.canonical), e.canonical)
        by_key.setdefault(f"{kind(e.label)}:{name}", []).append(replace(e, canonical=name))
    entities = tuple(_merged(group) for group in by_key.values())
    people = {
        e.canonical: new_of[entity_key(e.label, e.canonical)]
        for e in hits
        if kind(e.label) in ("person", "org")
    }
    claims = tuple(
        replace(c, speaker_canonical=people[c.speaker_canonical]) if c.speaker_canonical in people else c
        for c in doc.claims
    )
    return replace(doc, entities=entities, claims=claims)


def _merged(group: list[Entity]) -> Entity:
    """One entity from the entities of a document that now share one name."""
    if len(group) == 1:
        return group[0]
    first = min(group, key=lambda e: e.start)
    variants = tuple(dict.fromkeys(v for e in group for v in e.variants))
    mentions = tuple(sorted((m for e in group for m in e.mentions), key=lambda m: m.start))
    return replace(
        first, variants=variants, count=sum(e.count for e in group), mentions=mentions[:MAX_MENTIONS]
    )
