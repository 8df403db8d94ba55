"""Named entities with one canonical name across documents (pure; model and registry passed in).

spaCy runs paragraph by paragraph (never across a paragraph break; a very long paragraph
in pieces, see pipeline/nlp.py); the mentions are
trimmed, relabelled with the gazetteer and grouped within the document
(pipeline/entities/local.py); a registry, when given, maps each group to the
entity other documents already named (pipeline/entities/matching.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Protocol

from pipeline.document import MAX_MENTIONS, Document, Entity
from pipeline.document import Mention as Named
from pipeline.entities.gazetteer import Gazetteer, load_gazetteer
from pipeline.entities.local import (
    LocalEntity,
    Mention,
    add_repeats,
    make_mention,
    resolve_document,
)
from pipeline.nlp import parse, pieces

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?![ \t]*(?:\n|$))[^\n]+)*")  # lines between blank lines


class Registry(Protocol):
    def resolve(self, doc_id: str, entities: list[LocalEntity]) -> list[Any]: ...


def extract_entities(
    doc: Document, *, nlp: Any, registry: Registry | None = None, gazetteer: Gazetteer | None = None
) -> Document:
    """Add the document's named entities, each under its canonical name.

    Reads: text (and text_map, raw_text to place mentions in the input).
    Adds: entities (canonical, label, surface, variants, count, first offsets, and every
    mention with its offsets in the text and the input: the first MAX_MENTIONS of them).
    Never: changes raw_text, loads a model; its only I/O is through `registry`.
    Without a registry, names are resolved within the document only.
    """
    # The title is often cut from the text; its full names complete surnames in the text.
    hints = find_mentions(doc.title, nlp=nlp) if _title_apart(doc) else []
    local = resolve_document(find_mentions(doc.text, nlp=nlp), gazetteer or load_gazetteer(), hints)
    if registry is not None:
        names = [(r.canonical, r.label) for r in registry.resolve(doc.id, local)]
    else:
        names = [(e.name, e.label) for e in local]
    return replace(doc, entities=_merge(doc, local, names))


def _title_apart(doc: Document) -> bool:
    return bool(doc.title) and doc.title not in doc.text


def entity_paragraphs(doc: Document) -> list[str]:
    """The texts `extract_entities` gives the model for `doc` (pipeline/run.py parses a
    batch's together)."""
    texts = [p for _, p in _paragraphs(doc.title)] if _title_apart(doc) else []
    return texts + [p for _, p in _paragraphs(doc.text)]


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """(offset, text as the model reads it) of each paragraph, or piece of a long one. A
    single line break inside a paragraph is a wrap: spaCy sees a space (same offsets)."""
    return [
        (s, text[s:e].replace("\n", " "))
        for m in _PARAGRAPH.finditer(text)
        for s, e in pieces(text, m.start(), m.end())
    ]


def find_mentions(text: str, *, nlp: Any) -> list[Mention]:
    """Entity mentions in `text`, found one paragraph (or piece of a long one) at a time."""
    paragraphs = _paragraphs(text)
    docs = parse(nlp, (p for _, p in paragraphs))
    mentions = []
    for (offset, _), sdoc in zip(paragraphs, docs, strict=True):
        for ent in sdoc.ents:
            m = make_mention(text, offset + ent.start_char, offset + ent.end_char, ent.label_)
            if m is not None:
                mentions.append(m)
    return add_repeats(text, mentions)


def _merge(doc: Document, local: list[LocalEntity], names: list[tuple[str, str]]) -> tuple[Entity, ...]:
    """One Entity per canonical name (two local groups may resolve to one entity)."""
    merged: dict[tuple[str, str], list[LocalEntity]] = {}
    for e, key in zip(local, names, strict=True):
        merged.setdefault(key, []).append(e)
    out = []
    for (canonical, label), group in merged.items():
        mentions = sorted((m for e in group for m in e.mentions), key=lambda m: m.start)
        first = mentions[0]
        out.append(
            Entity(
                canonical=canonical,
                label=label,
                surface=first.surface,
                variants=tuple(dict.fromkeys(m.surface for m in mentions)),
                count=len(mentions),
                start=first.start,
                end=first.end,
                raw_start=doc.raw_offset(first.start),
                mentions=tuple(_named(doc, m) for m in mentions[:MAX_MENTIONS]),
            )
        )
    out.sort(key=lambda e: e.start)
    return tuple(out)


def _named(doc: Document, m: Mention) -> Named:
    raw = doc.raw_span(m.start, m.end)
    return Named(
        surface=m.surface,
        start=m.start,
        end=m.end,
        raw_start=raw[0] if raw else None,
        raw_end=raw[1] if raw else None,
    )
