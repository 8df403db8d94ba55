"""Celery tasks: thin wrappers that load input, call pipeline stages and write output.

Retry policy lives on the base class and reads as a sentence: TransientError is
retried with exponential backoff and jitter, at most NEWSFLOW_MAX_RETRIES times;
BadInput fails at once; SkipDocument is recorded and is not an error. Whatever
fails for good is recorded in the ledger with its stage, reason and attempts.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from celery import Task

from config.settings import get_settings
from pipeline.adapters.files import URL_LIST_SUFFIX, read_dropped_file, read_url_list
from pipeline.adapters.web import fetch_url as fetch_document
from pipeline.document import Document
from pipeline.errors import BadInput, SkipDocument, TransientError
from pipeline.run import record_step, run_stages
from workers import metrics
from workers.app import app
from workers.resources import (
    get_claims_table,
    get_http,
    get_index,
    get_ledger,
    get_stages,
    get_story_index,
    get_story_store,
)

log = structlog.get_logger("newsflow.tasks")


def _source_of(args: tuple[Any, ...]) -> str:
    first = args[0] if args else ""
    return str(first.get("source", "")) if isinstance(first, dict) else str(first)


class NewsflowTask(Task):  # type: ignore[misc]
    autoretry_for = (TransientError,)
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = get_settings().max_retries
    acks_late = True
    ignore_result = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        source = _source_of(args)
        structlog.contextvars.bind_contextvars(source=source)
        try:
            return super().__call__(*args, **kwargs)
        except SkipDocument as skip:
            get_ledger().mark(source, "skipped", reason=skip.reason, stage=self.name)
            metrics.DOCUMENTS.labels(self.name, "skipped").inc()
            log.info("skipped", reason=skip.reason)
        except BadInput as exc:
            self._record_failure(source, exc)
        return None

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        self._record_failure(_source_of(tuple(args)), exc)

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        metrics.RETRIES.labels(self.name).inc()
        get_ledger().note_retry(_source_of(tuple(args)), reason=f"{type(exc).__name__}: {exc}")

    def _record_failure(self, source: str, exc: BaseException) -> None:
        attempts = self.request.retries + 1
        metrics.FAILURES.labels(self.name, type(exc).__name__).inc()
        get_ledger().mark(source, "failed", reason=f"{type(exc).__name__}: {exc}",
                          stage=self.name, attempts=attempts)
        log.warning("failed", error=type(exc).__name__, reason=str(exc), attempts=attempts)


@app.task(base=NewsflowTask, name="newsflow.ingest_file", queue="ingest", soft_time_limit=60)
def ingest_file(path: str) -> None:
    """Read one dropped file (or a *.urls list) and pass its document on."""
    get_ledger().mark(path, "processing", stage="ingest_file")
    if path.endswith(URL_LIST_SUFFIX):
        urls = read_url_list(Path(path))
        for url in urls:
            enqueue_url(url)
        get_ledger().mark(path, "done", reason=f"{len(urls)} URLs queued")
        return
    started = time.perf_counter()
    doc = read_dropped_file(Path(path), max_bytes=get_settings().max_file_bytes)
    process_document.delay(record_step(doc, "read_file", started).to_dict())


@app.task(base=NewsflowTask, name="newsflow.fetch_url", queue="ingest", soft_time_limit=60)
def fetch_url(url: str) -> None:
    """Fetch one submitted URL and pass its document on."""
    get_ledger().mark(url, "processing", kind="url", stage="fetch_url")
    settings = get_settings()
    started = time.perf_counter()
    doc = fetch_document(url, client=get_http(), max_bytes=settings.fetch_max_bytes,
                         allow_private=settings.allow_private_urls)
    process_document.delay(record_step(doc, "fetch_url", started).to_dict())


@app.task(base=NewsflowTask, name="newsflow.process_document", queue="process")
def process_document(payload: dict[str, Any]) -> None:
    """Clean, extract entities and claims; hand the enriched document to the indexer."""
    get_ledger().mark(payload["source"], "processing", stage="process_document")
    doc = run_stages(Document.from_dict(payload), get_stages())
    structlog.contextvars.bind_contextvars(doc_id=doc.id)
    metrics.observe_history(doc.history)
    index_document.delay(doc.to_dict())


@app.task(base=NewsflowTask, name="newsflow.index_document", queue="index", soft_time_limit=60)
def index_document(payload: dict[str, Any]) -> None:
    """Write one enriched document to the search index (idempotent: the id is the content)."""
    started = time.perf_counter()
    doc = Document.from_dict(payload)
    sources = get_ledger().add_doc_source(doc.id, doc.source)
    doc = record_step(replace(doc, sources=tuple(sources)), "index_document", started)
    rejected = get_index().write([doc])
    if rejected:
        raise BadInput(f"index rejected the document: {rejected[0][1]}")
    if (stories := get_story_index()) is not None:  # stories table or index, regrouped on write
        stories.update(doc, get_story_store().component_labels(doc.id))
    if (claims := get_claims_table()) is not None:  # claims table or index, regrouped on write
        claims.write(doc)
    state = "duplicate" if any(s != doc.source for s in sources) else "done"
    get_ledger().mark(doc.source, state, document=doc.id)
    log.info("indexed", doc_id=doc.id, entities=len(doc.entities), claims=len(doc.claims),
             ms={s.stage: s.ms for s in doc.history})


def enqueue_file(path: Path) -> str:
    """Queue one file (after it is complete on disk); returns its source key."""
    source = str(path.absolute())
    stat = path.stat()
    get_ledger().mark(source, "queued", fingerprint=f"{stat.st_size}:{stat.st_mtime_ns}", kind="file")
    ingest_file.delay(source)
    return source


def enqueue_url(url: str) -> str:
    get_ledger().mark(url, "queued", kind="url")
    fetch_url.delay(url)
    return url
