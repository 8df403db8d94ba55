"""The Elasticsearch client, and its faults translated into ours (does I/O).

Errors, translated for the tasks: an unreachable cluster, a timeout, a 429 or a 5xx
raise `TransientError` (Celery retries with backoff and jitter); a refused item's
reason is put in one line by `error_reason`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from elasticsearch import ApiError, Elasticsearch
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsConnectionTimeout

from pipeline.errors import TransientError


def make_client(settings: Any) -> Elasticsearch:
    """A client for the cluster in `settings` (URLs, API key or basic auth, TLS, timeout).

    Secrets come only from the settings, which read them only from the environment.
    Connection errors and 502/503/504 are retried at once by the transport, on the next
    node; a 429 is left to the bulk helper, which backs off (an immediate retry adds load).
    """
    kw: dict[str, Any] = {
        "hosts": list(settings.es_urls),
        "request_timeout": settings.es_timeout_s,
        # A timeout is not retried here: three 30 s attempts would overrun the task's
        # time limit; it becomes TransientError and Celery retries later, with backoff.
        "retry_on_timeout": False,
        "max_retries": 2,
        "retry_on_status": (502, 503, 504),
    }
    if settings.es_api_key:
        kw["api_key"] = settings.es_api_key
    elif settings.es_username:
        kw["basic_auth"] = (settings.es_username, settings.es_password)
    if settings.es_ca_certs:
        kw["ca_certs"] = settings.es_ca_certs
    if not settings.es_verify_certs:
        kw["verify_certs"] = False
        kw["ssl_show_warn"] = False
    return Elasticsearch(**kw)


def cluster_urls(es: Elasticsearch) -> str:
    """The client's node URLs, comma-separated (never credentials: they are not in them)."""
    return ", ".join(sorted(node.base_url for node in es.transport.node_pool.all()))


@contextlib.contextmanager
def translated_errors(what: str, *, es: Elasticsearch | None = None) -> Iterator[None]:
    """Turn the client's faults into ours: unreachable, timeout, 429, 5xx -> TransientError.

    With `es`, the message names the cluster's URLs: a failure recorded for an input
    (and `newsflow run`'s summary) then says which Elasticsearch could not be reached.
    """
    where = f" at {cluster_urls(es)}" if es is not None else ""
    try:
        yield
    except (EsConnectionError, EsConnectionTimeout) as exc:
        raise TransientError(f"elasticsearch unavailable{where} during {what}: {type(exc).__name__}") from exc
    except ApiError as exc:
        if exc.status_code == 429 or exc.status_code >= 500:
            raise TransientError(f"elasticsearch{where} answered {exc.status_code} during {what}") from exc
        raise


def error_reason(error: Any) -> str:
    """Elasticsearch's reason for a refused item, as one line: "type: reason (caused by ...)".

    Only the first line of each reason: a parse error goes on with "at [Source: ...]", a
    preview of the document's own text (thousands of characters in a failure record).
    """
    if not isinstance(error, Mapping):
        return str(error)
    text = f"{error.get('type', 'error')}: {_first_line(error.get('reason'))}".strip()
    cause = error.get("caused_by")
    if isinstance(cause, Mapping):
        text += f" (caused by {cause.get('type', '')}: {_first_line(cause.get('reason'))})"
    return text


def _first_line(reason: Any) -> str:
    return str(reason or "").strip().split("\n", 1)[0].strip()
