"""Seed articles: every `keep` string survives cleaning, every `boilerplate` string is gone."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import Document
from pipeline.stages.clean import clean_boilerplate

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds" / "documents"
GOLD = json.loads((REPO / "seeds" / "gold.json").read_text(encoding="utf-8"))["documents"]

pytestmark = pytest.mark.quality


def _squash(text: str) -> str:
    return " ".join(text.split())


@cache
def cleaned(doc_id: str) -> str:
    raw = (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")
    doc = clean_boilerplate(Document(id=doc_id, source=f"{doc_id}.txt", raw_text=raw))
    return _squash(doc.text)


def _cases(field: str) -> list[tuple[str, str]]:
    return [(doc_id, s) for doc_id, labels in sorted(GOLD.items()) for s in labels.get(field, [])]


@pytest.mark.parametrize(("doc_id", "kept"), _cases("keep"))
def test_kept_text_survives(doc_id: str, kept: str) -> None:
    assert _squash(kept) in cleaned(doc_id)


@pytest.mark.parametrize(("doc_id", "boilerplate"), _cases("boilerplate"))
def test_boilerplate_is_gone(doc_id: str, boilerplate: str) -> None:
    text = cleaned(doc_id)
    needle = _squash(boilerplate)
    # A label that is one short word ("World", "Published", "Comments") is gone when no
    # paragraph of the cleaned text consists of it; a longer label must not occur at all.
    if len(needle.split()) <= 2:
        paragraphs = {_squash(p) for p in clean_paragraphs(doc_id)}
        assert needle not in paragraphs
    else:
        assert needle not in text


@cache
def clean_paragraphs(doc_id: str) -> tuple[str, ...]:
    raw = (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")
    doc = clean_boilerplate(Document(id=doc_id, source=f"{doc_id}.txt", raw_text=raw))
    return tuple(doc.text.split("\n\n"))
