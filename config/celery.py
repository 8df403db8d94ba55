"""The Celery configuration as a plain dict built from Settings (pure).

Queues each have one purpose so operators see where work piles up:
`ingest` reads *.urls lists and fetches URLs (I/O), `process` reads dropped text and
HTML files (the watcher sends them there: reading one is cheap beside its NLP) and runs
the NLP stages (CPU, prefetch 1), `index` writes to the search index (I/O).
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue  # type: ignore[attr-defined]

from config.connections import broker_ssl, redis_options
from config.settings import Settings

QUEUES = ("ingest", "process", "index")


def celery_config(settings: Settings, broker_url: str) -> dict[str, Any]:
    return {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        # rediss://: the server's certificate is verified, as by our own Redis clients.
        "broker_use_ssl": broker_ssl(broker_url),
        # A message not acknowledged within this time is delivered again: keep it above
        # the longest retry countdown plus the task time limit.
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout_s,
            # Look for messages whose worker died every half timeout (at most a minute)
            # rather than kombu's default of about 100 s: one cheap Redis query each time.
            "unacked_restore_interval": max(1, min(60, settings.visibility_timeout_s // 2)),
            "unacked_restore_throttle": 1,
            # Connecting to publish waits out a Redis restart too (kombu's default gives
            # up after 4 s), as task_publish_retry_policy below does for the publish itself.
            "connect_retries_timeout": 60,
            # The timeouts every Redis client of ours has (config/connections.py).
            **redis_options(),
        },
        "result_backend": None,
        "task_ignore_result": True,
        # JSON only, end to end: no pickle.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        # Publishing waits out a Redis restart (up to about a minute) instead of failing
        # the task that hands a document on.
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 30,
            "interval_start": 0.5,
            "interval_step": 0.5,
            "interval_max": 3,
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One direct exchange per queue, so a message goes to its queue and nowhere else.
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name)  # type: ignore[no-untyped-call]
            for name in QUEUES
        ],
        "task_default_queue": "process",
        "task_soft_time_limit": settings.task_soft_time_limit_s,
        "task_time_limit": settings.task_soft_time_limit_s + 30,
        "worker_prefetch_multiplier": settings.prefetch_multiplier,
        "worker_concurrency": settings.concurrency,
        # A new pool child loads the spaCy model before it reports up; on a busy machine
        # that takes longer than Celery's default of 4 s, and the child would be killed.
        "worker_proc_alive_timeout": 120,
        # Flower and `newsflow status` see queued tasks as well as running ones.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
    }
