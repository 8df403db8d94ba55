"""The Celery app, configured from Settings (no processing here).

The broker is NEWSFLOW_REDIS_URL, else the private Redis running for NEWSFLOW_HOME.
`configure(url)` lets the command line point the app at a Redis it just started.
"""

from __future__ import annotations

from celery import Celery

from config.celery import celery_config
from config.settings import get_settings
from workers.local import PrivateRedis

app = Celery("newsflow", include=["workers.tasks", "workers.signals"])


def default_broker_url() -> str:
    settings = get_settings()
    return settings.redis_url or PrivateRedis.find_running(settings.home) or "redis://localhost:6379/0"


def configure(broker_url: str) -> Celery:
    app.conf.update(celery_config(get_settings(), broker_url))
    return app


configure(default_broker_url())
