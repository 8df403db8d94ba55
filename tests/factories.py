"""Builders with sensible defaults, so a test states only the fields it cares about."""

from __future__ import annotations

from typing import Any

from pipeline.document import Claim, Document, Entity, content_id


def make_document(raw_text: str = "Body text of an article.", **fields: Any) -> Document:
    values: dict[str, Any] = {
        "id": content_id(raw_text),
        "source": "/drop/article.txt",
        "sources": ("/drop/article.txt",),
        "raw_text": raw_text,
    }
    values.update(fields)
    return Document(**values)


def make_entity(canonical: str = "Mark Rutte", label: str = "PERSON", **fields: Any) -> Entity:
    return Entity(canonical=canonical, label=label, surface=fields.pop("surface", canonical), **fields)


def make_claim(text: str = "We all need to do more", **fields: Any) -> Claim:
    return Claim(text=text, kind=fields.pop("kind", "direct"), **fields)
