"""The seeds are one story, in any order; other real articles never join it (gold + bench)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from pipeline.document import Document, content_id
from pipeline.run import build_stages, run_stages
from pipeline.sources.files import read_dropped_file
from pipeline.stories import grouping
from pipeline.stories.features import StoryFeatures, story_features
from tests.conftest import BENCH, SEEDS

pytestmark = pytest.mark.quality


@pytest.fixture(scope="module")
def stages() -> Any:
    from workers.resources import get_nlp

    return [s for s in build_stages(nlp=get_nlp()) if s.name not in ("find_duplicates", "assign_story")]


@pytest.fixture(scope="module")
def seed_features(stages: Any) -> dict[str, StoryFeatures]:
    """Seed file stem -> its story features, after the workers' own stages."""
    return {
        p.stem: story_features(run_stages(read_dropped_file(p, max_bytes=5_000_000), stages))
        for p in sorted(SEEDS.glob("*.txt"))
    }


def test_gold_story_is_one_story_in_every_order(
    gold: dict[str, Any], seed_features: dict[str, StoryFeatures]
) -> None:
    same = gold["story"]["all_same_story"]
    for order in itertools.permutations(same):
        labels = grouping.group([seed_features[s] for s in order])
        assert len(set(labels.values())) == 1, order


def test_extraction_truth_texts_do_not_join_the_seeds_story(
    seed_features: dict[str, StoryFeatures], stages: Any
) -> None:
    truth_dir = BENCH / "extraction" / "dev"
    paths = sorted(truth_dir.glob("*.truth.txt"))
    if not paths:
        pytest.skip(f"extraction bench not found under {truth_dir} (set NEWSFLOW_BENCH_DIR)")
    entity_stage = next(s for s in stages if s.name == "extract_entities")
    truths = []
    for p in paths:
        text = p.read_text(encoding="utf-8")
        truths.append(
            story_features(
                entity_stage.fn(Document(id=content_id(text), source=str(p), raw_text=text, text=text))
            )
        )
    labels = grouping.group([*seed_features.values(), *truths])
    seed_story = {labels[f.id] for f in seed_features.values()}
    assert len(seed_story) == 1
    joined = [Path(p).name for p, f in zip(paths, truths, strict=True) if labels[f.id] in seed_story]
    assert joined == []
