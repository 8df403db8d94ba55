"""One spaCy parse per paragraph, shared by the stages that read it (pure, memoised).

The entity stage and the claim stage both need the parse of every paragraph; running
the model twice doubled the cost of a document (spaCy is ~90% of the CPU time). They
both call `parse`, which remembers the last few hundred paragraphs it parsed with each
model, so the second stage gets the first stage's Docs. The Docs are shared: callers
read them and never change them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

CACHE_PARAGRAPHS = 512  # comfortably more than one long article; a few MB of Docs
_caches: dict[int, OrderedDict[str, Any]] = {}


def parse(nlp: Any, texts: Iterable[str], *, batch_size: int = 64) -> list[Any]:
    """`nlp.pipe(texts)`, reusing the Doc of any text parsed recently with the same model."""
    texts = list(texts)
    cache = _caches.setdefault(id(nlp), OrderedDict())
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    for text, sdoc in zip(missing, nlp.pipe(missing, batch_size=batch_size), strict=True):
        cache[text] = sdoc
    docs = []
    for text in texts:
        cache.move_to_end(text)
        docs.append(cache[text])
    while len(cache) > CACHE_PARAGRAPHS:
        cache.popitem(last=False)
    return docs
