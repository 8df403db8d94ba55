"""How every Redis client connects, decided in one place (pure).

Our own clients (`workers.resources.get_redis`: the ledger, the registries, the story
store and the near-duplicate index) are built with
`redis.Redis.from_url(url, **redis_options())`; Celery's broker gets `broker_ssl(url)`
and the same timeouts. So TLS (`rediss://`), its certificate options and the timeouts reach all of them.

TLS settings are the URL's query parameters, read alike by redis-py and kombu:
`rediss://:PASSWORD@host:6380/0?ssl_ca_certs=/etc/newsflow/redis-ca.pem`
(also `ssl_certfile`, `ssl_keyfile` for client certificates, `ssl_cert_reqs`).
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

SOCKET_TIMEOUT_S = 10.0  # a command that gets no answer fails (and is retried) instead of hanging
CONNECT_TIMEOUT_S = 5.0
HEALTH_CHECK_INTERVAL_S = 30  # a connection idle this long is pinged before use


def redis_options() -> dict[str, Any]:
    """Keyword arguments for `redis.Redis.from_url(url, ...)` besides what the URL says
    (its query parameters, TLS among them, win over these), and for the broker's transport."""
    return {
        "socket_timeout": SOCKET_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }


def broker_ssl(url: str) -> dict[str, Any] | None:
    """Celery's `broker_use_ssl` for `url`: for rediss://, verify the server's certificate,
    as redis-py does (kombu alone would connect to any certificate). Parameters in the URL
    (ssl_ca_certs, ssl_cert_reqs...) still apply: kombu reads them over these."""
    return {"ssl_cert_reqs": ssl.CERT_REQUIRED} if urlsplit(url).scheme == "rediss" else None
