"""Helpers for tests against a live Elasticsearch (tests/conftest.py `es_url`) (does I/O).

Each test module works under a prefix of its own (`nftest-<random>`) and deletes its
indices and templates at the end, so modules and runs share one cluster safely.
Credentials come from the usual variables: NEWSFLOW_ES_API_KEY, or NEWSFLOW_ES_USERNAME
and NEWSFLOW_ES_PASSWORD, and NEWSFLOW_ES_CA_CERTS for TLS.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from config.settings import Settings
from pipeline.elastic.client import make_client
from pipeline.elastic.records import KINDS, alias_name

_PASSED_ON = (
    "NEWSFLOW_ES_API_KEY",
    "NEWSFLOW_ES_USERNAME",
    "NEWSFLOW_ES_PASSWORD",
    "NEWSFLOW_ES_CA_CERTS",
    "NEWSFLOW_ES_VERIFY_CERTS",
)


def new_prefix() -> str:
    return f"nftest-{secrets.token_hex(4)}"


def es_env(es_url: str, prefix: str) -> dict[str, str]:
    """The NEWSFLOW_* variables of a command line or worker on that cluster under `prefix`."""
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ON}
    env.update(
        {"NEWSFLOW_INDEX_BACKEND": "elasticsearch", "NEWSFLOW_ES_URLS": es_url, "NEWSFLOW_ES_PREFIX": prefix}
    )
    return env


def client_for(es_url: str, prefix: str) -> Any:
    return make_client(Settings.from_env(es_env(es_url, prefix)))


def drop_prefix(es: Any, prefix: str) -> None:
    """Delete every index and template of `prefix` (by name: clusters may refuse wildcard
    deletes, action.destructive_requires_name)."""
    for name in sorted(es.indices.get(index=f"{prefix}-*").body):
        es.indices.delete(index=name)
    for kind in KINDS:
        es.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))
