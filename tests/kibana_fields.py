"""What Kibana's saved objects (config/kibana/newsflow.ndjson) read from the indices, checked
against a live cluster's `_field_caps` (does I/O: one request per data view).

Kibana shows an error panel for a field its index does not have, and refuses to sort or
aggregate on one that is not aggregatable; `tests/unit/test_kibana_objects.py` checks
the same objects against our templates, this against what the cluster actually built.
Every place a saved object names a field is read here, JSON-in-strings included:

    data view       timeFieldName (histograms and the default sort: aggregatable)
    saved search    columns (exist), sort (aggregatable), searchSourceJSON query and filters
    visualisation   visState aggregations' fields (aggregatable), searchSourceJSON query and filters
    dashboard       panelsJSON columns and sort a panel overrides, for its search's data view
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.unit.test_kibana_objects import kql_fields
from workers.cli_es import saved_objects

# The leaf queries of Kibana's filters (Query DSL) whose key or "field" names a field.
_FIELD_QUERIES = ("match_phrase", "match", "term", "terms", "range", "prefix", "wildcard")


@dataclass(frozen=True)
class FieldUse:
    data_view: str  # the data view's id, e.g. "newsflow-documents"
    field: str
    aggregatable: bool  # sorted or aggregated on (else: must exist, and be searchable if queried)
    where: str  # e.g. "search newsflow-latest-documents: column"


def objects(prefix: str) -> list[dict[str, Any]]:
    """The saved objects as `newsflow kibana import` sends them for `prefix`."""
    return [json.loads(line) for line in saved_objects(prefix).splitlines() if line.strip()]


def field_uses(objs: list[dict[str, Any]]) -> list[FieldUse]:
    """Every field every object reads, with the data view it reads it from."""
    by_id = {o["id"]: o for o in objs}
    uses: list[FieldUse] = []
    for obj in objs:
        kind, attrs, name = obj["type"], obj["attributes"], f"{obj['type']} {obj['id']}"
        if kind == "index-pattern":
            if attrs.get("timeFieldName"):
                uses.append(FieldUse(obj["id"], attrs["timeFieldName"], True, f"{name}: time field"))
            continue
        if kind == "dashboard":
            uses += _panel_overrides(obj, by_id)
            continue
        view = _data_view(obj)
        if view is None:
            continue
        source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON") or "{}")
        uses += [FieldUse(view, f, False, f"{name}: query") for f in _query_fields(source)]
        if kind == "search":
            uses += [FieldUse(view, f, False, f"{name}: column") for f in attrs.get("columns", [])]
            uses += [FieldUse(view, f, True, f"{name}: sort") for f, _order in attrs.get("sort", [])]
        if kind == "visualization":
            for agg in json.loads(attrs["visState"]).get("aggs", []):
                if agg.get("params", {}).get("field"):
                    uses.append(
                        FieldUse(view, agg["params"]["field"], True, f"{name}: {agg['type']} aggregation")
                    )
    return uses


def _data_view(obj: dict[str, Any]) -> str | None:
    views = [r["id"] for r in obj.get("references", []) if r["type"] == "index-pattern"]
    return views[0] if views else None


def _query_fields(source: dict[str, Any]) -> list[str]:
    """Fields named by a searchSourceJSON's KQL query and its filters."""
    query = source.get("query", {})
    found = kql_fields(query.get("query", "")) if isinstance(query, dict) else []
    for flt in source.get("filter", []):
        if flt.get("meta", {}).get("key"):
            found.append(flt["meta"]["key"])
        found += _dsl_fields(flt.get("query", {}))
        if "exists" in flt:
            found.append(flt["exists"]["field"])
    return list(dict.fromkeys(found))  # a filter names its field in meta and in its query


def _dsl_fields(query: Any) -> list[str]:
    """Fields named in a Query DSL clause, bool clauses walked."""
    if isinstance(query, list):
        return [f for item in query for f in _dsl_fields(item)]
    if not isinstance(query, dict):
        return []
    found = []
    for key, value in query.items():
        if key in _FIELD_QUERIES and isinstance(value, dict):
            found += list(value)
        elif key == "exists" and isinstance(value, dict):
            found.append(value["field"])
        else:
            found += _dsl_fields(value)
    return found


def _panel_overrides(dashboard: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[FieldUse]:
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    uses = []
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        target = by_id.get(refs.get(panel.get("panelRefName", ""), ""))
        config = panel.get("embeddableConfig", {})
        view = _data_view(target) if target else None
        if view is None:
            continue
        where = f"dashboard {dashboard['id']} panel {panel.get('panelIndex')}"
        uses += [FieldUse(view, f, False, f"{where}: column") for f in config.get("columns", [])]
        uses += [FieldUse(view, f, True, f"{where}: sort") for f, _order in config.get("sort", [])]
    return uses


def field_problems(es: Any, prefix: str, objs: list[dict[str, Any]] | None = None) -> list[str]:
    """Where a saved object (ours for `prefix`, or `objs`) reads a field the cluster's
    indices cannot give it: missing, or not aggregatable where it is sorted or aggregated
    on. Empty when every panel, column and sort of ours works in Kibana."""
    objs = objects(prefix) if objs is None else objs
    titles = {o["id"]: o["attributes"]["title"] for o in objs if o["type"] == "index-pattern"}
    caps = {
        view: es.field_caps(index=title, fields="*", ignore_unavailable=True).body["fields"]
        for view, title in titles.items()
    }
    problems = []
    for use in field_uses(objs):
        found = caps.get(use.data_view, {}).get(use.field)
        if not found:
            problems.append(f"{use.where}: {use.field} not in {titles.get(use.data_view, use.data_view)}")
        elif use.aggregatable and not all(c.get("aggregatable") for c in found.values()):
            types = ", ".join(sorted(found))
            problems.append(f"{use.where}: {use.field} ({types}) cannot be sorted or aggregated")
    return problems
