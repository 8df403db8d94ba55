"""Credentials masked out of URLs and free text, before anything is shown or logged (pure).

A URL may carry a password in its userinfo (`redis://:PASSWORD@host`,
`https://elastic:PASSWORD@es:9200`) or in its query (`?password=…`, `?token=…`); a
message, a traceback or a repr may carry such URLs anywhere. `mask_url` masks one URL,
`mask_text` every URL inside a text, and also any secret value it is given (the
Elasticsearch password or API key, which never sit in a URL). The user name and the
host stay: they say which account and which server, and are what an operator needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"

# Query parameters whose value is a secret: password=, pass=, pwd=, secret=, token=,
# access_token=, api_key=, apikey=, auth=. Not ssl_keyfile (a path).
_SECRET_NAME = r"[^=&\s?#]*(?:pass|pwd|secret|token|api_?key|auth)[^=&\s?#]*"  # noqa: S105 - a pattern
_QUERY_SECRET = re.compile(rf"(?i)([?&]{_SECRET_NAME}=)([^&\s#'\"]*)")
# `scheme://user:password@`: a valid URL's userinfo holds no unescaped / ? # @ or space;
# quotes end it too, so a URL inside JSON or a repr is masked without eating what follows.
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/?#@'\"]*):[^\s/?#@'\"]*@")
_MIN_SECRET = 4  # shorter given secrets are not searched for as text (they would mask words)


def mask_url(url: str) -> str:
    """`url` with the password of its userinfo and secret query values masked."""
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, host = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        url = url.replace(f"//{parts.netloc}", f"//{user}:{MASK}@{host}", 1)
    return _QUERY_SECRET.sub(rf"\g<1>{MASK}", url)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every URL's credentials masked, and every given secret value too."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(rf"\g<1>:{MASK}@", text)
    return _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)


def url_secrets(url: str) -> list[str]:
    """The secret values `url` carries (userinfo password, secret query values), as
    written and decoded (a library's message may show either)."""
    found = []
    if urlsplit(url).password:
        found.append(urlsplit(url).netloc.rpartition("@")[0].partition(":")[2])
    found += [m.group(2) for m in _QUERY_SECRET.finditer(url) if m.group(2)]
    return sorted({form for secret in found for form in (secret, unquote(secret))})
