"""Claims in Elasticsearch: one record per claim in <prefix>-claims (does I/O).

The same job as the embedded claims table (pipeline/sqlite/claims.py), on the claims
alias, so the write path and `newsflow claims` work on either backend. Groups are
decided once per batch (`plan.plan_claims`, over the registry in Redis); `apply(plan)`
persists a plan in one bulk request of scripted updates, without waiting for a refresh.
Each update carries the plan's generation: the script writes the claim's content
whatever the record's generation, and its group fields (or deletes it) only when the
plan is newer than the record, so plans applied out of order converge to the newest.
Two writers updating one record at once are ordinary concurrency: the update is
retried on the version conflict (`retry_on_conflict`), and a conflict left after that
raises TransientError (`ElasticIndex.bulk`: the task is retried), never BadInput.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.claims.grouping import speaker_key
from pipeline.claims.plan import GROUP_FIELDS, ClaimsPlan
from pipeline.elastic.client import translated_errors
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import from_es_source, now_iso, to_es_record
from pipeline.errors import BadInput

# params: gen (the plan's), at (now), record (the content, or null), fields (the group
# fields), delete. A record the plan only regroups is not created if it is missing
# (deleted by a newer plan): `ctx.op = 'none'`.
_SCRIPT = """
boolean missing = ctx.op == 'create';
long stored = -1L;
if (!missing && ctx._source.gen != null) { stored = ((Number) ctx._source.gen).longValue(); }
if (params.delete) { ctx.op = !missing && stored < params.gen ? 'delete' : 'none'; return; }
if (params.record != null) { ctx._source.putAll(params.record); }
else if (missing) { ctx.op = 'none'; return; }
if (params.gen > stored) {
  ctx._source.putAll(params.fields); ctx._source.gen = params.gen; ctx._source.indexed_at = params.at;
} else if (params.record == null) { ctx.op = 'none'; }
"""
RETRY_ON_CONFLICT = 5


class ElasticClaims:
    """One record per claim in <prefix>-claims; groups from the plans it is given."""

    def __init__(self, index: ElasticIndex) -> None:
        self.index = index

    def apply(self, plan: ClaimsPlan) -> int:
        """Persist `plan` in one bulk request. Returns the number of claim records written."""
        at = now_iso()
        actions = []
        for record in plan.records:
            content = {k: v for k, v in record.items() if k not in GROUP_FIELDS}
            content["speaker_key"] = speaker_key(claim_speaker(record))
            actions.append(self._update(record["id"], plan, at, record=to_es_record(content, indexed_at=at)))
        written = {r["id"] for r in plan.records}
        actions += [self._update(key, plan, at) for key in plan.fields if key not in written]
        actions += [self._update(key, plan, at, delete=True) for key in plan.deleted]
        refused = self.index.bulk(actions)  # a version conflict left: TransientError
        if refused:
            raise BadInput(f"claims index refused {refused[0][0]}: {refused[0][1]}")
        return len(plan.records)

    def _update(
        self,
        key: str,
        plan: ClaimsPlan,
        at: str,
        *,
        record: dict[str, Any] | None = None,
        delete: bool = False,
    ) -> dict[str, Any]:
        fields = plan.fields[key].record() if key in plan.fields else {}
        params = {"gen": plan.gen, "at": at, "record": record, "fields": fields, "delete": delete}
        return {
            "_op_type": "update",
            "_index": self.index.alias("claims"),
            "_id": key,
            "retry_on_conflict": RETRY_ON_CONFLICT,
            "scripted_upsert": True,
            "upsert": {},
            "script": {"source": _SCRIPT, "lang": "painless", "params": params},
        }

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
        return [found_claim(h["_source"]) for h in found["hits"]["hits"]]


# Kept in the claims index for Kibana (the figures' texts as keywords, the document's story
# when the claim was written) but not in the embedded claims table: a claim that
# `newsflow claims --search` finds is the same record on both back-ends without them.
KIBANA_ONLY_KEYS = ("figure_texts", "story_id")


def found_claim(source: Mapping[str, Any]) -> dict[str, Any]:
    """A claim record as the embedded claims table gives it (pure)."""
    return {k: v for k, v in from_es_source(source, "claims").items() if k not in KIBANA_ONLY_KEYS}


def claim_speaker(record: Mapping[str, Any]) -> str:
    """Whose claim it is for grouping: nobody's for the outlet's own statements."""
    return "" if record["kind"] == "statement" else str(record["speaker_canonical"] or record["speaker"])
