"""Claims in Elasticsearch: one record per claim in <prefix>-claims, regrouped per speaker
on every write (does I/O).

The same job as the embedded claims table (pipeline/sqlite/claims.py), on the claims
alias, so the index task and `newsflow claims` work on either backend. Elasticsearch
has no transactions: writes wait for a refresh before the regrouping reads them, and two
workers regrouping the same speaker at the same moment may leave the older result until
that speaker's next write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.document import Document, Figure
from pipeline.elastic.client import translated_errors
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import from_es_source
from pipeline.errors import BadInput


class ElasticClaims:
    """One record per claim in <prefix>-claims, regrouped per speaker on every write."""

    def __init__(self, index: ElasticIndex) -> None:
        self.index = index

    def write(self, doc: Document) -> int:
        """Replace the document's claims and regroup their speakers. Returns the claim count."""
        from pipeline.claims.grouping import speaker_key
        from pipeline.claims.records import to_claim_records

        records = [{**r, "speaker_key": speaker_key(claim_speaker(r))} for r in to_claim_records(doc)]
        before = {c["speaker_key"] for c in self.index.scan("claims", {"term": {"doc_id": doc.id}})}
        with translated_errors("claims write"):
            self.index.es.delete_by_query(
                index=self.index.alias("claims"),
                query={"term": {"doc_id": doc.id}},
                refresh=True,
                conflicts="proceed",
            )
        self._bulk(self.index.record_actions("claims", records))
        self._regroup(before | {r["speaker_key"] for r in records})
        return len(records)

    def write_many(self, docs: Sequence[Document]) -> int:
        """`write` for each document in turn (each regroup must see the previous writes)."""
        return sum(self.write(doc) for doc in docs)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        refused = self.index.refreshing().bulk(actions)
        if refused:
            raise BadInput(f"claims index refused {refused[0][0]}: {refused[0][1]}")

    def _regroup(self, speakers: set[str]) -> None:
        """Group every stored claim of `speakers` again; update the records that changed."""
        from pipeline.claims.grouping import ClaimRef, group_refs

        actions = []
        for speaker in sorted(speakers):
            stored = {c["id"]: c for c in self.index.scan("claims", {"term": {"speaker_key": speaker}})}
            refs = [
                ClaimRef(
                    key=c["id"],
                    doc_id=c["doc_id"],
                    speaker=speaker,
                    text=c["text"],
                    figures=tuple(Figure(**f) for f in c.get("figures", [])),
                )
                for c in stored.values()
            ]
            grouped = group_refs(refs)
            members: dict[str, list[dict[str, Any]]] = {}
            for key, g in grouped.items():
                members.setdefault(g.group, []).append(stored[key])
            for key, g in grouped.items():
                group = members[g.group]
                change: dict[str, Any] = {
                    "group": g.group,
                    "conflict": g.conflict,
                    "outlets": sorted({c["outlet"] for c in group if c.get("outlet")}),
                    "n_documents": len({c["doc_id"] for c in group}),
                }
                change["n_outlets"] = len(change["outlets"])
                if any(stored[key].get(k) != v for k, v in change.items()):
                    actions.append(
                        {
                            "_op_type": "update",
                            "_index": self.index.alias("claims"),
                            "_id": key,
                            "doc": change,
                        }
                    )
        self._bulk(actions)

    def claims(self, *, speaker: str = "", doc_id: str = "") -> list[dict[str, Any]]:
        """Claim records, like `SqliteClaims.claims` (speaker: a part of the name)."""
        filters: list[dict[str, Any]] = []
        if speaker:
            filters.append(
                {
                    "bool": {
                        "should": [
                            {"wildcard": {"speaker_key": f"*{speaker.casefold()}*"}},
                            {"match": {"speaker": speaker}},
                        ]
                    }
                }
            )
        if doc_id:
            filters.append({"term": {"doc_id": doc_id}})
        found = [
            from_es_source(c, "claims") for c in self.index.scan("claims", {"bool": {"filter": filters}})
        ]
        return sorted(found, key=lambda c: (c["group"], c["doc_id"], c["start"]))

    def groups(
        self,
        *,
        speaker: str = "",
        conflicts: bool = False,
        min_sources: int = 0,
        kinds: Sequence[str] = ("direct", "reported", "statement"),
    ) -> list[dict[str, Any]]:
        """One object per claim group, as `SqliteClaims.groups` gives it."""
        from pipeline.sqlite.claims import summarise_group

        by_group: dict[str, list[dict[str, Any]]] = {}
        for record in self.claims(speaker=speaker):
            if record["kind"] in kinds:
                by_group.setdefault(record["group"], []).append(record)
        out = [summarise_group(group, members) for group, members in by_group.items()]
        out = [g for g in out if (g["conflict"] or not conflicts) and len(g["sources"]) >= min_sources]
        out.sort(key=lambda g: (-len(g["documents"]), g["speaker"], g["group"]))
        return out

    def search(self, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
        if not re.search(r"\w", query):
            return []
        match = {
            "query": query,
            "operator": "and",
            "type": "cross_fields",
            "fields": ["text", "speaker_canonical^2", "speaker"],
        }
        with translated_errors("claims search"):
            found = self.index.es.search(
                index=self.index.alias("claims"), query={"multi_match": match}, size=limit
            )
        return [from_es_source(h["_source"], "claims") for h in found["hits"]["hits"]]


def claim_speaker(record: Mapping[str, Any]) -> str:
    """Whose claim it is for grouping: nobody's for the outlet's own statements."""
    return "" if record["kind"] == "statement" else str(record["speaker_canonical"] or record["speaker"])
