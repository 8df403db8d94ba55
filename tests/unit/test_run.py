"""The stage runner: order as data, timing into history, soft stages leave a note; a batch's
shared preparation (the parse) before the stages run on each document."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest

from pipeline.document import Document
from pipeline.errors import SkipDocument
from pipeline.run import Stage, run_batch, run_stages, stage_of
from tests.factories import make_document


def _upper(doc: Document) -> Document:
    return replace(doc, text=doc.raw_text.upper())


def _broken(doc: Document) -> Document:
    raise ValueError("secret document text must not leak into notes")


def test_stages_run_in_order_and_each_is_timed() -> None:
    doc = run_stages(make_document("abc"), [Stage("upper", _upper), Stage("again", _upper)])
    assert doc.text == "ABC"
    assert [s.stage for s in doc.history] == ["upper", "again"]
    assert all(s.ms >= 0 for s in doc.history)


def test_a_soft_stage_that_fails_leaves_a_note_without_the_message() -> None:
    stages = [Stage("claims", _broken, essential=False), Stage("upper", _upper)]
    doc = run_stages(make_document("abc"), stages)
    assert doc.text == "ABC"
    assert [(n.stage, n.error) for n in doc.notes] == [("claims", "ValueError")]
    assert "secret" not in str(doc.to_dict())


def test_an_essential_stage_that_fails_stops_the_document() -> None:
    with pytest.raises(ValueError, match="secret"):
        run_stages(make_document(), [Stage("clean", _broken, essential=True)])


def test_skip_is_passed_to_the_caller_even_from_a_soft_stage() -> None:
    def skip(doc: Document) -> Document:
        raise SkipDocument("empty after cleaning")

    with pytest.raises(SkipDocument, match="empty"):
        run_stages(make_document(), [Stage("dedupe", skip, essential=False)])


def test_a_stage_for_english_passes_other_languages_by_with_a_note() -> None:
    stages = [Stage("entities", _upper, languages=("en",))]
    german = run_stages(make_document("abc", language="de"), stages)
    english = run_stages(make_document("abc", language="en"), stages)
    assert german.text == ""
    assert [(n.stage, n.error) for n in german.notes] == [("entities", "skipped:de")]
    assert english.text == "ABC"


class Prepared:
    """A stage that prepares for a batch: records the calls, in order, in `log`."""

    def __init__(self, name: str, log: list[str], *, fail: BaseException | None = None) -> None:
        self.name, self.log, self.fail = name, log, fail

    @contextlib.contextmanager
    def prepare(self, docs: Sequence[Document]) -> Iterator[None]:
        self.log.append(f"prepare {self.name} " + ",".join(d.source for d in docs))
        if self.fail is not None:
            raise self.fail
        yield
        self.log.append(f"release {self.name}")

    def stage(self, **kw: Any) -> Stage:
        def fn(doc: Document) -> Document:
            self.log.append(f"{self.name} {doc.source}")
            return doc

        return Stage(self.name, fn, prepare=self.prepare, **kw)


def _logged(name: str, log: list[str]) -> Stage:
    def fn(doc: Document) -> Document:
        log.append(f"{name} {doc.source}")
        if doc.source == "/bad":
            raise SkipDocument("empty after cleaning")
        return doc

    return Stage(name, fn)


@contextlib.contextmanager
def _isolated(source: str) -> Iterator[None]:
    with contextlib.suppress(SkipDocument):
        yield


def test_a_batch_runs_the_stages_before_the_parse_on_every_document_then_the_rest_in_turn() -> None:
    log: list[str] = []
    stages = [
        _logged("clean", log),
        Prepared("entities", log).stage(languages=("en",)),
        Prepared("claims", log).stage(),
        _logged("stories", log),
    ]
    docs = [
        make_document("a", source="/a", language="en"),
        make_document("b", source="/bad", language="en"),
        make_document("c", source="/c", language="de"),
    ]
    done = list(run_batch(docs, stages, each_source=_isolated))
    assert [d.source for d in done] == ["/a", "/c"]
    assert log == [
        "clean /a",
        "clean /bad",  # skipped: no stage after the cleaning sees it
        "clean /c",
        "prepare entities /a",  # /c is not English: the stage passes it by
        "prepare claims /a,/c",
        "entities /a",
        "claims /a",
        "stories /a",
        "claims /c",
        "stories /c",
        "release claims",
        "release entities",
    ]
    assert [s.stage for s in done[0].history] == ["clean", "entities", "claims", "stories"]
    assert [n.stage for n in done[1].notes] == ["entities"]


def test_a_failed_preparation_leaves_the_stage_to_work_on_each_document_alone() -> None:
    log: list[str] = []
    stages = [Prepared("entities", log, fail=ValueError("a bug")).stage()]
    done = list(run_batch([make_document("a", source="/a")], stages, each_source=_isolated))
    assert [d.source for d in done] == ["/a"]
    assert log == ["prepare entities /a", "entities /a"]


def test_the_time_limit_in_a_preparation_stops_the_batch_and_names_the_stage() -> None:
    class OutOfTime(Exception):
        pass

    stages = [Prepared("extract_entities", [], fail=OutOfTime()).stage(interrupts=(OutOfTime,))]
    with pytest.raises(OutOfTime) as caught:
        list(run_batch([make_document("a", source="/a")], stages, each_source=_isolated))
    assert stage_of(caught.value) == "extract_entities"


def test_a_batch_parsed_together_gives_each_document_what_it_gets_alone(nlp: Any) -> None:
    """The seeds through the real stages and model: one by one, then as one batch."""
    from pipeline.nlp import clear_cache
    from pipeline.run import build_stages
    from pipeline.sources.files import read_dropped_file
    from tests.conftest import SEEDS

    stages = build_stages(nlp=nlp)
    inputs = [read_dropped_file(p, max_bytes=10_000_000) for p in sorted(SEEDS.glob("*.txt"))]
    clear_cache()
    alone = [run_stages(doc, stages) for doc in inputs]
    clear_cache()
    together = list(run_batch(inputs, stages, each_source=_isolated))
    clear_cache()

    def enriched(doc: Document) -> tuple[Any, ...]:
        return (doc.id, doc.entities, doc.claims, doc.notes, [s.stage for s in doc.history])

    assert [enriched(d) for d in together] == [enriched(d) for d in alone]
    assert all(d.claims and d.entities for d in together)
