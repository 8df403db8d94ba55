"""A task's time limit stops a document in any stage, and the reason a user reads says
where it stopped, the limit, and which setting to change (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from pipeline.document import Document
from pipeline.run import Stage, run_stages, source_of, stage_of, time_limit_reason
from tests.factories import make_document

LIMIT = "NEWSFLOW_TASK_SOFT_TIME_LIMIT_S"


def _upper(doc: Document) -> Document:
    return replace(doc, text=doc.raw_text.upper())


def _out_of_time(doc: Document) -> Document:
    raise SoftTimeLimitExceeded()  # what Celery raises in the task when the soft limit hits


def _stopped(stage: str, busy: str) -> SoftTimeLimitExceeded:
    """The exception as it leaves run_stages in `stage` while working on `busy`."""
    doc = make_document(source=busy)
    with pytest.raises(SoftTimeLimitExceeded) as caught:
        run_stages(doc, [Stage(stage, _out_of_time, essential=False, interrupts=(SoftTimeLimitExceeded,))])
    return caught.value


@pytest.mark.parametrize(("stage", "limit_s", "setting", "source", "busy", "reason"), [
    ("extract_entities", 120, LIMIT, "/drop/big.txt", "/drop/big.txt",
     "extract_entities did not finish within the 120 s time limit (NEWSFLOW_TASK_SOFT_TIME_LIMIT_S);"
     " raise it or lower NEWSFLOW_MAX_FILE_BYTES"),
    ("extract_claims", 90.5, LIMIT, "https://example.com/a", "https://example.com/a",
     "extract_claims did not finish within the 90.5 s time limit (NEWSFLOW_TASK_SOFT_TIME_LIMIT_S);"
     " raise it or lower NEWSFLOW_FETCH_MAX_BYTES"),
    ("clean_boilerplate", 60, "", "/drop/page.html", "/drop/page.html",
     "clean_boilerplate did not finish within the task's 60 s time limit; lower NEWSFLOW_MAX_FILE_BYTES"),
    # another input of the same batch: told which input the time went to
    ("extract_entities", 120, LIMIT, "/drop/small.txt", "/drop/big.txt",
     "not processed: extract_entities on /drop/big.txt did not finish within the 120 s time limit"
     " (NEWSFLOW_TASK_SOFT_TIME_LIMIT_S); raise it or lower NEWSFLOW_MAX_FILE_BYTES"),
])  # fmt: skip
def test_the_reason_names_the_stage_the_limit_and_the_setting(
    stage: str, limit_s: float, setting: str, source: str, busy: str, reason: str
) -> None:
    exc = _stopped(stage, busy)
    assert time_limit_reason(exc, limit_s, setting=setting, source=source) == reason


def test_a_limit_met_outside_the_stages_says_the_task() -> None:
    reason = time_limit_reason(SoftTimeLimitExceeded(), 120, setting=LIMIT, source="/drop/a.txt")
    assert reason.startswith("the task did not finish within the 120 s time limit")


def test_the_time_limit_stops_a_soft_stage_instead_of_leaving_a_note() -> None:
    ran = []

    def after(doc: Document) -> Document:
        ran.append(doc)
        return doc

    stages = [
        Stage("extract_claims", _out_of_time, essential=False, interrupts=(SoftTimeLimitExceeded,)),
        Stage("assign_story", after, essential=False, interrupts=(SoftTimeLimitExceeded,)),
    ]
    with pytest.raises(SoftTimeLimitExceeded) as caught:
        run_stages(make_document(source="/drop/big.txt"), stages)
    assert (stage_of(caught.value), source_of(caught.value)) == ("extract_claims", "/drop/big.txt")
    assert ran == []  # nothing after it ran on borrowed time


def test_without_interrupts_a_soft_stage_still_just_leaves_a_note() -> None:
    doc = run_stages(
        make_document("abc"), [Stage("extract_claims", _out_of_time, essential=False), Stage("upper", _upper)]
    )
    assert [(n.stage, n.error) for n in doc.notes] == [("extract_claims", "SoftTimeLimitExceeded")]
    assert doc.text == "ABC"


def test_an_essential_stage_failure_carries_its_stage() -> None:
    def broken(doc: Document) -> Document:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom") as caught:
        run_stages(make_document("abc"), [Stage("upper", _upper), Stage("extract_entities", broken)])
    assert stage_of(caught.value) == "extract_entities"


def test_build_stages_gives_every_stage_the_interrupts() -> None:
    from pipeline.run import build_stages

    stages = build_stages(nlp=None, interrupts=(SoftTimeLimitExceeded,))
    assert all(s.interrupts == (SoftTimeLimitExceeded,) for s in stages)
