"""Redis faults as the pipeline's own error (no I/O of its own).

A store wraps its Redis calls in `unavailable("the ledger")`: a Redis that is down,
hung, loading or failing over becomes TransientError naming the store, which tasks
retry and the command line explains (it reads the Redis error from `__cause__`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import redis

from pipeline.errors import TransientError


@contextlib.contextmanager
def unavailable(what: str) -> Iterator[None]:
    """Raise TransientError("<what> unavailable: …") from any Redis error inside."""
    try:
        yield
    except redis.RedisError as exc:
        raise TransientError(f"{what} unavailable: {type(exc).__name__}: {exc}") from exc
