"""Claims: who said what (pure).

First version: direct quotes in the shapes `"…," X said` and `X said: "…"`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline.document import Claim, Document, Entity

_Q = r"[\"“](?P<quote>[^\"“”]{10,}?)[\"”]"
_SPEAKER = r"(?P<speaker>(?:[A-Z][\w'’-]+\s?){1,4})"
_CUE = r"(?P<cue>said|says|warned|added|told reporters|emphasised|emphasized)"
_AFTER = re.compile(_Q + r",?\s+" + _SPEAKER + r"\s" + _CUE)
_AFTER_INV = re.compile(_Q + r",?\s+" + _CUE + r"\s" + _SPEAKER)
_BEFORE = re.compile(_SPEAKER + r"\s" + _CUE + r":?\s+" + _Q)


def extract_claims(doc: Document) -> Document:
    """Add direct quotes with their speakers.

    Reads: text, entities.  Adds: claims.  Never: performs I/O.
    """
    claims: list[Claim] = []
    seen: set[int] = set()
    for pattern in (_AFTER, _AFTER_INV, _BEFORE):
        for m in pattern.finditer(doc.text):
            if m.start("quote") in seen:
                continue
            seen.add(m.start("quote"))
            speaker = m.group("speaker").strip()
            claims.append(Claim(
                text=m.group("quote").strip(" ,"), kind="direct", speaker=speaker,
                speaker_canonical=_resolve(speaker, doc.entities), cue=m.group("cue"),
                start=m.start("quote"), end=m.end("quote"),
                raw_start=doc.raw_offset(m.start("quote")), raw_end=doc.raw_offset(m.end("quote")),
            ))
    claims.sort(key=lambda c: c.start)
    return replace(doc, claims=tuple(claims))


def _resolve(speaker: str, entities: tuple[Entity, ...]) -> str:
    last = speaker.split()[-1]
    for e in entities:
        if e.label == "PERSON" and (speaker in e.variants or e.canonical.endswith(last)):
            return e.canonical
    return speaker
