"""Logging set-up: JSON lines in production, readable lines in development (does I/O).

Our own log calls (structlog) and every library's stdlib logging (Celery, kombu,
Elasticsearch) go through one handler on the root logger, so with
NEWSFLOW_LOG_FORMAT=json every line a worker writes is one JSON object, and each line
written inside a task carries its task id, source and document id.

The Elasticsearch client's transport log (a line per request, node failures, retries
with their tracebacks) is debug detail: at info it filled every command's output, and
what a failure means reaches the user anyway, as the command's one-line error or the
task's retry and failure records. It is logged at debug, so NEWSFLOW_LOG_LEVEL=DEBUG
shows it; its errors stay errors.
"""

from __future__ import annotations

import logging
import sys

import structlog

from config.redact import mask_text
from config.settings import Settings

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class MaskCredentials:
    """The last processor: the renderer's line, every field and any exception text in it,
    with credentials masked (passwords in URLs, and each secret the settings hold), so no
    library's message or traceback can put a password in the logs."""

    def __init__(self, renderer: structlog.types.Processor, secrets: list[str]) -> None:
        self.renderer, self.secrets = renderer, secrets

    def __call__(self, logger: object, name: str, event_dict: structlog.types.EventDict) -> str:
        line = self.renderer(logger, name, event_dict)
        return mask_text(line if isinstance(line, str) else str(line), self.secrets)


class TransportAtDebug(logging.Filter):
    """Records of the Elasticsearch client's transport (`elastic_transport.*`) below
    ERROR become DEBUG records, dropped unless the root logger is at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("elastic_transport") or record.levelno >= logging.ERROR:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(settings: Settings) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    # On the handler, not the logger: a logger's filters do not apply to its children
    # (elastic_transport.transport, elastic_transport.node_pool).
    handler.addFilter(TransportAtDebug())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                MaskCredentials(renderer, settings.secrets()),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become log records too
