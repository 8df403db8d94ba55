"""The stage list, in order, as data, and the loop that runs it (pure).

A stage marked essential stops the document when it fails; a soft stage that fails
leaves a Note (stage name and exception class, never the message) and the document
goes on without that stage's additions.
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


def build_stages(*, nlp: Any, clean: CleanOptions = DEFAULT_CLEAN,
                 lsh: Any = None, stories: Any = None,
                 entities: Any = None, line_stats: Any = None) -> tuple[Stage, ...]:
    """The per-document stages in the order they run."""
    return (
        # line_stats: per-outlet line counts in Redis (None: each page judged alone)
        Stage("clean_boilerplate", partial(clean_boilerplate, options=clean, line_stats=line_stats)),
        Stage("detect_language", detect_language),
        # entities: the cross-document registry (None: names resolved within the document only)
        Stage("extract_entities", partial(extract_entities, nlp=nlp, registry=entities),
              languages=ENGLISH),
        # soft: a miss leaves a note
        Stage("extract_claims", partial(extract_claims, nlp=nlp), essential=False, languages=ENGLISH),
        # soft: without Redis state (lsh/stories None) these leave the document as it is
        Stage("find_duplicates", partial(find_duplicates, lsh=lsh), essential=False),
        Stage("assign_story", partial(assign_story, stories=stories), essential=False),
    )


def run_stages(doc: Document, stages: Sequence[Stage]) -> Document:
    """Run `stages` over `doc`, timing each one into the document's history."""
    for stage in stages:
        started = time.perf_counter()
        if stage.languages is not None and doc.language and doc.language not in stage.languages:
            doc = replace(doc, notes=(*doc.notes, Note(stage=stage.name, error=f"skipped:{doc.language}")))
            continue
        try:
            doc = stage.fn(doc)
        except PipelineError:
            raise  # SkipDocument, BadInput, TransientError: the caller decides
        except Exception as exc:  # the one broad catch: soft stages may fail
            if stage.essential:
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
