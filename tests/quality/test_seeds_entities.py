"""Entities on the seed articles against seeds/gold.json `entities` and `not_entities`.

The seeds go through the real cleaner and entity stage (the real spaCy model, loaded
once) with the real registry in a private Redis, in file order and in shuffled
orders. A listed variant "resolves" when an entity with the gold canonical name and
type has it as a surface form or canonical name (else, for "Sybiha", which only
appears as "Mr Sybiha", as a word inside one), and no entity of another name or type
has it. A variant the cleaner removed from every seed cannot resolve: that case is
an expected failure until the cleaner keeps the sentence (strict, so it is noticed).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from pipeline.document import Document, Entity
from pipeline.redis.entity_registry import RedisEntityRegistry
from pipeline.sources.files import read_dropped_file
from pipeline.stages.clean import clean_boilerplate
from pipeline.stages.entities import extract_entities
from workers.local import PrivateRedis

pytestmark = pytest.mark.quality

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "seeds" / "documents").glob("*.txt"))
GOLD = json.loads((REPO / "seeds" / "gold.json").read_text(encoding="utf-8"))
VARIANTS = [(e["canonical"], e["type"], v) for e in GOLD["entities"] for v in e["variants"]]


def _cleaned_texts() -> list[str]:
    return [clean_boilerplate(read_dropped_file(p, max_bytes=5_000_000)).text for p in SEEDS]


CLEANED_TEXTS = _cleaned_texts()


def _word(v: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(v)}(?!\w)")


def cleaner_dropped(variant: str) -> bool:
    return not any(_word(variant).search(t) for t in CLEANED_TEXTS)


def variant_case(canonical: str, label: str, variant: str) -> Any:
    marks = (
        [pytest.mark.xfail(strict=True, reason="the cleaner drops every sentence with it")]
        if cleaner_dropped(variant)
        else []
    )
    return pytest.param(canonical, label, variant, marks=marks, id=f"{canonical}:{variant}")


@pytest.fixture(scope="module")
def nlp() -> Any:
    from workers.resources import get_nlp

    return get_nlp()


@pytest.fixture(scope="module")
def redis_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    server = PrivateRedis(tmp_path_factory.mktemp("entities-redis"))
    client = redis.Redis.from_url(server.start())
    yield client
    server.stop()


@pytest.fixture(scope="module")
def cleaned() -> list[Document]:
    return [clean_boilerplate(read_dropped_file(p, max_bytes=5_000_000)) for p in SEEDS]


def process(docs: list[Document], nlp: Any, client: redis.Redis, prefix: str) -> list[Document]:
    registry = RedisEntityRegistry(client, prefix=prefix)
    return [extract_entities(d, nlp=nlp, registry=registry) for d in docs]


@pytest.fixture(scope="module")
def in_order(cleaned: list[Document], nlp: Any, redis_client: redis.Redis) -> list[Document]:
    return process(cleaned, nlp, redis_client, "seeds:in-order")


def entities_with(docs: list[Document], variant: str) -> list[Entity]:
    every = [e for d in docs for e in d.entities]
    exact = [e for e in every if variant in e.variants or variant == e.canonical]
    return exact or [e for e in every if any(_word(variant).search(v) for v in e.variants)]


@pytest.mark.parametrize(("canonical", "label", "variant"), [variant_case(*v) for v in VARIANTS])
def test_every_variant_resolves_to_its_canonical_name(
    in_order: list[Document],
    canonical: str,
    label: str,
    variant: str,
) -> None:
    found = {(e.canonical, e.label) for e in entities_with(in_order, variant)}
    assert found == {(canonical, label)}


@pytest.mark.parametrize("bad", GOLD["not_entities"], ids=lambda b: b["text"])
def test_no_entity_that_gold_rules_out(in_order: list[Document], bad: dict[str, str]) -> None:
    for e in (e for d in in_order for e in d.entities):
        if "type" in bad:
            assert not (bad["text"] in (e.canonical, *e.variants) and e.label == bad["type"])
        else:
            assert bad["text"] not in (e.canonical, *e.variants)


LISTED = ["Mark Rutte", "Vladimir Putin", "Volodymyr Zelensky", "Andrii Sybiha", "Kyiv", "NATO"]


@pytest.mark.parametrize("name", LISTED)
def test_the_registry_lists_each_once(in_order: list[Document], redis_client: redis.Redis, name: str) -> None:
    rows = RedisEntityRegistry(redis_client, prefix="seeds:in-order").entities()
    gold = next(e for e in GOLD["entities"] if e["canonical"] == name)
    mine = [r for r in rows if r["canonical"] == name]
    assert len(mine) == 1
    seen = {v for d in in_order for e in d.entities for v in e.variants}
    assert {v for v in gold["variants"] if v in seen} <= set(mine[0]["variants"]) | {name}
    # and no other entity took one of its spellings
    assert not [r for r in rows if r["canonical"] != name and set(gold["variants"]) & set(r["variants"])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_arrival_order_gives_the_same_names(
    cleaned: list[Document],
    nlp: Any,
    redis_client: redis.Redis,
    seed: int,
) -> None:
    shuffled = list(cleaned)
    random.Random(seed).shuffle(shuffled)
    docs = process(shuffled, nlp, redis_client, f"seeds:order{seed}")
    for canonical, label, variant in VARIANTS:
        found = {(e.canonical, e.label) for e in entities_with(docs, variant)}
        assert found <= {(canonical, label)}, variant
