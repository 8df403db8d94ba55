"""Articles whose claims group across documents, and the plans that write them in turn
(shared by the planner's unit tests and the claims tables' out-of-order tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.claims.figures import parse_figures
from pipeline.claims.plan import ClaimsPlan, StoredClaim, plan_claims
from pipeline.document import Document
from tests.factories import make_claim, make_document

SYBIHA, RUTTE = "Andrii Sybiha", "Mark Rutte"


def article(name: str, *claims: tuple[str, str]) -> Document:
    return make_document(
        f"article {name}",
        id=f"doc-{name}",
        source=f"/drop/{name}.txt",
        sources=(f"/drop/{name}.txt",),
        outlet=f"Outlet {name.upper()}",
        claims=tuple(
            make_claim(
                text,
                kind="reported",
                speaker=who,
                speaker_canonical=who,
                cue="said",
                figures=parse_figures(text),
                start=100 * n,
                end=100 * n + len(text),
            )
            for n, (who, text) in enumerate(claims)
        ),
    )


A = article(
    "a",
    (SYBIHA, "Ukraine needed another 20 air defence systems to protect its power grid"),
    (RUTTE, "Putin is not interested in peace and is trying to take more territory"),
)
B = article("b", (RUTTE, "Mr. Putin is not interested in peace, he is trying to seize new territories"))
C = article("c", (SYBIHA, "Ukraine needs at least 19 additional air defense systems to protect the grid"))
A_WITHOUT_SYBIHA = replace(A, claims=A.claims[1:])  # A rewritten: its first claim no longer found


def key(doc: Document, n: int = 0) -> str:
    claim = doc.claims[n]
    return f"{doc.id}:{claim.start}-{claim.end}"


def plans(*batches: Sequence[Document]) -> list[ClaimsPlan]:
    """The plans of `batches` written one after another (generations 1, 2, ...), each
    planned over everything the previous ones filed (a stand-in for the registry)."""
    registry: dict[str, StoredClaim] = {}
    out = []
    for gen, batch in enumerate(batches, 1):
        plan = plan_claims(batch, registry, gen=gen)
        registry = {k: v for k, v in registry.items() if k not in plan.deleted} | dict(plan.claims)
        out.append(plan)
    return out


def later() -> list[ClaimsPlan]:
    """A written, then C and B join its groups, then A written again."""
    return plans([A], [C], [B], [A])


def late_and_retried() -> tuple[list[ClaimsPlan], ClaimsPlan, list[ClaimsPlan]]:
    """A writer outlived its lock: its plan (E joins Sybiha's group, regrouping A's claim)
    was made before a newer one (A rewritten without that claim) and lands after it; its
    filing is refused, so its retry plans again from the registry as the newer plan left it.
    Returns (the plans in the order they land, the retry, the same writes in order)."""
    e = article("e", (SYBIHA, "Ukraine needs 20 more air defence systems to protect the power grid"))
    first, joined, rewritten, retried = plans([A], [C], [A_WITHOUT_SYBIHA], [e])
    late = plan_claims([e], dict(first.claims) | dict(joined.claims), gen=3)
    assert key(A, 0) in late.fields  # it regroups the claim the newer plan deletes
    landed = [first, joined, replace(rewritten, gen=4), late]
    return landed, replace(retried, gen=5), plans([A], [C], [A_WITHOUT_SYBIHA], [e])
