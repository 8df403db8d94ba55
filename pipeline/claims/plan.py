"""What a batch of documents changes in the claim groups, decided once (pure).

`plan_claims(docs, stored, gen=...)` takes the batch and the stored claims it can
affect (read by pipeline/redis/claim_groups.py) and returns a `ClaimsPlan`: the batch's
claim records with their groups, the group fields of stored claims that change, and the
claims of the documents' previous versions to delete. The claims tables (SQLite,
Elasticsearch) only persist plans, so their groups cannot drift apart; the registry in
Redis takes the same plan, so the next batch reads what this one decided.

Every plan carries a generation (one Redis INCR). The back-ends keep a claim's content
from whichever write came last (it depends only on the document) and its group fields
from the newest plan, so plans applied out of order converge to the newest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.claims.grouping import ClaimRef, group_refs
from pipeline.claims.records import claim_key, claim_ref, to_claim_records
from pipeline.document import Document

# The fields of a claim record that depend on its group rather than on its document.
GROUP_FIELDS = ("group", "conflict", "outlets", "n_outlets", "n_documents")


@dataclass(frozen=True, slots=True)
class StoredClaim:
    """A claim as the registry keeps it: what grouping reads, its outlet (for the
    group's outlets) and the group it is in."""

    ref: ClaimRef
    outlet: str = ""
    group: str = ""
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class GroupFields:
    """What a claim record says about its group (the same for every member)."""

    group: str
    conflict: bool
    outlets: tuple[str, ...] = ()
    n_documents: int = 0

    def record(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "conflict": self.conflict,
            "outlets": list(self.outlets),
            "n_outlets": len(self.outlets),
            "n_documents": self.n_documents,
        }


@dataclass(frozen=True, slots=True)
class ClaimsPlan:
    gen: int
    # The batch's claims as full records (`to_claim_records`, group and conflict planned).
    records: tuple[dict[str, Any], ...] = ()
    # Claim key -> group fields: every claim in `records`, and the stored claims that change.
    fields: Mapping[str, GroupFields] = field(default_factory=dict)
    # Claims of the documents' previous versions that the new versions do not have.
    deleted: tuple[str, ...] = ()
    # Every claim in `fields` as the registry keeps it after this plan.
    claims: Mapping[str, StoredClaim] = field(default_factory=dict)


def plan_claims(docs: Sequence[Document], stored: Mapping[str, StoredClaim], *, gen: int) -> ClaimsPlan:
    """What writing `docs` changes, given `stored`: the claims it can affect.

    `stored` holds the documents' previous claims, the claims they could group with,
    and every other member of those claims' groups (closed under group membership, so
    a group's outlets and documents are counted whole, before and after). A document
    rewritten replaces its claims.
    """
    docs = list({doc.id: doc for doc in docs}.values())  # the same text twice in a batch: once
    batch = {doc.id for doc in docs}
    new = {claim_key(doc, c): StoredClaim(claim_ref(doc, c), doc.outlet) for doc in docs for c in doc.claims}
    after = {k: s for k, s in stored.items() if s.ref.doc_id not in batch} | new
    for key, g in group_refs(s.ref for s in after.values()).items():
        after[key] = replace(after[key], group=g.group, conflict=g.conflict)
    before, now = group_fields(stored.values()), group_fields(after.values())
    changed = {k: f for k, f in sorted(now.items()) if k in new or before.get(k) != f}
    return ClaimsPlan(
        gen=gen,
        records=tuple(r for doc in stamped(docs, changed) for r in to_claim_records(doc)),
        fields=changed,
        deleted=tuple(sorted(set(stored) - set(after))),
        claims={k: after[k] for k in changed},
    )


def group_fields(claims: Iterable[StoredClaim]) -> dict[str, GroupFields]:
    """Claim key -> its group's fields, counted over `claims` (whole groups)."""
    members: dict[str, list[StoredClaim]] = defaultdict(list)
    for c in claims:
        members[c.group].append(c)
    out: dict[str, GroupFields] = {}
    for group, ms in members.items():
        fields = GroupFields(
            group=group,
            conflict=any(m.conflict for m in ms),
            outlets=tuple(sorted({m.outlet for m in ms if m.outlet})),
            n_documents=len({m.ref.doc_id for m in ms}),
        )
        out |= {m.ref.key: fields for m in ms}
    return out


def stamped(docs: Sequence[Document], fields: Mapping[str, GroupFields]) -> list[Document]:
    """`docs` with each claim's group and conflict flag from `fields` (a plan's), as the
    documents index shows them: as of this batch (a later one may move them)."""
    out = []
    for doc in docs:
        claims = []
        for c in doc.claims:
            f = fields.get(claim_key(doc, c))
            claims.append(replace(c, group=f.group, conflict=f.conflict) if f else c)
        out.append(replace(doc, claims=tuple(claims)))
    return out
