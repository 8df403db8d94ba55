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


# The gold does not label outlets: each expectation is what the seed's own text says
# about its site (quoted), and a seed whose text names no site gets none.
@pytest.mark.parametrize(("doc_id", "outlet"), [
    ("000_7b308ae5abe5466a", "Sky News"),  # "Read more from Sky News:"
    ("001_d5b6a9cfd5e8d1e9", "The Irish Times"),  # "… is a contributor to The Irish Times …"
    ("002_ef7f3b840f387ce1", ""),  # no site named anywhere
    ("003_eb258413f4bccc24", "The New York Times"),  # "Kim Barker is a reporter for The New York Times."
    ("004_07fa454dbad26224", "The Independent"),  # its appeal: "The Independent is trusted by …"
])  # fmt: skip
def test_the_outlet_a_seed_names_itself_by(doc_id: str, outlet: str) -> None:
    raw = (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")
    assert clean_boilerplate(Document(id=doc_id, source=f"{doc_id}.txt", raw_text=raw)).outlet == outlet
