"""Celery tasks: thin wrappers that load input, call pipeline stages and write output.

Retry policy lives on the base class and reads as a sentence: TransientError (and a
Redis connection lost mid-task) is retried with exponential backoff and jitter, at most
NEWSFLOW_MAX_RETRIES times;
BadInput fails at once; SkipDocument is recorded and is not an error. Whatever
fails for good is recorded in the ledger with its stage, reason and attempts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import structlog
from celery import Task
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded

from config.settings import get_settings
from pipeline.document import Document
from pipeline.errors import BadInput, PipelineError, SkipDocument, TransientError
from pipeline.redis.ledger import FINAL_STATES
from pipeline.run import record_step, time_limit_reason
from pipeline.sources.files import URL_LIST_SUFFIX, fingerprint, read_dropped_file, read_url_list
from pipeline.sources.web import fetch_url as fetch_document
from pipeline.write import (
    WriteBreaker,
    WriteResult,
    carry_renames,
    enrich,
    write_batch,
    write_unless_paused,
)
from workers import metrics
from workers.app import app
from workers.resources import get_http, get_ledger, get_stages, get_write_stores

log = structlog.get_logger("newsflow.tasks")


def _sources_of(args: tuple[Any, ...]) -> list[str]:
    """The sources a task's first argument stands for: a path or URL, or a batch."""
    first = args[0] if args else ""
    items = first if isinstance(first, list) else [first]
    return [str(i.get("source", "")) if isinstance(i, dict) else str(i) for i in items]


# A Redis or Elasticsearch lost or hung mid-task reaches here as TransientError (each
# store translates its client's errors): the retry is published once it is back.
RETRIED = (TransientError,)


class BugInInput(Exception):
    """An input met a bug in our code (not bad input, not a transient fault): raised when
    the task's batch is done, so the task fails where operators look (Flower, the logs)."""


class NewsflowTask(Task):  # type: ignore[misc]
    autoretry_for = RETRIED
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = get_settings().max_retries
    acks_late = True
    ignore_result = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sources = _sources_of(args)
        one = len(sources) == 1
        structlog.contextvars.bind_contextvars(source=sources[0] if one else f"{len(sources)} inputs")
        self.bugs: list[tuple[str, BaseException]] = []
        result = None  # a single input's failure is recorded by each_source, and returns nothing
        with self.each_source(sources[0]) if one else contextlib.nullcontext():
            result = super().__call__(*args, **kwargs)
        if self.bugs:  # the rest of the batch is done; the task fails loudly for the bug
            source, first = self.bugs[0]
            raise BugInInput(
                f"{len(self.bugs)} input(s) met a bug, first {source}: {type(first).__name__}: {first}"
            ) from first
        return result

    @contextlib.contextmanager
    def each_source(self, source: str) -> Iterator[None]:
        """Work on one input of a batch, under one error policy: bad input (BadInput and our
        other errors) fails that input with its reason and the batch goes on; a transient
        fault (RETRIED) retries the whole task; anything else is a bug: the input is kept
        as a dead letter with the error, the traceback is logged, the batch goes on and
        the task then fails (BugInInput), so Flower shows it."""
        try:
            yield
        except SkipDocument as skip:
            get_ledger().mark(source, "skipped", reason=skip.reason, stage=self.name)
            metrics.DOCUMENTS.labels(self.name, "skipped").inc()
            log.info("skipped", source=source, reason=skip.reason)
        except (*RETRIED, SoftTimeLimitExceeded, Retry, Ignore, Reject):
            raise  # the whole message: Celery retries it, fails it (on_failure) or rejects it
        except PipelineError as exc:  # BadInput: the input's own fault
            self.record_failure([source], exc)
        except Exception as exc:  # a bug (record_failure logs its traceback)
            self.record_failure([source], exc)
            self.__dict__.setdefault("bugs", []).append((source, exc))

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if not isinstance(exc, BugInInput):  # those inputs are recorded already, each with its error
            self.record_failure(_sources_of(tuple(args)), exc)

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        metrics.RETRIES.labels(self.name).inc()
        for source in _sources_of(tuple(args)):
            get_ledger().note_retry(source, reason=f"{type(exc).__name__}: {exc}")

    def failure_reason(self, exc: BaseException, source: str) -> str:
        """What the user reads: for the time limit, the stage it stopped, the limit and the
        setting to change (the stages note where they stopped: pipeline.run)."""
        if not isinstance(exc, SoftTimeLimitExceeded):
            return f"{type(exc).__name__}: {exc}"
        configured = self.app.conf.task_soft_time_limit  # the setting; some tasks have their own
        limit = (self.request.timelimit or (None, None))[1] or self.soft_time_limit or configured
        setting = "NEWSFLOW_TASK_SOFT_TIME_LIMIT_S" if limit == configured else ""
        return time_limit_reason(exc, limit, setting=setting, source=source)

    def record_failure(self, sources: list[str], exc: BaseException) -> None:
        attempts = self.request.retries + 1
        metrics.FAILURES.labels(self.name, type(exc).__name__).inc(len(sources))
        reasons = {s: self.failure_reason(exc, s) for s in sources}
        get_ledger().mark_many(
            "failed", {s: {"reason": reasons[s], "stage": self.name, "attempts": attempts} for s in sources}
        )
        timed_out = sources and isinstance(exc, SoftTimeLimitExceeded)
        fault = isinstance(exc, (PipelineError, SoftTimeLimitExceeded, Retry, Ignore, Reject, *RETRIED))
        (log.warning if fault else log.error)(  # anything else is a bug: error, with its traceback
            "failed",
            sources=len(sources),
            error=type(exc).__name__,
            reason=reasons[sources[0]] if timed_out else str(exc),
            attempts=attempts,
            exc_info=None if isinstance(exc, PipelineError) else exc,
        )


@app.task(base=NewsflowTask, name="newsflow.ingest_files", queue="ingest", soft_time_limit=60)
def ingest_files(paths: list[str]) -> None:
    """Read *.urls lists and queue their URLs; pass any other files' documents on as one
    batch (the watcher sends those to `process_files`; older messages may still carry them)."""
    get_ledger().mark_many("processing", {p: {"stage": "ingest_files"} for p in paths})
    docs = []
    for path in paths:
        with ingest_files.each_source(path):
            if path.endswith(URL_LIST_SUFFIX):
                urls = read_url_list(Path(path))
                for url in urls:
                    enqueue_url(url)
                get_ledger().mark(path, "done", reason=f"{len(urls)} URLs queued")
                continue
            docs.append(_read(path).to_dict())
    if docs:
        process_documents.delay(docs)


@app.task(base=NewsflowTask, name="newsflow.fetch_url", queue="ingest", soft_time_limit=60)
def fetch_url(url: str) -> None:
    """Fetch one submitted URL and pass its document on."""
    get_ledger().mark(url, "processing", kind="url", stage="fetch_url")
    settings = get_settings()
    started = time.perf_counter()
    doc = fetch_document(
        url, client=get_http(), max_bytes=settings.fetch_max_bytes, allow_private=settings.allow_private_urls
    )
    process_documents.delay([record_step(doc, "fetch_url", started).to_dict()])


@app.task(base=NewsflowTask, name="newsflow.process_files", queue="process")
def process_files(paths: list[str]) -> None:
    """Read dropped files and process them in the same task: reading a file needs no queue
    of its own (fetching a URL does), and a hop would cost more CPU than the read."""
    paths = _not_done_yet(paths)
    if not paths:
        return
    get_ledger().mark_many("processing", {p: {"stage": "process_files"} for p in paths})
    docs = []
    for path in paths:
        with process_files.each_source(path):
            docs.append(_read(path))
    enrich_and_write(docs, process_files)


def _not_done_yet(paths: list[str]) -> list[str]:
    """The files still to process. A message can come back after its files were done: a
    worker stopped after the write but before the acknowledgement (measured: a task that
    finishes during a warm shutdown is acknowledged only as the worker exits, so one
    killed at the end of Ctrl-C's grace period gives it back). Files final in the
    version they were queued in are not processed again; queuing a file again (run,
    submit, retry, the watcher) marks it `queued`, so that is always processed."""
    todo = []
    for path, record in zip(paths, get_ledger().get_many(paths), strict=True):
        if record is not None and record.state in FINAL_STATES and record.fingerprint:
            with contextlib.suppress(OSError):
                if fingerprint(Path(path)) == record.fingerprint:
                    continue
        todo.append(path)
    if len(todo) < len(paths):
        log.info("already done", files=len(paths) - len(todo))
    return todo


@app.task(base=NewsflowTask, name="newsflow.process_documents", queue="process")
def process_documents(payloads: list[dict[str, Any]]) -> None:
    """Process documents read or fetched by the ingest tasks."""
    get_ledger().mark_many("processing", {p["source"]: {"stage": "process_documents"} for p in payloads})
    enrich_and_write([Document.from_dict(p) for p in payloads], process_documents)


def _read(path: str) -> Document:
    started = time.perf_counter()
    doc = read_dropped_file(Path(path), max_bytes=get_settings().max_file_bytes)
    return record_step(doc, "read_file", started)


_breaker = WriteBreaker()  # per pool process


def enrich_and_write(docs: list[Document], task: NewsflowTask) -> None:
    """Clean, extract entities and claims (the batch's paragraphs parsed together:
    pipeline/write.py `enrich`); write the enriched documents to the index
    (NEWSFLOW_INDEX_INLINE) or hand them to the indexer."""
    enriched = []
    for doc in enrich(docs, get_stages(), each_source=task.each_source):
        metrics.observe_history(doc.history)
        enriched.append(doc)
    if not enriched:
        return
    if get_settings().index_inline:
        result = write_unless_paused(enriched, get_write_stores(), _breaker)
        if result is not None:
            after_write(result, task)
            return
    index_documents.delay([doc.to_dict() for doc in enriched])


@app.task(base=NewsflowTask, name="newsflow.index_documents", queue="index", soft_time_limit=120)
def index_documents(payloads: list[dict[str, Any]]) -> None:
    """Write enriched documents to the search index, the stories and the claims tables."""
    result = write_batch([Document.from_dict(p) for p in payloads], get_write_stores())
    after_write(result, index_documents)


def after_write(result: WriteResult, task: NewsflowTask) -> None:
    """Each document the index refused is failed for good, with the index's reason; renames
    left waiting get their turn queued."""
    for source, reason in result.refused:
        task.record_failure([source], BadInput(reason))
    if result.renames_due_in is not None:
        follow_renames.apply_async(countdown=result.renames_due_in)


@app.task(
    name="newsflow.follow_renames",
    queue="index",
    autoretry_for=RETRIED,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=get_settings().max_retries,
    acks_late=True,
    ignore_result=True,
)
def follow_renames() -> None:
    """Carry the entity renames still waiting into the indexed documents (queued by a write
    that found them waiting out NEWSFLOW_RENAME_EVERY_S)."""
    carry_renames(get_write_stores())


def enqueue_files(paths: Sequence[Path], batch_size: int | None = None, *, more: int = 0) -> list[str]:
    """Queue files (complete on disk) in batches (`batch_sizes`); returns their source keys.
    `more`: files of the same drop that will be queued after these (the watcher's slices)."""
    settings = get_settings()
    sources: list[str] = []
    at = 0
    counts = batch_sizes(len(paths), batch_size or settings.batch_size, settings.concurrency, more=more)
    for size in counts:
        for batch in split_by_bytes(paths[at : at + size], settings.max_file_bytes):
            sources += _enqueue_batch(batch)
        at += size
    return sources


def _enqueue_batch(batch: Sequence[Path]) -> list[str]:
    """Mark one batch queued in the ledger and send it to its queue; returns its source keys."""
    keys = {str(p.absolute()): p for p in batch}
    get_ledger().mark_many(
        "queued", {s: {"fingerprint": fingerprint(p), "kind": "file"} for s, p in keys.items()}
    )
    lists = [s for s in keys if s.endswith(URL_LIST_SUFFIX)]  # fetching is the ingest queue's
    if lists:
        ingest_files.delay(lists)
    if files := [s for s in keys if not s.endswith(URL_LIST_SUFFIX)]:
        process_files.delay(files)
    return list(keys)


def split_by_bytes(batch: Sequence[Path], budget: int) -> list[list[Path]]:
    """`batch` cut, in order, into runs of at most `budget` bytes (NEWSFLOW_MAX_FILE_BYTES:
    the size the task time limit is measured to finish), so a batch of big files cannot
    outlast the limit that one of them fits in; a file alone is a batch of its own. Usual
    articles (a few KB) stay in one batch."""
    runs: list[list[Path]] = []
    total = 0
    for path in batch:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # gone meanwhile: the task reports it
        if runs and total + size <= budget:
            runs[-1].append(path)
            total += size
        else:
            runs.append([path])
            total = size
    return runs


def batch_sizes(n: int, size: int, workers: int, *, more: int = 0) -> list[int]:
    """Sizes of the batches `n` files that arrive together travel in: full batches while
    plenty is left, then smaller ones (each about a 2 x `workers`th of what remains of the
    drop, `more` files of which come in a later call), so the end of a drop spreads over
    the pool processes instead of waiting behind one batch ("guided" scheduling). A lone
    file is a batch of one."""
    sizes = []
    while n > 0:
        sizes.append(max(1, min(size, n, -(-(n + more) // (2 * workers)))))
        n -= sizes[-1]
    return sizes


def enqueue_url(url: str) -> str:
    get_ledger().mark(url, "queued", kind="url")
    fetch_url.delay(url)
    return url
