"""One flat record per claim, for the claims indices (pure).

`to_claim_records(doc)` is shared by the embedded SQLite claims table and the
Elasticsearch `newsflow-claims` index, so both hold the same fields. The `group` and
`conflict` it copies from the document are those of the batch's plan
(pipeline/claims/plan.py), which stamps the documents before it makes their records.
"""

from __future__ import annotations

from typing import Any

from pipeline.claims.grouping import ClaimRef
from pipeline.document import Claim, Document, Figure


def claim_key(doc: Document, claim: Claim) -> str:
    """Stable id of a claim: its document and its span in the cleaned text.

    The end is part of it: a claim nested in another ("X said Y had promised Z") can
    start at the same offset. Extraction never returns two claims with one span.
    """
    return f"{doc.id}:{claim.start}-{claim.end}"


def claim_ref(doc: Document, claim: Claim) -> ClaimRef:
    speaker = "" if claim.kind == "statement" else (claim.speaker_canonical or claim.speaker)
    return ClaimRef(
        key=claim_key(doc, claim), doc_id=doc.id, speaker=speaker, text=claim.text, figures=claim.figures
    )


def figure_dict(f: Figure) -> dict[str, Any]:
    return {"text": f.text, "value": f.value, "unit": f.unit, "modifier": f.modifier}


def to_claim_records(doc: Document) -> list[dict[str, Any]]:
    """Every claim of `doc` as a flat record: who, what, figures, group, where, from which outlet."""
    records = []
    for n, c in enumerate(doc.claims):
        records.append(
            {
                "id": claim_key(doc, c),
                "doc_id": doc.id,
                "n": n,
                "group": c.group,
                "conflict": c.conflict,
                "kind": c.kind,
                "speaker": c.speaker,
                "speaker_canonical": c.speaker_canonical,
                "cue": c.cue,
                "text": c.text,
                "figures": [figure_dict(f) for f in c.figures],
                "figure_texts": [f.text for f in c.figures],
                "outlet": doc.outlet,
                "sources": list(doc.sources or ((doc.source,) if doc.source else ())),
                "title": doc.title,
                "published": doc.published,
                "story_id": doc.story_id,
                "start": c.start,
                "end": c.end,
                "raw_start": c.raw_start,
                "raw_end": c.raw_end,
            }
        )
    return records
