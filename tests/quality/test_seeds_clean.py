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
    assert _squash(boilerplate) not in cleaned(doc_id)
