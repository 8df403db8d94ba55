"""The stage list, in order, as data, and the loop that runs it (pure).

A stage marked essential stops the document when it fails; a soft stage that fails
leaves a Note (stage name and exception class, never the message) and the document
goes on without that stage's additions. An interruption from outside (`interrupts`:
the worker's time limit) stops the document in any stage. An exception that leaves
`run_stages` carries the name of its stage (`stage_of`), so that the caller can say
where a document stopped (`time_limit_reason`).

`run_batch` runs the stages over the documents of a batch: a stage may prepare its work
for all of them at once (`Stage.prepare`: the NLP stages parse the paragraphs of every
document in one `nlp.pipe`, pipeline/nlp.py), then runs on each document in turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pipeline.document import Document, Note, Step
from pipeline.errors import PipelineError
from pipeline.nlp import parsed_together
from pipeline.stages.claims import claim_paragraphs, extract_claims
from pipeline.stages.clean import DEFAULT_CLEAN, CleanOptions, clean_boilerplate
from pipeline.stages.entities import entity_paragraphs, extract_entities
from pipeline.stages.language import detect_language
from pipeline.stages.stories import assign_story, find_duplicates

StageFn = Callable[[Document], Document]
# Work a stage does for the documents of a batch at once, before it runs on each of
# them; what it prepares lasts until the `with` block ends.
PrepareFn = Callable[[Sequence[Document]], AbstractContextManager[object]]
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
    # run_batch: the stage's work for a batch's documents at once (None: none to share).
    prepare: PrepareFn | None = None

    def reads(self, doc: Document) -> bool:
        """Whether the stage runs on `doc` (its language), rather than passing it by."""
        return self.languages is None or not doc.language or doc.language in self.languages


def parse_together(docs: Sequence[Document], *, nlp: Any, texts: Callable[[Document], Iterable[str]]) -> Any:
    """The paragraphs `texts` gives for each of `docs`, parsed in one `nlp.pipe` and kept
    for the stage's own `parse` calls while the block lasts (pipeline/nlp.py)."""
    return parsed_together(nlp, (t for doc in docs for t in texts(doc)))


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
        Stage(
            "extract_entities",
            partial(extract_entities, nlp=nlp, registry=entities),
            languages=ENGLISH,
            prepare=partial(parse_together, nlp=nlp, texts=entity_paragraphs),
        ),
        # soft: a miss leaves a note. Its paragraphs are the entity stage's (parsed then),
        # but for a paragraph of several lines, which it reads line by line.
        Stage(
            "extract_claims",
            partial(extract_claims, nlp=nlp),
            essential=False,
            languages=ENGLISH,
            prepare=partial(parse_together, nlp=nlp, texts=claim_paragraphs),
        ),
        # soft: without Redis state (lsh/stories None) these leave the document as it is
        Stage("find_duplicates", partial(find_duplicates, lsh=lsh), essential=False),
        Stage("assign_story", partial(assign_story, stories=stories), essential=False),
    )
    return tuple(replace(stage, interrupts=interrupts) for stage in stages)


def run_stages(
    doc: Document, stages: Sequence[Stage], *, shared_ms: Mapping[str, float] | None = None
) -> Document:
    """Run `stages` over `doc`, timing each one into the document's history (`shared_ms`:
    the document's share of work a stage did for its whole batch, added to its time)."""
    for stage in stages:
        started = time.perf_counter() - (shared_ms or {}).get(stage.name, 0.0) / 1000
        if not stage.reads(doc):
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


def run_batch(
    docs: Iterable[Document],
    stages: Sequence[Stage],
    *,
    each_source: Callable[[str], AbstractContextManager[object]],
) -> Iterator[Document]:
    """`run_stages` over the documents of a batch, each inside `each_source(doc.source)`
    (the caller's isolation of one input: a failure is recorded for that input alone and
    the batch goes on). The stages before the first that prepares (`Stage.prepare`: the
    NLP stages, which parse every paragraph of the batch in one `nlp.pipe`) run on every
    document first; then each stage that prepares does so for the documents it will run
    on; then the remaining stages run on each document in turn, yielded when done.

    The stages in between keep to the order of the documents (the first document's
    entities are resolved before the second's), so shared state sees what it saw when
    each document went through every stage alone; only the stages before the parse
    (cleaning, language) run ahead for the whole batch.
    """
    first = next((i for i, s in enumerate(stages) if s.prepare is not None), len(stages))
    head, tail = stages[:first], stages[first:]
    ready: list[Document] = []
    for doc in docs:
        with each_source(doc.source):
            ready.append(run_stages(doc, head))
    with ExitStack() as prepared:
        shared: list[dict[str, float]] = [{} for _ in ready]
        for stage in tail:
            if stage.prepare is not None:
                _prepare(stage, ready, shared, prepared)
        for doc, shared_ms in zip(ready, shared, strict=True):
            enriched = None
            with each_source(doc.source):
                enriched = run_stages(doc, tail, shared_ms=shared_ms)
            if enriched is not None:
                yield enriched


def _prepare(stage: Stage, docs: list[Document], shared: list[dict[str, float]], stack: ExitStack) -> None:
    """`stage.prepare` for the documents it reads, entered on `stack`; each of them is
    charged an equal share of the time it took (`shared`, by stage name)."""
    assert stage.prepare is not None
    chosen = [i for i, doc in enumerate(docs) if stage.reads(doc)]
    if not chosen:
        return
    started = time.perf_counter()
    caught: tuple[type[BaseException], ...] = (Exception, *stage.interrupts)
    try:
        stack.enter_context(stage.prepare([docs[i] for i in chosen]))
    except caught as exc:  # the stage then works on each document alone
        # The time limit stops the batch; anything else belongs to some document, and
        # the stage meets it again on that document alone, inside its isolation.
        if isinstance(exc, stage.interrupts):
            exc.add_note(_STAGE_NOTE + stage.name)
            raise
        return
    share = (time.perf_counter() - started) * 1000 / len(chosen)
    for i in chosen:
        shared[i][stage.name] = share


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
