"""Planning what a batch changes in the claim groups (pipeline/claims/plan.py), and the
embedded claims table persisting plans that arrive out of order (pipeline/sqlite/claims.py)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.claims.plan import GroupFields, plan_claims, stamped
from pipeline.document import Document
from pipeline.sqlite.claims import SqliteClaims
from tests.claim_plans import A_WITHOUT_SYBIHA, A, B, C, article, key, late_and_retried, later, plans

D = article("d", ("Vladimir Putin", "Russia will keep its troops in the occupied regions"))


@pytest.mark.parametrize(
    ("written", "batch", "records", "changed", "deleted"),
    [
        pytest.param((), [A], {key(A, 0), key(A, 1)}, set(), set(), id="first document"),
        pytest.param((A,), [C], {key(C)}, {key(A, 0)}, set(), id="joins a stored group"),
        pytest.param((A,), [B], {key(B)}, {key(A, 1)}, set(), id="joins another speaker's group"),
        pytest.param((A, C), [A], {key(A, 0), key(A, 1)}, set(), set(), id="rewritten as it was"),
        pytest.param(
            (A, C),
            [A_WITHOUT_SYBIHA],
            {key(A, 1)},
            {key(C)},
            {key(A, 0)},
            id="rewritten without a claim: deleted, its group shrinks",
        ),
        pytest.param((A,), [C, C], {key(C)}, {key(A, 0)}, set(), id="one document twice in a batch"),
        pytest.param((A, B, C), [D], {key(D)}, set(), set(), id="other speakers' groups untouched"),
    ],
)
def test_plan(
    written: Sequence[Document],
    batch: list[Document],
    records: set[str],
    changed: set[str],
    deleted: set[str],
) -> None:
    *_, plan = plans(*([doc] for doc in written), batch)
    assert [r["id"] for r in plan.records] == sorted(records)
    assert set(plan.fields) - records == changed  # stored claims whose group fields change
    assert set(plan.deleted) == deleted
    assert set(plan.claims) == records | changed
    assert plan.gen == len(written) + 1


def test_a_stored_claim_learns_its_new_groups_fields() -> None:
    _, plan = plans([A], [C])
    assert (
        plan.fields[key(A, 0)]
        == plan.fields[key(C)]
        == GroupFields(
            group=plan.fields[key(C)].group, conflict=True, outlets=("Outlet A", "Outlet C"), n_documents=2
        )
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


# ----------------------------------------------------------- plans out of order
def applied(path: Path, order: Sequence[Any]) -> list[dict[str, Any]]:
    table = SqliteClaims(path)
    for plan in order:
        table.apply(plan)
    out = table.claims()
    table.close()
    return out


LATER = later()


@pytest.mark.parametrize("order", list(itertools.permutations(LATER[1:])), ids=str)
def test_plans_applied_out_of_order_converge_to_the_newest(tmp_path: Path, order: tuple[Any, ...]) -> None:
    # Each claim keeps the group fields of the newest plan that touched it, whatever the
    # order the plans after A's first arrive in.
    assert applied(tmp_path / "any.sqlite3", [LATER[0], *order]) == applied(tmp_path / "in.sqlite3", LATER)


def test_a_late_plan_and_its_retry_converge_and_bring_back_nothing(tmp_path: Path) -> None:
    landed, retried, in_order = late_and_retried()
    assert key(A, 0) not in {r["id"] for r in applied(tmp_path / "late.sqlite3", landed)}
    converged = applied(tmp_path / "late.sqlite3", [retried])
    assert converged == applied(tmp_path / "in.sqlite3", in_order)


def test_content_comes_from_the_last_write_and_groups_from_the_newest_plan(tmp_path: Path) -> None:
    renamed = replace(A, claims=tuple(replace(c, speaker="the minister") for c in A.claims))
    first, joined, again = plans([A], [C], [renamed])
    table = SqliteClaims(tmp_path / "index.sqlite3")
    for plan in (first, joined, again, first):  # the first plan once more, late
        table.apply(plan)
    (row,) = [r for r in table.claims() if r["id"] == key(A, 0)]
    table.close()
    assert row["speaker"] == "Andrii Sybiha"  # what the document said in the last write
    assert (row["group"], row["conflict"]) == (again.fields[key(A, 0)].group, True)  # the newest plan's
