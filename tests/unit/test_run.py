"""The stage runner: order as data, timing into history, soft stages leave a note."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.document import Document
from pipeline.errors import SkipDocument
from pipeline.run import Stage, run_stages
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
