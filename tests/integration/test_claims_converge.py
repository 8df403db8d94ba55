"""Claims written by two worker processes at once, and plans applied out of order, end in
the groups of all the claims grouped at once: on the embedded SQLite index and on a live
Elasticsearch (tests/conftest.py `es_url`; a per-module index prefix, deleted at the end).
The Elasticsearch writers never refresh; the tests refresh before they list records.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from config.settings import Settings
from pipeline.claims.figures import parse_figures
from pipeline.claims.grouping import ClaimRef, group_refs
from pipeline.claims.plan import ClaimsPlan, StoredClaim, group_fields
from pipeline.document import Document, Figure
from pipeline.errors import TransientError
from tests.claim_plans import A, key, late_and_retried, later
from tests.conftest import Newsflow, wait_for
from tests.factories import make_claim, make_document

pytestmark = pytest.mark.integration
ES = pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)


def _drop(client: Any, prefix: str) -> None:
    from pipeline.elastic.records import KINDS, alias_name

    for name in sorted(client.indices.get(index=f"{prefix}-*").body):  # by name: no wildcard deletes
        client.indices.delete(index=name)
    for kind in KINDS:
        client.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))


@pytest.fixture(scope="module")
def es(es_url: str) -> Iterator[Any]:
    from pipeline.elastic.client import make_client

    env = {k: v for k, v in os.environ.items() if k.startswith("NEWSFLOW_ES_")}
    env["NEWSFLOW_ES_URLS"] = es_url
    client = make_client(Settings.from_env(env))
    yield client
    client.close()


@pytest.fixture(scope="module")
def cluster(es: Any, es_url: str) -> Iterator[tuple[Any, str, str]]:
    """(client, index prefix, URL) on the live cluster; everything under the prefix goes at the end."""
    from pipeline.elastic.admin import setup

    prefix = f"nftest-{secrets.token_hex(4)}"
    setup(es, prefix)
    yield es, prefix, es_url
    _drop(es, prefix)


def claims_table(backend: str, request: pytest.FixtureRequest, path: Path) -> Any:
    if backend == "sqlite":
        from pipeline.sqlite.claims import SqliteClaims

        return SqliteClaims(path)
    from pipeline.elastic.claims import ElasticClaims
    from pipeline.elastic.documents import ElasticIndex

    es, prefix, _ = request.getfixturevalue("cluster")
    return ElasticClaims(ElasticIndex(es, prefix=prefix))  # no refresh on any write


def listed(table: Any) -> list[dict[str, Any]]:
    """Every claim record, as `newsflow claims` reads them (after a refresh on Elasticsearch)."""
    if hasattr(table, "index"):
        table.index.es.indices.refresh(index=table.index.alias("claims"))
    return list(table.claims())


# ------------------------------------------------------------------ out of order
@pytest.mark.parametrize("backend", ["sqlite", ES])
def test_plans_applied_out_of_order_converge_to_the_newest(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """As tests/unit/test_claims_plan.py, on either back-end (each order on a fresh table)."""
    plans = later()
    in_order = apply_fresh(backend, request, tmp_path / "in.sqlite3", plans)
    for n, order in enumerate(itertools.permutations(plans[1:])):
        assert apply_fresh(backend, request, tmp_path / f"{n}.sqlite3", [plans[0], *order]) == in_order, n
    landed, retried, writes = late_and_retried()
    table = claims_table(backend, request, tmp_path / "late.sqlite3")
    clear(table)
    for plan in landed:
        table.apply(plan)
    assert key(A, 0) not in {r["id"] for r in listed(table)}  # the late plan brought nothing back
    table.apply(retried)
    assert listed(table) == apply_fresh(backend, request, tmp_path / "writes.sqlite3", writes)


def clear(table: Any) -> None:
    """Elasticsearch's test tables share one index: empty it first."""
    if hasattr(table, "index"):
        table.index.es.delete_by_query(
            index=table.index.alias("claims"), query={"match_all": {}}, refresh=True, conflicts="proceed"
        )


def apply_fresh(
    backend: str, request: pytest.FixtureRequest, path: Path, plans: Sequence[ClaimsPlan]
) -> list[dict[str, Any]]:
    table = claims_table(backend, request, path)
    clear(table)
    for plan in plans:
        table.apply(plan)
    return listed(table)


# ------------------------------------------------------- two worker processes at once
SYBIHA = (
    "Ukraine needed another 20 air defence systems to protect its power grid",
    "Ukraine needs at least 19 additional air defense systems to protect the grid",
    "his country needed 20 more air defence systems to shield its power grid",
)
RUTTE = (
    "Putin is not interested in peace and is trying to take more territory",
    "Mr. Putin is not interested in peace, he is trying to seize new territories",
)
STATEMENTS = (
    "The United States unveiled a $725m weapons package for Ukraine on Monday.",
    "On Monday, the US announced a new weapons package for Ukraine worth $725m.",
    "Washington announced a weapons package worth $700m for Ukraine on Monday.",
)
OUTLETS = ("Kyiv Post", "Reuters", "BBC", "Le Monde", "AP", "DW", "Politico", "Guardian")


def article(i: int) -> str:
    """The i-th report of the same three statements, worded one of two or three ways
    (the figures differ: the groups conflict), by one of eight outlets."""
    said = SYBIHA[i % 3]
    return (
        "\n".join(
            [
                f"Ukraine asks for air defence, report number {i} | {OUTLETS[i % 8]}",
                "",
                f"Ukrainian Foreign Minister Andrii Sybiha said {said[0].lower() + said[1:]}.",
                f'"{RUTTE[i % 2]}," NATO Secretary General Mark Rutte told reporters in Brussels on day {i}.',
                STATEMENTS[(i // 2) % 3],
                f"Officials in Kyiv met again on day {i} to discuss the next steps for the region.",
                "",
                f"© 2024 {OUTLETS[i % 8]}. All rights reserved.",
            ]
        )
        + "\n"
    )


def report(i: int) -> Document:
    """`article(i)` as the claims stage would leave it (no model needed)."""
    said, quoted, stated = SYBIHA[i % 3], RUTTE[i % 2], STATEMENTS[(i // 2) % 3]
    claims = (
        make_claim(
            said,
            kind="reported",
            speaker="Andrii Sybiha",
            speaker_canonical="Andrii Sybiha",
            figures=parse_figures(said),
            start=0,
            end=len(said),
        ),
        make_claim(
            quoted,
            kind="direct",
            speaker="Mark Rutte",
            speaker_canonical="Mark Rutte",
            start=100,
            end=100 + len(quoted),
        ),
        make_claim(stated, kind="statement", figures=parse_figures(stated), start=200, end=200 + len(stated)),
    )
    return make_document(article(i), source=f"/drop/report-{i}.txt", outlet=OUTLETS[i % 8], claims=claims)


@pytest.mark.parametrize("backend", ["sqlite", ES])
def test_writers_racing_on_the_same_groups_end_in_the_groups_of_all_the_claims(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, private_redis: str
) -> None:
    """Four writers, each with its own connections, write batches of two reports at once
    (the write path's plan, apply, file), and retry a batch on TransientError as Celery
    would; some reports are written twice, by two writers."""
    from pipeline.redis.claim_groups import ClaimGroups

    docs = [report(i) for i in range(20)]
    batches = [docs[i : i + 2] for i in range(0, len(docs), 2)] + [[docs[3], docs[12]], [docs[7]]]
    clear(claims_table(backend, request, tmp_path / "index.sqlite3"))
    retries: list[str] = []

    def write(mine: list[list[Document]]) -> None:
        client = redis.Redis.from_url(private_redis)
        table, registry = claims_table(backend, request, tmp_path / "index.sqlite3"), ClaimGroups(client)
        for batch in mine:
            for _ in range(10):
                try:
                    with registry.planning(batch) as plan:
                        table.apply(plan)
                    break
                except TransientError as exc:
                    retries.append(str(exc))
            else:
                raise AssertionError(f"a batch still failed after 10 tries: {retries[-1]}")
        client.close()

    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(write, batches[n::4]) for n in range(4)]:
            done.result()
    claims = listed(claims_table(backend, request, tmp_path / "index.sqlite3"))
    written = sorted(f"{d.id}:{c.start}-{c.end}" for d in docs for c in d.claims)
    assert sorted(c["id"] for c in claims) == written  # every claim once
    grouped = group_refs(_ref(c) for c in claims)
    assert {c["id"]: (c["group"], c["conflict"]) for c in claims} == {
        k: (g.group, g.conflict) for k, g in grouped.items()
    }
    assert retries == []  # waiting for a lock is no failure


def test_two_worker_processes_writing_overlapping_claim_groups_at_once_lose_nothing(
    index_env: dict[str, str], private_redis: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.redis.ledger import Ledger
    from workers.local import WorkerProcesses

    home = tmp_path / "home"
    cli = Newsflow(home, {"NEWSFLOW_REDIS_URL": private_redis, "NEWSFLOW_BATCH_SIZE": "2", **index_env})
    settings = Settings(home=home, redis_url=private_redis, concurrency=1)
    pool = WorkerProcesses(settings, private_redis, processes=2, concurrency=1, env=cli.env)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    paths = [inbox / f"report-{i:02}.txt" for i in range(16)]
    for i, path in enumerate(paths):
        path.write_text(article(i), encoding="utf-8")
    client = redis.Redis.from_url(private_redis)
    ledger = Ledger(client)
    clear(claims_table(index_env["NEWSFLOW_INDEX_BACKEND"], request, settings.index_path))
    pool.start()
    try:
        cli("submit", *map(str, paths))
        sources = [str(p.absolute()) for p in paths]

        def finished() -> bool:
            return all(
                r is not None and r.state in ("done", "duplicate", "failed", "skipped")
                for r in ledger.get_many(sources)
            )

        wait_for(finished, timeout=600, every=0.5)
    finally:
        pool.stop()
    records = ledger.get_many(sources)
    states = {Path(r.source).name: (r.state, r.reason) for r in records if r is not None}
    assert {name: state for name, (state, _) in states.items()} == {p.name: "done" for p in paths}, states
    logs = [(home / "logs" / f"worker-{n}.log").read_text(encoding="utf-8") for n in range(2)]
    assert all("indexed" in log for log in logs)  # both processes wrote

    table = claims_table(index_env["NEWSFLOW_INDEX_BACKEND"], request, settings.index_path)
    claims = listed(table)
    index = _index(index_env["NEWSFLOW_INDEX_BACKEND"], request, settings.index_path)
    doc_ids = {r.document for r in records if r is not None}
    extracted = sorted(f"{d}:{c['start']}-{c['end']}" for d in doc_ids for c in index.get(d)["claims"])
    assert len(extracted) == 3 * len(paths)  # Sybiha's, Rutte's and the outlet's own, in each
    assert sorted(c["id"] for c in claims) == extracted  # every claim once

    # the groups of all the claims grouped at once (each speaker has at most 16 claims:
    # the registry regroups them whole, EXACT_REGROUP_MAX)
    stored = {c["id"]: StoredClaim(_ref(c), c["outlet"]) for c in claims}
    grouped = group_refs(s.ref for s in stored.values())
    assert {c["id"]: (c["group"], c["conflict"]) for c in claims} == {
        k: (g.group, g.conflict) for k, g in grouped.items()
    }
    documents: dict[str, set[str]] = {}
    for c in claims:
        documents.setdefault(c["group"], set()).add(c["doc_id"])
    assert max(map(len, documents.values())) >= 6  # the documents did meet in groups
    registry = ClaimGroups(client).stored(extracted)  # the registry holds what the table holds
    assert {k: (s.group, s.conflict) for k, s in registry.items()} == {
        k: (g.group, g.conflict) for k, g in grouped.items()
    }
    client.close()
    if index_env["NEWSFLOW_INDEX_BACKEND"] == "elasticsearch":  # and the group fields Kibana reads
        expected = group_fields(
            StoredClaim(s.ref, s.outlet, grouped[k].group, grouped[k].conflict) for k, s in stored.items()
        )
        found = {c["id"]: c for c in table.index.scan("claims", {"match_all": {}})}
        assert {
            k: {f: found[k][f] for f in ("group", "conflict", "outlets", "n_outlets", "n_documents")}
            for k in found
        } == {k: f.record() for k, f in expected.items()}


def _ref(record: dict[str, Any]) -> ClaimRef:
    from pipeline.elastic.claims import claim_speaker

    return ClaimRef(
        key=record["id"],
        doc_id=record["doc_id"],
        speaker=claim_speaker(record),
        text=record["text"],
        figures=tuple(Figure(**f) for f in record["figures"]),
    )


def _index(backend: str, request: pytest.FixtureRequest, path: Path) -> Any:
    if backend == "sqlite":
        from pipeline.sqlite.index import SqliteIndex

        return SqliteIndex(path)
    from pipeline.elastic.documents import ElasticIndex

    es, prefix, _ = request.getfixturevalue("cluster")
    return ElasticIndex(es, prefix=prefix)


# --------------------------------------------------------- the template's version
def test_setup_installs_the_newer_claims_template_and_reindex_moves_the_records_to_it(es: Any) -> None:
    """Claims template version 2 maps `gen`. On a cluster set up with version 1, `es
    setup` installs the new template and leaves the index; writes of plans are refused
    (the mapping is strict) until `newsflow reindex claims` builds -v2, as `check` says."""
    from pipeline.elastic.admin import check, check_problems, reindex, setup
    from pipeline.elastic.claims import ElasticClaims
    from pipeline.elastic.documents import ElasticIndex
    from pipeline.elastic.records import alias_name, load_template
    from pipeline.errors import BadInput
    from tests.claim_plans import plans

    prefix = f"nftest-{secrets.token_hex(4)}"
    alias = alias_name(prefix, "claims")
    old = load_template("claims", prefix)
    old["version"] = old["_meta"]["template_version"] = old["template"]["mappings"]["_meta"][
        "template_version"
    ] = 1
    del old["template"]["mappings"]["properties"]["gen"]
    try:
        setup(es, prefix, kinds=("documents", "stories"))
        es.indices.put_index_template(
            name=alias, meta=old["_meta"], **{k: v for k, v in old.items() if k != "_meta"}
        )
        es.indices.create(index=f"{alias}-v1", aliases={alias: {"is_write_index": True}})
        (first,) = plans([A])
        es.index(
            index=alias,
            id=first.records[0]["id"],
            refresh=True,  # as version 1 wrote it
            document={**first.records[0], "speaker_key": "andrii sybiha"},
        )

        assert f"template {alias}: version 3 installed" in setup(es, prefix)
        assert f"{alias}: index built from template version 1, file is 3; run `newsflow reindex claims`" in (
            check_problems(check(es, prefix))
        )
        table = ElasticClaims(ElasticIndex(es, prefix=prefix, refresh=True))
        with pytest.raises(BadInput, match="strict_dynamic_mapping"):
            table.apply(first)

        assert reindex(es, prefix, "claims", poll_s=0.2)["to"] == f"{alias}-v2"
        assert table.apply(first) == 2
        assert sorted(c["id"] for c in table.claims()) == [key(A, 0), key(A, 1)]
        assert check_problems(check(es, prefix)) == []
    finally:
        _drop(es, prefix)
