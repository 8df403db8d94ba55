"""Named entities with one canonical name per document (pure; the model is passed in).

First version: spaCy NER run paragraph by paragraph, honorifics and possessives
stripped, short person mentions resolved to the full name used earlier.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pipeline.document import Document, Entity

KEEP_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT"})
_HONORIFIC = re.compile(
    r"^(?:(?:Mr|Mrs|Ms|Dr|Sir|Dame|President|Prime Minister|Secretary[- ]General|Chancellor)\.?\s+)+"
)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


def canonical_form(surface: str) -> str:
    """The name without honorific, possessive or surrounding punctuation."""
    name = " ".join(surface.split())
    name = _POSSESSIVE.sub("", name)
    name = _HONORIFIC.sub("", name)
    return name.strip(" .,:;\"'“”‘’")


def extract_entities(doc: Document, *, nlp: Any) -> Document:
    """Add the document's named entities.

    Reads: text.  Adds: entities (canonical, label, surface, count, first offsets).
    Never: touches raw_text, performs I/O, loads a model.
    """
    mentions: list[tuple[str, str, str, int, int]] = []
    for start, paragraph in _paragraphs(doc.text):
        for ent in nlp(paragraph).ents:
            if ent.label_ not in KEEP_LABELS:
                continue
            name = canonical_form(ent.text)
            if name:
                mentions.append((name, ent.label_, ent.text, start + ent.start_char, start + ent.end_char))
    return replace(doc, entities=_aggregate(doc, mentions))


def _paragraphs(text: str) -> list[tuple[int, str]]:
    out = []
    for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        out.append((m.start(), m.group()))
    return out


def _aggregate(doc: Document, mentions: list[tuple[str, str, str, int, int]]) -> tuple[Entity, ...]:
    full_names: dict[str, str] = {}
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for name, label, surface, start, end in mentions:
        if label == "PERSON":
            parts = name.split()
            if len(parts) > 1:
                full_names.setdefault(parts[-1], name)
            elif name in full_names:
                name = full_names[name]
        key = (name, label)
        if key not in merged:
            merged[key] = {"surface": surface, "variants": [surface], "count": 0,
                           "start": start, "end": end}
        entry = merged[key]
        entry["count"] += 1
        if surface not in entry["variants"]:
            entry["variants"].append(surface)
    return tuple(
        Entity(canonical=name, label=label, surface=e["surface"], variants=tuple(e["variants"]),
               count=e["count"], start=e["start"], end=e["end"], raw_start=doc.raw_offset(e["start"]))
        for (name, label), e in merged.items()
    )
