"""Per-process clients and models, built once and reached lazily (does I/O).

Lazy accessors matter: a worker in a thread never sees worker_process_init, and the
command line needs the index without a model.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import httpx
import redis

from config.settings import get_settings
from pipeline.redis.ledger import Ledger

if TYPE_CHECKING:
    from pipeline.elastic.documents import ElasticIndex
    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.redis.entity_registry import RedisEntityRegistry
    from pipeline.redis.line_stats import LineStats
    from pipeline.redis.retention import Retention
    from pipeline.redis.story_store import NearDuplicates, StoryStore
    from pipeline.run import Stage
    from pipeline.stores import ClaimsStore, DocumentIndex, StoriesStore
    from pipeline.write import Stores


@functools.cache
def get_nlp() -> Any:
    from pipeline.nlp import load_model

    return load_model(get_settings().spacy_model)


@functools.cache
def get_stages() -> tuple[Stage, ...]:
    from celery.exceptions import SoftTimeLimitExceeded

    from pipeline.run import build_stages

    # The task's time limit stops a document in any stage (a soft stage would swallow it)
    return build_stages(
        nlp=get_nlp(),
        lsh=get_near_duplicates(),
        stories=get_story_store(),
        entities=get_entity_registry(),
        line_stats=get_line_stats(),
        interrupts=(SoftTimeLimitExceeded,),
    )


@functools.cache
def get_line_stats() -> LineStats:
    from pipeline.redis.line_stats import LineStats

    return LineStats(get_redis(), retention=get_retention())


@functools.cache
def get_entity_registry() -> RedisEntityRegistry:
    from pipeline.redis.entity_registry import RedisEntityRegistry

    return RedisEntityRegistry(get_redis(), retention=get_retention())


@functools.cache
def get_claim_groups() -> ClaimGroups:
    from pipeline.redis.claim_groups import ClaimGroups

    return ClaimGroups(get_redis(), retention=get_retention())


@functools.cache
def get_claims_table() -> ClaimsStore:
    """The claims table: embedded, or the claims index when Elasticsearch holds the index."""
    settings = get_settings()
    if settings.index_backend != "sqlite":
        from pipeline.elastic.claims import ElasticClaims

        return ElasticClaims(_elastic_index())
    from pipeline.sqlite.claims import SqliteClaims

    return SqliteClaims(settings.index_path)


@functools.cache
def get_near_duplicates() -> NearDuplicates:
    from pipeline.redis.story_store import NearDuplicates

    return NearDuplicates(get_redis(), retention=get_retention())


@functools.cache
def get_story_store() -> StoryStore:
    from pipeline.redis.story_store import StoryStore

    return StoryStore(get_redis(), retention=get_retention())


@functools.cache
def get_retention() -> Retention:
    """How long the Redis stores keep per-document state (NEWSFLOW_STATE_*)."""
    from pipeline.redis.retention import DAY_S, Retention

    settings = get_settings()
    return Retention(
        window_s=settings.state_window_days * DAY_S,
        prune_every_s=settings.state_prune_every_s,
        prune_batch=settings.state_prune_batch,
        # A task not acknowledged comes back after the visibility timeout: what only a
        # redelivery reads must outlive that, with room for retries.
        redelivery_s=max(DAY_S, 2 * settings.visibility_timeout_s),
    )


@functools.cache
def get_story_index() -> StoriesStore:
    """The stories table: embedded, or the stories index when Elasticsearch holds the index."""
    settings = get_settings()
    if settings.index_backend != "sqlite":
        from pipeline.elastic.stories import ElasticStories

        return ElasticStories(_elastic_index(), get_story_store())  # members read from the store
    from pipeline.sqlite.stories import SqliteStories

    return SqliteStories(settings.index_path)


def get_write_stores() -> Stores:
    """What the write path (pipeline/write.py) writes to and reads from, in this process."""
    from pipeline.write import Stores

    return Stores(
        index=get_index(),
        stories=get_story_index(),
        story_store=get_story_store(),
        near_duplicates=get_near_duplicates(),
        claims=get_claims_table(),
        claim_groups=get_claim_groups(),
        ledger=get_ledger(),
        names=get_entity_registry(),
        rename_every_s=get_settings().rename_every_s,
    )


@functools.cache
def get_redis() -> redis.Redis:
    from config.connections import redis_options
    from workers.app import app

    return redis.Redis.from_url(app.conf.broker_url, **redis_options())  # TLS from the URL too


@functools.cache
def get_ledger() -> Ledger:
    return Ledger(get_redis())


@functools.cache
def get_index() -> DocumentIndex:
    settings = get_settings()
    if settings.index_backend == "elasticsearch":
        return _elastic_index()
    from pipeline.sqlite.index import SqliteIndex

    return SqliteIndex(settings.index_path)


@functools.cache
def _elastic_index() -> ElasticIndex:
    """The one ElasticIndex of this process: `get_index()`, and the claims and stories'."""
    from pipeline.elastic.client import make_client
    from pipeline.elastic.documents import ElasticIndex

    settings = get_settings()
    return ElasticIndex(
        make_client(settings),
        prefix=settings.es_prefix,
        chunk_size=settings.es_chunk_size,
        chunk_bytes=settings.es_chunk_bytes,
        retries_429=settings.es_bulk_retries,
    )


@functools.cache
def get_http() -> httpx.Client:
    settings = get_settings()
    return httpx.Client(
        timeout=settings.fetch_timeout_s,
        headers={"user-agent": "newsflow/0.1 (+https://example.invalid/newsflow)"},
    )
