"""Cleaning never drops an article: every ECB+ development article, dropped as a .txt
file, comes out of the cleaner with at least 95% of its words, and with no outlet
its text does not name (issue 18.4).

ECB+ articles are news reports one sentence a line, some with a headline and a date
stamp, many a sentence or two long: nothing in them is furniture. The file is read
by the file reader, as a worker reads a dropped file, and cleaned in-process by the
stage the workers run. bench/cleaning_ecb.py prints the same figures.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from pipeline.cleaning.outlet import looks_like_outlet
from pipeline.errors import SkipDocument
from pipeline.sources.files import read_dropped_file
from pipeline.stages.clean import clean_boilerplate
from tests.conftest import BENCH

pytestmark = pytest.mark.quality

ECB_DEV = BENCH / "stories" / "ecbplus-dev.jsonl"
MIN_WORDS_KEPT = 0.95
_WORD = re.compile(r"\w+")


def words_kept(raw: str, clean: str) -> float:
    """Share of the input's words, counted with repeats, that the cleaned text holds."""
    before = Counter(w.lower() for w in _WORD.findall(raw))
    after = Counter(w.lower() for w in _WORD.findall(clean))
    return sum((before & after).values()) / sum(before.values())


@pytest.fixture(scope="module")
def articles() -> list[tuple[str, str]]:
    if not ECB_DEV.is_file():
        pytest.skip(f"ECB+ development file not found at {ECB_DEV} (set NEWSFLOW_BENCH_DIR)")
    with ECB_DEV.open(encoding="utf-8") as f:
        return [(r["doc_id"], r["text"]) for r in map(json.loads, f)]


def test_no_ecb_dev_article_comes_out_empty_or_loses_more_than_5_percent_of_its_words(
    articles: list[tuple[str, str]], tmp_path: Path
) -> None:
    empty, short, outlets = [], [], []
    for doc_id, text in articles:
        path = tmp_path / f"{doc_id}.txt"
        path.write_text(text, encoding="utf-8")
        doc = read_dropped_file(path, max_bytes=5_000_000)
        try:
            cleaned = clean_boilerplate(doc)
        except SkipDocument:
            empty.append(doc_id)
            continue
        if (kept := words_kept(doc.raw_text, cleaned.text)) < MIN_WORDS_KEPT:
            short.append(f"{doc_id} {kept:.3f}")
        if cleaned.outlet and not (cleaned.outlet in text and looks_like_outlet(cleaned.outlet)):
            outlets.append(f"{doc_id} {cleaned.outlet!r}")
    assert len(articles) == 535
    assert empty == [], f"{len(empty)} articles empty after cleaning"
    assert short == [], f"{len(short)} articles keep less than {MIN_WORDS_KEPT:.0%} of their words"
    assert outlets == [], "outlets named from no outlet's name"
