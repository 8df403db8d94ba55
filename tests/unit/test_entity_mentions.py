"""Every mention of an entity, with where it is in the text and in the input (issue 17.4).

The seeds go through the real stages with the configured spaCy model. The cap, the
spans the input cannot place and a name written with two spaces use a blank pipeline
whose entity ruler plays the model's part, as in test_entities_stage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import spacy

from pipeline.document import MAX_MENTIONS, Document, Entity
from pipeline.sqlite.index import SqliteIndex
from pipeline.stages.entities import extract_entities
from tests.conftest import SEEDS, Newsflow
from tests.factories import make_document
from workers.cli import mentions_line

SEED_IDS = [p.stem for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="module")
def seeds() -> dict[str, Document]:
    """Each seed as `newsflow run` makes it: read, then every stage, with the real model."""
    from config.settings import Settings
    from pipeline.run import build_stages, run_stages
    from pipeline.sources.files import read_dropped_file

    try:
        nlp = spacy.load(Settings().spacy_model)
    except OSError:
        pytest.skip("the configured spaCy model is not installed")
    stages = build_stages(nlp=nlp)
    return {
        p.stem: run_stages(read_dropped_file(p, max_bytes=10_000_000), stages)
        for p in sorted(SEEDS.glob("*.txt"))
    }


@pytest.fixture(scope="module")
def ruler() -> Any:
    model = spacy.blank("en")
    model.add_pipe("entity_ruler").add_patterns(
        [
            {"label": "PERSON", "pattern": "Mark Rutte"},
            {"label": "PERSON", "pattern": "Rutte"},
            # what a model does with a name typed with two spaces: one span over both
            {"label": "PERSON", "pattern": [{"LOWER": "mark"}, {"IS_SPACE": True}, {"LOWER": "rutte"}]},
        ]
    )
    return model


def entity(doc: Document, canonical: str) -> Entity:
    [found] = [e for e in doc.entities if e.canonical == canonical]
    return found


# ------------------------------------------------------------------- the seeds
@pytest.mark.parametrize("seed", SEED_IDS)
def test_every_mention_points_at_its_surface_in_the_text_and_in_the_input(
    seeds: dict[str, Document],
    seed: str,
) -> None:
    doc = seeds[seed]
    assert doc.entities
    for e in doc.entities:
        assert len(e.mentions) == e.count  # no seed names anything MAX_MENTIONS times
        assert [m.start for m in e.mentions] == sorted({m.start for m in e.mentions})  # text order
        assert (e.mentions[0].surface, e.mentions[0].start) == (e.surface, e.start)
        assert {m.surface for m in e.mentions} == set(e.variants)
        for m in e.mentions:
            assert doc.text[m.start : m.end] == m.surface
            # a plain-text seed is copied into the text line by line: every mention is placed
            assert m.raw_start is not None, (e.canonical, m)
            assert doc.raw_text[m.raw_start : m.raw_end] == m.surface


@pytest.mark.parametrize("seed", SEED_IDS)
@pytest.mark.parametrize(("word", "canonical"), [("Rutte", "Mark Rutte"), ("Putin", "Vladimir Putin")])
def test_every_place_a_seed_names_someone_is_one_of_their_mentions(
    seeds: dict[str, Document],
    seed: str,
    word: str,
    canonical: str,
) -> None:
    doc = seeds[seed]
    mentions = entity(doc, canonical).mentions
    written = [w.start() for w in re.finditer(rf"\b{word}\b", doc.text)]
    assert written
    assert [at for at in written if not any(m.start <= at < m.end for m in mentions)] == []


# ------------------------------------------------------- the stage, on small texts
def test_an_entity_keeps_its_first_mentions_up_to_the_cap_and_counts_them_all(ruler: Any) -> None:
    text = " ".join(["Rutte spoke."] * (MAX_MENTIONS + 10))
    rutte = entity(extract_entities(make_document(text, text=text), nlp=ruler), "Rutte")
    assert rutte.count == MAX_MENTIONS + 10
    assert len(rutte.mentions) == MAX_MENTIONS
    assert [m.start for m in rutte.mentions] == [w.start() for w in re.finditer("Rutte", text)][:MAX_MENTIONS]


def test_a_name_written_with_two_spaces_is_one_mention_covering_all_of_it(ruler: Any) -> None:
    text = "Mark  Rutte spoke. Then Rutte left."
    doc = extract_entities(make_document(text, text=text, text_map=((0, 0, len(text)),)), nlp=ruler)
    first, second = entity(doc, "Mark Rutte").mentions
    assert (first.surface, text[first.start : first.end]) == ("Mark Rutte", "Mark  Rutte")
    assert (first.raw_start, first.raw_end) == (0, len("Mark  Rutte"))
    assert text[second.start : second.end] == second.surface == "Rutte"


def test_raw_offsets_are_none_where_the_input_does_not_hold_the_mention(ruler: Any) -> None:
    # "Mark" and "Rutte" were copied from either side of an advert the cleaner removed
    raw = "Mark [ad] Rutte said so. Rutte left."
    text = "Mark Rutte said so. Rutte left."
    doc = make_document(raw, text=text, text_map=((0, 0, 4), (5, 10, 26)))
    whole, part = entity(extract_entities(doc, nlp=ruler), "Mark Rutte").mentions
    assert (text[whole.start : whole.end], whole.raw_start, whole.raw_end) == ("Mark Rutte", None, None)
    assert part.raw_start is not None
    assert raw[part.raw_start : part.raw_end] == "Rutte"


def test_without_a_text_map_mentions_have_text_offsets_only(ruler: Any) -> None:
    text = "Mark Rutte spoke. Rutte left."  # HTML: trafilatura rebuilds the text, no map
    doc = extract_entities(make_document("<p>" + text + "</p>", text=text, raw_format="html"), nlp=ruler)
    mentions = entity(doc, "Mark Rutte").mentions
    assert [(text[m.start : m.end], m.raw_start, m.raw_end) for m in mentions] == [
        ("Mark Rutte", None, None),
        ("Rutte", None, None),
    ]


# ------------------------------------------------------------------ the records
def test_a_record_round_trips_with_its_mentions(seeds: dict[str, Document]) -> None:
    doc = seeds[SEED_IDS[0]]
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc


def test_the_embedded_index_gives_every_mention_back(seeds: dict[str, Document], tmp_path: Path) -> None:
    doc = seeds[SEED_IDS[0]]
    index = SqliteIndex(tmp_path / "index.sqlite3")
    index.write([doc])
    body = index.get(doc.id)
    assert body is not None
    assert "raw_text" not in body  # the index keeps the text, not the input: raw offsets are all there is
    assert Document.from_dict({**body, "raw_text": ""}).entities == doc.entities


def test_a_record_written_before_mentions_were_kept_still_loads(seeds: dict[str, Document]) -> None:
    doc = seeds[SEED_IDS[0]]
    old = doc.to_dict()
    for e in old["entities"]:
        del e["mentions"]
    loaded = Document.from_dict(old)
    assert all(e.mentions == () for e in loaded.entities)
    assert [(e.canonical, e.count, e.start) for e in loaded.entities] == [
        (e.canonical, e.count, e.start) for e in doc.entities
    ]


# ---------------------------------------------------------------- newsflow show
def test_show_lists_where_each_entity_is_mentioned(seeds: dict[str, Document], newsflow: Newsflow) -> None:
    doc = seeds[SEED_IDS[0]]
    SqliteIndex(newsflow.home / "index.sqlite3").write([doc])
    shown = newsflow("show", doc.id).stdout.splitlines()
    rutte = entity(doc, "Mark Rutte")
    [line] = [s for s in shown if s.strip().startswith("Mark Rutte (PERSON): ")]
    assert [int(at) for at in re.findall(r"@(\d+)", line)] == [m.start for m in rutte.mentions]


@pytest.mark.parametrize(
    ("mentions", "count", "line"),
    [
        (
            [("Mark Rutte", 5), ("Mr Rutte", 90), ("Mr Rutte", 200), ("Rutte", 310)],
            4,
            "Mark Rutte (PERSON): Mark Rutte @5, Mr Rutte @90 @200, Rutte @310",
        ),
        ([("Rutte", 0), ("Rutte", 13)], 60, "Mark Rutte (PERSON): Rutte @0 @13 and 58 more"),
    ],
)
def test_a_mentions_line_reads_in_text_order(mentions: list[tuple[str, int]], count: int, line: str) -> None:
    record = {
        "canonical": "Mark Rutte",
        "label": "PERSON",
        "count": count,
        "mentions": [{"surface": s, "start": at} for s, at in mentions],
    }
    assert mentions_line(record) == line
