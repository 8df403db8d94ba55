"""Kibana saved objects: they parse, reference what exists, and use only mapped fields.

The NDJSON in config/kibana/ is what `newsflow kibana import` and the compose setup
job send to Kibana's saved objects import API. Kibana resolves references by id and
shows an error panel for a field the index does not have, so both are checked here
against our own templates.
"""

from __future__ import annotations

import email
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pipeline.elastic.records import KINDS, load_template
from tests.conftest import REPO, Newsflow
from workers.cli_es import saved_objects

NDJSON = REPO / "config" / "kibana" / "newsflow.ndjson"
OBJECTS = [json.loads(line) for line in NDJSON.read_text(encoding="utf-8").splitlines() if line.strip()]
BY_ID = {obj["id"]: obj for obj in OBJECTS}
DATA_VIEWS = {obj["id"]: obj for obj in OBJECTS if obj["type"] == "index-pattern"}
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean"}


def mapped_fields(kind: str) -> dict[str, dict[str, Any]]:
    """Every dotted field path of a template, multi-fields included."""
    found: dict[str, dict[str, Any]] = {}

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, field in props.items():
            found[prefix + name] = field
            walk(field.get("properties", {}), f"{prefix}{name}.")
            walk(field.get("fields", {}), f"{prefix}{name}.")

    walk(load_template(kind)["template"]["mappings"]["properties"], "")
    return found


def kind_of(data_view_id: str) -> str:
    return DATA_VIEWS[data_view_id]["attributes"]["title"].removeprefix("newsflow-")


def data_view_of(obj: dict[str, Any]) -> str:
    (ref,) = [r for r in obj["references"] if r["type"] == "index-pattern"]
    return str(ref["id"])


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])  # type: ignore[no-any-return]


def kql_fields(query: str) -> list[str]:
    return re.findall(r"([\w.]+)\s*:", query)


def aggs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(obj["attributes"]["visState"])["aggs"]  # type: ignore[no-any-return]


def test_every_line_is_a_saved_object_with_a_unique_id() -> None:
    assert all({"type", "id", "attributes", "references"} <= set(obj) for obj in OBJECTS)
    assert len(BY_ID) == len(OBJECTS)


@pytest.mark.parametrize(
    ("kind", "time_field"),
    [
        ("documents", "date"),
        ("claims", "date"),
        ("stories", "last_seen"),
    ],
)
def test_one_data_view_per_alias_with_a_mapped_date_as_time_field(kind: str, time_field: str) -> None:
    view = DATA_VIEWS[f"newsflow-{kind}"]
    assert view["attributes"]["title"] == f"newsflow-{kind}"  # the alias, not a versioned index
    assert view["attributes"]["timeFieldName"] == time_field
    assert mapped_fields(kind)[time_field]["type"] == "date"


def test_every_reference_points_at_an_object_in_the_file() -> None:
    missing = [
        (obj["id"], ref)
        for obj in OBJECTS
        for ref in obj["references"]
        if ref["id"] not in BY_ID or BY_ID[ref["id"]]["type"] != ref["type"]
    ]
    assert missing == []


def test_searches_and_visualisations_reference_an_existing_data_view() -> None:
    for obj in OBJECTS:
        if obj["type"] in ("search", "visualization"):
            assert data_view_of(obj) in DATA_VIEWS, obj["id"]
            ref_name = search_source(obj)["indexRefName"]
            assert ref_name in {r["name"] for r in obj["references"]}, obj["id"]


def test_every_dashboard_panel_has_its_reference() -> None:
    (dashboard,) = [obj for obj in OBJECTS if obj["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {ref["name"] for ref in dashboard["references"]}
    assert {panel["panelRefName"] for panel in panels} == names
    assert len({panel["panelIndex"] for panel in panels}) == len(panels)


def fields_used(obj: dict[str, Any]) -> list[tuple[str, bool]]:
    """(field, must be aggregatable) for everything a search or visualisation reads."""
    used = [(f, False) for f in kql_fields(search_source(obj)["query"]["query"])]
    if obj["type"] == "search":
        used += [(f, False) for f in obj["attributes"]["columns"]]
        used += [(f, True) for f, _order in obj["attributes"]["sort"]]
    if obj["type"] == "visualization":
        used += [(a["params"]["field"], True) for a in aggs(obj) if "field" in a["params"]]
    return used


@pytest.mark.parametrize(
    "obj", [o for o in OBJECTS if o["type"] in ("search", "visualization")], ids=lambda o: o["id"]
)
def test_every_field_used_exists_in_the_mapping_and_aggregates_where_needed(obj: dict[str, Any]) -> None:
    fields = mapped_fields(kind_of(data_view_of(obj)))
    problems = []
    for name, aggregated in fields_used(obj):
        field = fields.get(name)
        if field is None:
            problems.append(f"{name}: not mapped")
        elif aggregated and (field.get("type") not in AGGREGATABLE or field.get("doc_values") is False):
            problems.append(f"{name}: {field.get('type')} cannot be sorted or aggregated")
    assert problems == []


def dashboard_reads() -> set[tuple[str, str, str]]:
    """(kind, what, field or query) for every panel on the dashboard."""
    (dashboard,) = [obj for obj in OBJECTS if obj["type"] == "dashboard"]
    reads = set()
    for ref in dashboard["references"]:
        obj = BY_ID[ref["id"]]
        kind = kind_of(data_view_of(obj))
        if obj["type"] == "visualization":
            reads |= {(kind, a["type"], a["params"]["field"]) for a in aggs(obj) if "field" in a["params"]}
        else:
            reads.add((kind, "search", search_source(obj)["query"]["query"]))
    return reads


@pytest.mark.parametrize(
    ("kind", "what", "field"),
    [
        ("documents", "date_histogram", "date"),  # documents over time ...
        ("documents", "terms", "outlet.keyword"),  # ... by outlet
        ("documents", "terms", "people.keyword"),
        ("documents", "terms", "organisations.keyword"),
        ("documents", "terms", "places.keyword"),
        ("claims", "terms", "speaker_canonical.keyword"),  # top speakers
        ("claims", "search", "conflict : true"),  # conflicting claims table
        ("stories", "search", ""),  # story list
    ],
)
def test_the_dashboard_shows_what_analysts_asked_for(kind: str, what: str, field: str) -> None:
    assert (kind, what, field) in dashboard_reads()


@pytest.mark.parametrize(
    ("title", "kind", "query"),
    [
        ("Newsflow: latest documents", "documents", ""),
        ("Newsflow: quotes by speaker", "claims", 'kind : "direct"'),
        ("Newsflow: conflicting claims", "claims", "conflict : true"),
        ("Newsflow: stories", "stories", ""),
    ],
)
def test_the_saved_searches_exist(title: str, kind: str, query: str) -> None:
    (found,) = [o for o in OBJECTS if o["type"] == "search" and o["attributes"]["title"] == title]
    assert kind_of(data_view_of(found)) == kind
    assert search_source(found)["query"] == {"query": query, "language": "kuery"}


def test_another_prefix_changes_only_the_data_view_titles() -> None:
    moved = [json.loads(line) for line in saved_objects("nftest-9c").splitlines()]
    titles = {o["id"]: o["attributes"]["title"] for o in moved if o["type"] == "index-pattern"}
    assert titles == {f"newsflow-{k}": f"nftest-9c-{k}" for k in KINDS}
    unchanged = [o for o in moved if o["type"] != "index-pattern"]
    assert unchanged == [o for o in OBJECTS if o["type"] != "index-pattern"]


# ------------------------------------- `newsflow kibana import`, against a stand-in
class KibanaStandIn(BaseHTTPRequestHandler):
    """Answers Kibana's status, saved objects import and settings APIs; records requests."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *_: Any) -> None:
        pass

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.seen.append({"method": self.command, "path": self.path, "headers": headers, "body": body})

    def do_GET(self) -> None:
        self._record(b"")
        self._reply({"status": {"overall": {"level": "available"}}})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self._record(body)
        if self.path.startswith("/api/saved_objects/_import"):
            form = email.message_from_bytes(
                b"content-type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + body
            )
            (part,) = form.get_payload()
            lines = part.get_payload(decode=True).decode().splitlines()
            self._reply({"success": True, "successCount": len(lines), "_file": part.get_filename()})
        else:
            self._reply({"acknowledged": True})


def test_kibana_import_uploads_the_objects_and_sets_the_home_page(tmp_path: Path) -> None:
    KibanaStandIn.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), KibanaStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        cli = Newsflow(tmp_path, {"NEWSFLOW_ES_USERNAME": "elastic", "NEWSFLOW_ES_PASSWORD": "pw"})
        out = cli("kibana", "import", "--url", url, "--set-defaults").stdout
    finally:
        server.shutdown()
        server.server_close()
    assert f"imported {len(OBJECTS)} saved objects" in out
    posts = {r["path"].split("?")[0]: r for r in KibanaStandIn.seen if r["method"] == "POST"}
    upload = posts["/api/saved_objects/_import"]
    assert "overwrite=true" in upload["path"]
    assert upload["headers"]["kbn-xsrf"]  # Kibana refuses writes without it
    assert upload["headers"]["authorization"].startswith("Basic ")
    settings = json.loads(posts["/api/kibana/settings"]["body"])["changes"]
    assert settings["defaultRoute"] == "/app/dashboards#/view/newsflow-overview"
    assert json.loads(posts["/api/data_views/default"]["body"])["data_view_id"] == "newsflow-documents"
