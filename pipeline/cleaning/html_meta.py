"""A page's title, author, date and site name, as trafilatura finds them, without the rest (pure).

trafilatura's `extract_metadata` also looks for categories, tags, a licence and the
URL's domain, which the pipeline never reads; those searches cost about a fifth
of the HTML path's time. This runs the same steps, in the same order, for the
four fields we keep, so the values are the ones `bare_extraction(with_metadata=True)`
gives (the tests compare them).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from html import unescape
from typing import Any

from lxml.html import HtmlElement

# the page's own date, without htmldate's slow whole-page search
DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}
_FIELDS = ("title", "author", "date", "sitename", "description")


@dataclass(frozen=True)
class PageMeta:
    meta: dict[str, str]  # "title", "author", "published", "outlet" (empty when not found)
    url: str | None  # the page's canonical URL
    description: str  # the summary the page gives in its <meta> tags or JSON-LD


def page_meta(tree: HtmlElement) -> PageMeta:
    """The page's metadata, read as trafilatura's metadata step does (its author search works on a copy).

    Nothing found where that step fails on a malformed page (bare_extraction gives up then too).
    """
    try:
        return _page_meta(tree)
    except (TypeError, ValueError):
        return PageMeta(dict.fromkeys(("title", "author", "published", "outlet"), ""), None, "")


def _page_meta(tree: HtmlElement) -> PageMeta:
    from htmldate import find_date
    from trafilatura import metadata as m
    from trafilatura.utils import line_processing

    found = m.examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None
    # trafilatura's JSON-LD reader has known bugs: on an error it goes on without it, and so do we
    with contextlib.suppress(Exception):
        found = m.extract_meta_json(tree, found)
    if not found.title:
        found.title = m.extract_title(tree)
    if not found.author:
        found.author = m.extract_author(tree)
    if not found.url:
        found.url = m.extract_url(tree, None)
    found.date = find_date(tree, **DATE_PARAMS, url=found.url)
    if not found.sitename:
        found.sitename = m.extract_sitename(tree)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")  # a Twitter handle
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif found.url:
        match = m.META_URL.match(found.url)
        if match:
            found.sitename = match[1]
    values = {}
    for name in _FIELDS:  # trafilatura's clean_and_trim, on these fields
        value = getattr(found, name)
        if isinstance(value, str):
            if len(value) > 10000:
                value = value[:9999] + "…"
            value = line_processing(unescape(value))
        values[name] = value or ""
    meta = {
        "title": values["title"],
        "author": values["author"],
        "published": values["date"],
        "outlet": values["sitename"],
    }
    return PageMeta(meta, found.url, values["description"])
