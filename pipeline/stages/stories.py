"""Stages that place a document among the others: near duplicates and stories (pure).

Both stages take their shared state as a keyword argument (`lsh`, `stories`), an
object from pipeline/redis/story_store.py in production; when it is None (unit
tests, a notebook) the stage leaves the document as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline.document import Document
from pipeline.stories import versions
from pipeline.stories.features import story_features


def find_duplicates(doc: Document, *, lsh: Any = None) -> Document:
    """Mark a near-duplicate copy (syndicated, lightly edited, an older version).

    Reads: text, outlet, published, received_at.  Adds: duplicate_of and similarity
    when another copy is the one search shows; versions (older copies) when this one is.
    Never: changes the text, drops the document (a copy still belongs to its story).
    """
    if lsh is None or not doc.text:
        return doc
    me = versions.Version(id=doc.id, outlet=doc.outlet, published=doc.published, received_at=doc.received_at)
    me, matches = lsh.match(me, versions.minhash(doc.text))
    if not matches:
        return doc
    group = [me, *(v for v, _ in matches)]
    shown = versions.choose_shown(group)
    if shown == doc.id:
        return replace(
            doc,
            duplicate_of="",
            similarity=max(s for _, s in matches),
            versions=versions.older_versions(group, shown),
        )
    similarity = next((s for v, s in matches if v.id == shown), max(s for _, s in matches))
    return replace(doc, duplicate_of=shown, similarity=similarity, versions=())


def assign_story(doc: Document, *, stories: Any = None) -> Document:
    """Give the document the id of the story (event) it reports.

    Reads: title, text, entities, published, received_at, and duplicate_of / versions
    (a near-duplicate copy joins its original's story without being compared).
    Adds: story_id ("s-" and the smallest document id of its story; it may change as
    later articles join or split the story).
    Never: hides or merges documents: a story groups articles, each stays whole.
    """
    if stories is None or not doc.text:
        return doc
    copy_of = doc.duplicate_of or (doc.versions[0] if doc.versions else "")
    return replace(doc, story_id=stories.add(story_features(doc), copy_of=copy_of))
