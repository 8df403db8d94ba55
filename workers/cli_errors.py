"""The command line's answer when the index cannot be used: one line, a non-zero exit (does I/O).

Any command that reads or writes Elasticsearch (search, show, export, claims, stories,
run, es, reindex) can meet a cluster that is down, refuses our credentials or has no
indices yet. The client's exception, with its chain of causes, is ~1,300 lines of
traceback; the user needs one: which URL, what went wrong, what to check. `IndexErrors`
is the command group's class: it turns those exceptions into a `click.ClickException`
(printed as one `Error: ...` line, exit status 1) and lets everything else through.
"""

from __future__ import annotations

from typing import Any

import click

from config.redact import mask_url
from config.settings import Settings, SettingsError, get_settings
from pipeline.errors import TransientError

_CREDENTIALS = "NEWSFLOW_ES_API_KEY, or NEWSFLOW_ES_USERNAME and NEWSFLOW_ES_PASSWORD"


def index_problem(exc: BaseException, settings: Settings) -> str | None:
    """One line for an Elasticsearch fault met by a command, or None if `exc` is not one."""
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError, AuthenticationException, AuthorizationException, NotFoundError

    urls = ", ".join(map(mask_url, settings.es_urls)) or "(no URL: set NEWSFLOW_ES_URLS)"
    cause = exc.__cause__ if isinstance(exc, TransientError) else exc
    if isinstance(cause, ConnectionTimeout):
        return (
            f"Elasticsearch at {urls} did not answer within {settings.es_timeout_s:g} s: check that it "
            "is running and not overloaded (NEWSFLOW_ES_TIMEOUT_S sets the wait)"
        )
    if isinstance(cause, TransportConnectionError):
        return (
            f"Elasticsearch at {urls} is unreachable: check that it is running and that "
            "NEWSFLOW_ES_URLS points at it"
        )
    if isinstance(cause, AuthenticationException | AuthorizationException):
        return f"Elasticsearch at {urls} refused our credentials ({cause.status_code}): check {_CREDENTIALS}"
    if isinstance(cause, NotFoundError) and "index_not_found" in str(cause):
        return (
            f"Elasticsearch at {urls} has no {settings.es_prefix}-* indices: run `newsflow es setup` "
            f"(NEWSFLOW_ES_PREFIX={settings.es_prefix})"
        )
    if isinstance(cause, ApiError) and (cause.status_code == 429 or cause.status_code >= 500):
        return (
            f"Elasticsearch at {urls} answered {cause.status_code}: check the cluster's health,"
            " then try again"
        )
    return None


def check_index(settings: Settings) -> None:
    """Before `run` queues anything: the configured Elasticsearch answers and has our
    documents alias, or one line saying what to fix (instead of every input retrying
    for half a minute and failing). Nothing to check for the embedded index."""
    if settings.index_backend != "elasticsearch":
        return
    from pipeline.elastic.client import make_client
    from pipeline.elastic.records import alias_name

    es = make_client(settings)
    alias = alias_name(settings.es_prefix, "documents")
    try:
        if not es.indices.exists_alias(name=alias):
            raise click.ClickException(
                f"Elasticsearch at {', '.join(map(mask_url, settings.es_urls))} has no alias {alias}: "
                f"run `newsflow es setup` first (NEWSFLOW_ES_PREFIX={settings.es_prefix})"
            )
    except click.ClickException:
        raise
    except Exception as exc:  # only what `index_problem` recognises becomes one line
        problem = index_problem(exc, settings)
        if problem is None:
            raise
        raise click.ClickException(problem) from exc
    finally:
        es.close()


class IndexErrors(click.Group):
    """A command group whose commands answer an Elasticsearch fault with one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            problem = _problem(exc)
            if problem is None:
                raise
            raise click.ClickException(problem) from exc


def _problem(exc: Exception) -> str | None:
    module = type(exc.__cause__ if isinstance(exc, TransientError) else exc).__module__
    if not module.startswith(("elasticsearch", "elastic_transport")):
        return None  # not the index's: nothing to import, nothing to say
    try:
        settings = get_settings()
    except SettingsError:
        return None
    return index_problem(exc, settings)
