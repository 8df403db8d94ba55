"""Planning what a batch changes in the claim groups (pipeline/claims/plan.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pipeline.claims.plan import GroupFields, plan_claims, stamped
from pipeline.document import Document
from tests.claim_plans import A_WITHOUT_SYBIHA, A, B, C, article, key, plans

D = article("d", ("Vladimir Putin", "Russia will keep its troops in the occupied regions"))


@pytest.mark.parametrize(
    ("written", "batch", "records", "changed", "deleted"),
    [
        pytest.param((), [A], {key(A, 0), key(A, 1)}, set(), set(), id="first document"),
        pytest.param((A,), [C], {key(C)}, {key(A, 0)}, set(), id="joins a stored group"),
        pytest.param((A,), [B], {key(B)}, {key(A, 1)}, set(), id="joins another speaker's group"),
        pytest.param((A, C), [A], {key(A, 0), key(A, 1)}, set(), set(), id="rewritten as it was"),
        pytest.param((A, C), [A_WITHOUT_SYBIHA], {key(A, 1)}, {key(C)}, {key(A, 0)},
                     id="rewritten without a claim: deleted, its group shrinks"),
        pytest.param((A,), [C, C], {key(C)}, {key(A, 0)}, set(), id="one document twice in a batch"),
        pytest.param((A, B, C), [D], {key(D)}, set(), set(), id="other speakers' groups untouched"),
    ],
)
def test_plan(written: Sequence[Document], batch: list[Document], records: set[str],
              changed: set[str], deleted: set[str]) -> None:
    *_, plan = plans(*([doc] for doc in written), batch)
    assert [r["id"] for r in plan.records] == sorted(records)
    assert set(plan.fields) - records == changed  # stored claims whose group fields change
    assert set(plan.deleted) == deleted
    assert set(plan.claims) == records | changed
    assert plan.gen == len(written) + 1


def test_a_stored_claim_learns_its_new_groups_fields() -> None:
    _, plan = plans([A], [C])
    assert plan.fields[key(A, 0)] == plan.fields[key(C)] == GroupFields(
        group=plan.fields[key(C)].group, conflict=True, outlets=("Outlet A", "Outlet C"), n_documents=2
    )
    assert plan.fields[key(A, 0)].record()["n_outlets"] == 2


def test_records_and_stamped_documents_carry_the_planned_groups() -> None:
    _, plan = plans([A], [C])
    (record,) = plan.records
    fields = plan.fields[key(C)]
    assert (record["group"], record["conflict"]) == (fields.group, fields.conflict)
    (doc,) = stamped([C], plan.fields)
    assert (doc.claims[0].group, doc.claims[0].conflict) == (fields.group, True)


def test_the_plan_does_not_depend_on_the_order_of_the_stored_claims() -> None:
    first, second = plans([A], [B])
    stored = dict(first.claims)
    shuffled = dict(reversed(list(stored.items())))
    assert plan_claims([B], stored, gen=2) == plan_claims([B], shuffled, gen=2) == second
