"""One spaCy parse per paragraph, shared by the stages that read it (pure, memoised).

The entity stage and the claim stage both need the parse of every paragraph; running
the model twice doubled the cost of a document (spaCy is ~90% of the CPU time). They
both call `parse`, which remembers the last few hundred paragraphs it parsed with each
model, and always every paragraph of its last call, so the second stage gets the first
stage's Docs however long the document. The Docs are shared: callers read them and
never change them.

A worker's batch is parsed together (`parsed_together`, called by pipeline/run.py's
`run_batch` before the stages run on each document): the paragraphs of all its
documents go through `nlp.pipe` in the model's own batches, and their Docs stay
(pinned, not subject to the cache's size) until the batch is done, so each stage's
`parse` finds them. Measured over 600 documents of bench/throughput.py's corpus, in
one process: the entity stage, parse included, 67.8 CPU ms per document when each
document's paragraphs went through `nlp.pipe` alone (a call per document), 62.3
when a batch of 16 documents' went together (57.0 of it the parse).

A paragraph longer than MAX_PARAGRAPH_CHARS is parsed in pieces (`pieces`): the
parser's memory grows with the length of one text (a 64 KB paragraph took ~150 MB),
spaCy refuses texts over `nlp.max_length` (1,000,000 characters), and the stages'
work per paragraph grows with the paragraph's quotes times its tokens.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

CACHE_PARAGRAPHS = 512  # comfortably more than one long article; a few MB of Docs
# News paragraphs stay far below this (the longest line of the PolNeAR dev articles is
# 938 characters); a longer one is a transcript or a text without paragraph breaks.
MAX_PARAGRAPH_CHARS = 4000
# Characters per batch of the model: 64 news paragraphs come to about as many.
BATCH_CHARS = 24_000
_caches: dict[int, OrderedDict[str, Any]] = {}
# Docs of the batch being processed, per model (parsed_together): kept however many.
_pinned: dict[int, dict[str, Any]] = {}
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_NO_TENSOR = np.zeros((0,), dtype="float32")


def load_model(name: str) -> Any:
    """The spaCy model `name` as the stages use it: without the lemmatizer (no stage reads
    lemmas), its attribute ruler's rules applied by table (pipeline/attribute_table.py:
    the same annotations, about 15 CPU ms a document less)."""
    import spacy

    from pipeline.attribute_table import use_attribute_table

    nlp = spacy.load(name, exclude=["lemmatizer"])
    use_attribute_table(nlp)
    return nlp


def parse(nlp: Any, texts: Iterable[str], *, batch_size: int = 64) -> list[Any]:
    """`nlp.pipe(texts)`, reusing the Doc of any text parsed recently with the same model."""
    texts = list(texts)
    cache = _caches.setdefault(id(nlp), OrderedDict())
    pinned = _pinned.get(id(nlp), {})
    unique = dict.fromkeys(texts)
    for text in unique:
        if text not in cache and text in pinned:
            cache[text] = pinned[text]
    missing = [t for t in unique if t not in cache]
    for batch in _batches(missing, batch_size):
        for text, sdoc in zip(batch, nlp.pipe(batch, batch_size=len(batch)), strict=True):
            # No stage reads the token vectors, ~40% of a Doc's memory: a 2 MB text's
            # Docs stay in the cache between the entity and the claim stage.
            sdoc.tensor = _NO_TENSOR
            cache[text] = sdoc
    docs = []
    for text in texts:
        cache.move_to_end(text)
        docs.append(cache[text])
    # This call's texts are the newest: all of them stay, however many, for the next stage.
    while len(cache) > max(CACHE_PARAGRAPHS, len(unique)):
        cache.popitem(last=False)
    return docs


@contextmanager
def parsed_together(nlp: Any, texts: Iterable[str]) -> Iterator[None]:
    """Parse `texts` (the paragraphs of every document of a batch) in one `nlp.pipe`, in
    the model's batches (`_batches`), and keep their Docs for `parse` until the block ends."""
    texts = list(texts)
    pinned = _pinned.setdefault(id(nlp), {})
    added = {t: d for t, d in zip(texts, parse(nlp, texts), strict=True) if t not in pinned}
    pinned.update(added)
    try:
        yield
    finally:
        for text in added:
            pinned.pop(text, None)


def _batches(texts: list[str], size: int) -> Iterator[list[str]]:
    """`texts` in batches of at most `size` texts and BATCH_CHARS characters (one text
    alone may be longer): the model's working memory grows with a batch's characters
    (64 pieces of 4,000 took ~420 MB at once). The answers do not depend on the batches."""
    batch: list[str] = []
    chars = 0
    for text in texts:
        if batch and (len(batch) == size or chars + len(text) > BATCH_CHARS):
            yield batch
            batch, chars = [], 0
        batch.append(text)
        chars += len(text)
    if batch:
        yield batch


def pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] as (start, end) pieces of at most MAX_PARAGRAPH_CHARS, cut after the
    last sentence end of each piece's second half (else at its last space, else anywhere);
    the white space at a cut belongs to no piece. Most paragraphs are one piece."""
    out = []
    while end - start > MAX_PARAGRAPH_CHARS:
        limit = start + MAX_PARAGRAPH_CHARS
        half = start + MAX_PARAGRAPH_CHARS // 2
        cut = max((m.end() for m in _SENTENCE_END.finditer(text, half, limit)), default=-1)
        if cut == -1:
            space = text.rfind(" ", half, limit)
            cut = space if space != -1 else limit
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def clear_cache() -> None:
    """Forget every parse (a measurement that must parse afresh)."""
    _caches.clear()
    _pinned.clear()
