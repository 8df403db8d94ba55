"""The stage list, in order, as data, and the loop that runs it (pure).

A stage marked essential stops the document when it fails; a soft stage that fails
leaves a Note (stage name and exception class, never the message) and the document
goes on without that stage's additions. An interruption from outside (`interrupts`:
the worker's time limit) stops the document in any stage. An exception that leaves
`run_stages` carries the name of its stage (`stage_of`), so that the caller can say
where a document stopped (`time_limit_reason`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pipeline.document import Document, Note, Step
from pipeline.errors import PipelineError
from pipeline.stages.claims import extract_claims
from pipeline.stages.clean import DEFAULT_CLEAN, CleanOptions, clean_boilerplate
from pipeline.stages.entities import extract_entities
from pipeline.stages.language import detect_language
from pipeline.stages.stories import assign_story, find_duplicates

StageFn = Callable[[Document], Document]
ENGLISH = ("en",)


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    fn: StageFn
    essential: bool = True
    # Languages the stage can read (None: any). Other languages pass by with a note.
    languages: tuple[str, ...] | None = None
    # Exceptions that stop the document even in a soft stage: not the stage failing but
    # the task being interrupted (Celery's SoftTimeLimitExceeded, passed in by the
    # workers: pipeline/ imports no Celery). Swallowed, the task ran on to the hard
    # limit with the stage's additions missing.
    interrupts: tuple[type[BaseException], ...] = ()


def build_stages(
    *,
    nlp: Any,
    clean: CleanOptions = DEFAULT_CLEAN,
    lsh: Any = None,
    stories: Any = None,
    entities: Any = None,
    line_stats: Any = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> tuple[Stage, ...]:
    """The per-document stages in the order they run; `interrupts` stop a document in
    any of them (see Stage)."""
    stages = (
        # line_stats: per-outlet line counts in Redis (None: each page judged alone)
        Stage("clean_boilerplate", partial(clean_boilerplate, options=clean, line_stats=line_stats)),
        Stage("detect_language", detect_language),
        # entities: the cross-document registry (None: names resolved within the document only)
        Stage("extract_entities", partial(extract_entities, nlp=nlp, registry=entities), languages=ENGLISH),
        # soft: a miss leaves a note
        Stage("extract_claims", partial(extract_claims, nlp=nlp), essential=False, languages=ENGLISH),
        # soft: without Redis state (lsh/stories None) these leave the document as it is
        Stage("find_duplicates", partial(find_duplicates, lsh=lsh), essential=False),
        Stage("assign_story", partial(assign_story, stories=stories), essential=False),
    )
    return tuple(replace(stage, interrupts=interrupts) for stage in stages)


def run_stages(doc: Document, stages: Sequence[Stage]) -> Document:
    """Run `stages` over `doc`, timing each one into the document's history."""
    for stage in stages:
        started = time.perf_counter()
        if stage.languages is not None and doc.language and doc.language not in stage.languages:
            doc = replace(doc, notes=(*doc.notes, Note(stage=stage.name, error=f"skipped:{doc.language}")))
            continue
        try:
            doc = stage.fn(doc)
        except Exception as exc:  # the one broad catch: soft stages may fail
            # SkipDocument, BadInput, TransientError: the caller decides; so it does for
            # an essential stage's failure and an interruption
            if isinstance(exc, (PipelineError, *stage.interrupts)) or stage.essential:
                if not stage_of(exc):
                    exc.add_note(_STAGE_NOTE + stage.name)
                    exc.add_note(_SOURCE_NOTE + doc.source)
                raise
            doc = replace(doc, notes=(*doc.notes, Note(stage=stage.name, error=type(exc).__name__)))
        doc = record_step(doc, stage.name, started)
    return doc


def record_step(doc: Document, stage: str, started: float) -> Document:
    """Append a history entry for `stage`, begun at perf_counter() time `started`."""
    step = Step(
        stage=stage,
        ms=round((time.perf_counter() - started) * 1000, 2),
        at=datetime.now(UTC).isoformat(timespec="milliseconds"),
    )
    return replace(doc, history=(*doc.history, step))


# Notes on an exception that leaves run_stages (they show in a logged traceback too).
_STAGE_NOTE = "newsflow stage: "
_SOURCE_NOTE = "newsflow source: "


def _noted(exc: BaseException, prefix: str) -> str:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, str) and note.startswith(prefix):
            return note.removeprefix(prefix)
    return ""


def stage_of(exc: BaseException) -> str:
    """The stage `exc` left `run_stages` from, or "" (raised elsewhere)."""
    return _noted(exc, _STAGE_NOTE)


def source_of(exc: BaseException) -> str:
    """The source of the document that stage was working on, or ""."""
    return _noted(exc, _SOURCE_NOTE)


def time_limit_reason(exc: BaseException, limit_s: float, *, setting: str = "", source: str = "") -> str:
    """What a user reads when a task's time limit stopped the work on `source`: where it
    stopped, the limit, and what to change (`setting`: the variable that sets the limit,
    "" when it is fixed; and the size limit for that kind of input). The other inputs of
    the batch are told which input the time went to.

    "extract_entities did not finish within the 120 s time limit
    (NEWSFLOW_TASK_SOFT_TIME_LIMIT_S); raise it or lower NEWSFLOW_MAX_FILE_BYTES"
    """
    where = stage_of(exc) or "the task"
    busy = source_of(exc)
    if busy and busy != source:
        where = f"not processed: {where} on {busy}"
    fetched = (busy or source).startswith(("http://", "https://"))
    size = "NEWSFLOW_FETCH_MAX_BYTES" if fetched else "NEWSFLOW_MAX_FILE_BYTES"
    if not setting:
        return f"{where} did not finish within the task's {limit_s:g} s time limit; lower {size}"
    return f"{where} did not finish within the {limit_s:g} s time limit ({setting}); raise it or lower {size}"
