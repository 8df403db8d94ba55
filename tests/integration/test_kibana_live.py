"""Kibana without Kibana: every field our saved objects use, against a live cluster's `_field_caps`.

`newsflow es setup` and `newsflow run` (real workers, the real model) put one seed
into fresh indices under a per-run prefix: a document, its claims and its story. Then
each data view's index pattern (the default `newsflow-*` titles mapped to the prefix,
as `newsflow kibana import` maps them) is asked for its field capabilities, and every
field a data view, saved search, visualisation or dashboard panel names must be there,
aggregatable where Kibana sorts or aggregates on it (tests/kibana_fields.py).
tests/unit/test_kibana_objects.py checks the same objects against the template files;
this checks what the cluster actually built from them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.elastic.records import KINDS
from tests.conftest import Newsflow
from tests.kibana_fields import field_problems, field_uses, objects
from tests.live_es import client_for, drop_prefix, es_env, new_prefix

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]


@pytest.fixture(scope="module")
def cluster(
    es_url: str, tmp_path_factory: pytest.TempPathFactory, seed_paths: list[Path]
) -> Iterator[tuple[Any, str]]:
    prefix = new_prefix()
    es = client_for(es_url, prefix)
    cli = Newsflow(tmp_path_factory.mktemp("kibana") / "home", es_env(es_url, prefix))
    try:
        cli("es", "setup")
        cli("run", str(seed_paths[1]), "--timeout", "240")
        yield es, prefix
    finally:
        drop_prefix(es, prefix)
        es.close()


def test_the_indices_hold_a_real_enriched_document_its_claims_and_its_story(
    cluster: tuple[Any, str],
) -> None:
    es, prefix = cluster
    counts = {kind: es.count(index=f"{prefix}-{kind}")["count"] for kind in KINDS}
    assert counts["documents"] == 1
    assert counts["claims"] > 0
    assert counts["stories"] == 1


def test_every_field_the_saved_objects_use_exists_and_aggregates_where_needed(
    cluster: tuple[Any, str],
) -> None:
    es, prefix = cluster
    uses = field_uses(objects(prefix))
    # all three data views, and every kind of use, are read from the file
    assert {u.data_view for u in uses} == {"newsflow-documents", "newsflow-claims", "newsflow-stories"}
    assert {u.where.split(":")[-1].strip().split()[-1] for u in uses} >= {
        "field",
        "column",
        "sort",
        "query",
        "aggregation",
    }
    assert field_problems(es, prefix) == []


def test_a_missing_field_and_a_sort_on_analysed_text_are_found(cluster: tuple[Any, str]) -> None:
    """The check itself can fail: a column the indices lack, a sort and a terms aggregation
    on text fields, a filter on a field that does not exist."""
    es, prefix = cluster
    broken = copy.deepcopy(objects(prefix))
    by_id = {o["id"]: o for o in broken}
    latest = by_id["newsflow-latest-documents"]["attributes"]
    latest["columns"].append("no_such_column")
    latest["sort"] = [["title", "desc"]]
    meta = latest["kibanaSavedObjectMeta"]
    source = json.loads(meta["searchSourceJSON"])
    missing = {"meta": {"key": "no_such_filter"}, "query": {"match_phrase": {"no_such_filter": "x"}}}
    source["filter"] = [missing]
    meta["searchSourceJSON"] = json.dumps(source)
    people = by_id["newsflow-top-people"]["attributes"]
    vis = json.loads(people["visState"])
    vis["aggs"][1]["params"]["field"] = "people"
    people["visState"] = json.dumps(vis)
    problems = field_problems(es, prefix, broken)
    assert problems == [
        f"search newsflow-latest-documents: query: no_such_filter not in {prefix}-documents",
        f"search newsflow-latest-documents: column: no_such_column not in {prefix}-documents",
        "search newsflow-latest-documents: sort: title (text) cannot be sorted or aggregated",
        "visualization newsflow-top-people: terms aggregation: people (text) cannot be sorted or aggregated",
    ]
