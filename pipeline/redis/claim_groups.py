"""Cross-document claim groups shared by every worker, in Redis (does I/O).

    <prefix>:s:<speaker>       hash: claim key -> the claim's ClaimRef (JSON), one per speaker
    <prefix>:f:<unit>:<value>  the same for the outlets' own statements, filed by figure

`assign(doc)` files the document's claims, reads every claim of the same speakers
back and runs `grouping.group_refs` over them (for a speaker with many claims, over the
NEIGHBOURS most like the document's), so a worker sees all claims written before its read.

Limit: the group stamped here is provisional. The id is a hash of the speaker and the
group's smallest member key, so it is the same whatever the order of the claims seen so
far, but a later article can join two groups, bring a smaller key, or make a group
conflicting, and the documents processed before it are not rewritten. So `claims[].group`
and `claims[].conflict` in the document record (`newsflow show --json`, `export`, the
documents index) are "as of when this document was processed". The claim indices hold
the settled values: the embedded claims table (pipeline/sqlite/claims.py) and
Elasticsearch's newsflow-claims (ElasticClaims in pipeline/elastic/claims.py) regroup
every stored claim of the speakers a document touches on each write, so their group ids,
outlets and conflict flags depend only on which documents are stored. `newsflow claims`
and Kibana read those.
"""

from __future__ import annotations

import json
from dataclasses import replace

import redis

from pipeline.claims.grouping import ClaimRef, group_refs, neighbourhood, speaker_key
from pipeline.claims.records import claim_key, claim_ref
from pipeline.document import Document, Figure
from pipeline.errors import TransientError

NEIGHBOURS = 40  # other claims of a speaker grouped with a new document's (see grouping.neighbourhood)


class ClaimGroups:
    def __init__(self, client: redis.Redis, *, prefix: str = "newsflow:claims") -> None:
        self.redis = client
        self.prefix = prefix

    def _keys(self, ref: ClaimRef) -> list[str]:
        if ref.speaker:
            return [f"{self.prefix}:s:{speaker_key(ref.speaker)}"]
        return [f"{self.prefix}:f:{f.unit.casefold()}:{f.value}" for f in ref.figures]

    def assign(self, doc: Document) -> Document:
        """The document with each claim's (provisional) group id and conflict flag."""
        refs = [claim_ref(doc, c) for c in doc.claims]
        if not refs:
            return doc
        try:
            pipe = self.redis.pipeline(transaction=False)
            keys: set[str] = set()
            for ref in refs:
                for key in self._keys(ref):
                    pipe.hset(key, ref.key, _dump(ref))
                    keys.add(key)
            pipe.execute()
            pipe = self.redis.pipeline(transaction=False)
            for key in sorted(keys):
                pipe.hgetall(key)
            stored = {k: v for part in pipe.execute() for k, v in part.items()}
        except redis.RedisError as exc:
            raise TransientError("redis unavailable for claim groups") from exc
        own = {ref.key for ref in refs}
        grouped = group_refs(neighbourhood((_load(v) for v in stored.values()), own, NEIGHBOURS))
        claims = []
        for c in doc.claims:
            g = grouped.get(claim_key(doc, c))
            claims.append(replace(c, group=g.group, conflict=g.conflict) if g else c)
        return replace(doc, claims=tuple(claims))


def _dump(ref: ClaimRef) -> str:
    return json.dumps(
        {
            "key": ref.key,
            "doc": ref.doc_id,
            "speaker": ref.speaker,
            "text": ref.text,
            "figures": [[f.text, f.value, f.unit, f.modifier] for f in ref.figures],
        },
        ensure_ascii=False,
    )


def _load(raw: bytes | str) -> ClaimRef:
    d = json.loads(raw)
    figures = tuple(Figure(text=t, value=v, unit=u, modifier=m) for t, v, u, m in d["figures"])
    return ClaimRef(key=d["key"], doc_id=d["doc"], speaker=d["speaker"], text=d["text"], figures=figures)
