"""Worker start-up and per-task log context (does I/O)."""

from __future__ import annotations

import gc
import time
from typing import Any

import structlog
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
)

from config.logging import configure_logging
from config.settings import get_settings

log = structlog.get_logger("newsflow.worker")


@setup_logging.connect
def _logging(**_: Any) -> None:
    """Celery leaves logging to us: one handler, JSON or readable, for every logger."""
    configure_logging(get_settings())


@worker_process_init.connect
def _warm(**_: Any) -> None:
    """Pay the model's load cost before the first task, not during it."""
    from pipeline.document import Document
    from pipeline.stages.language import detect_language
    from pipeline.stories.features import story_features
    from workers.resources import get_stages

    get_stages()
    # Pure helpers that load data on first use, timed on the first document of a worker:
    # the language model (py3langid's, ~1 s) and the word-rarity list behind story features (~2.8 s).
    sample = Document(id="warm-up", source="warm-up", raw_text="", text="Warm up the model in Brussels.")
    detect_language(sample)
    story_features(sample)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic
    # garbage collector's scans (measured: GC time 0.8 -> 0.2 ms per document).
    gc.collect()
    gc.freeze()


@before_task_publish.connect
def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Stamp each message with its send time, so `status` can tell the oldest waiting age."""
    if headers is not None:
        headers.setdefault("sent_at", time.time())


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    settings = get_settings()
    if settings.metrics_port:
        from config.celery import QUEUES
        from workers.metrics import serve
        from workers.resources import get_redis

        serve(settings.metrics_port, get_redis(), QUEUES)


@worker_ready.connect
def _ready(sender: Any = None, **_: Any) -> None:
    log.info("worker ready", hostname=getattr(sender, "hostname", ""), settings=repr(get_settings()))


@task_prerun.connect
def _bind(task_id: str = "", task: Any = None, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=getattr(task, "name", ""))


@task_postrun.connect
def _unbind(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()
