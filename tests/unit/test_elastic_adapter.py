"""The Elasticsearch adapter without a cluster: records, bulk actions, error translation.

Faults are real: a refused connection to a closed local port, a server that accepts
and never answers. Per-item outcomes of a bulk request (one document refused, a 429
that passes, a 429 that does not) need a cluster's answers, so a small local HTTP
server replays Elasticsearch's documented bulk responses; the live test
(tests/integration/test_es_live.py) covers the real thing.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from elasticsearch import BadRequestError

from config.settings import Settings
from pipeline.elastic.client import error_reason, make_client, translated_errors
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import from_es_source, to_es_body
from pipeline.elastic.search import name_pairs, names_request, search_hits, search_request
from pipeline.elastic.search import query as search_query
from pipeline.elastic.search import snippet as search_snippet
from pipeline.errors import TransientError
from pipeline.index import to_search_body
from pipeline.search import plan as sp
from tests.factories import make_document
from tests.unit.test_es_templates import every_field_filled

NOW = "2024-12-04T10:00:00.000+00:00"


def es_settings(url: str, **kw: Any) -> Settings:
    return Settings(home=Path("unused"), index_backend="elasticsearch", es_urls=(url,), **kw)


def index_for(url: str, **kw: Any) -> ElasticIndex:
    return ElasticIndex(make_client(es_settings(url, es_timeout_s=2.0)), retries_429=1, **kw)


# ------------------------------------------------------------------ pure parts
def test_bulk_actions_round_trip_through_json() -> None:
    doc = every_field_filled(make_document("Mark Rutte said: we all need to do more."))
    actions = ElasticIndex(make_client(es_settings("http://127.0.0.1:9"))).bulk_actions([doc], indexed_at=NOW)
    assert json.loads(json.dumps(actions)) == actions
    (action,) = actions
    assert (action["_op_type"], action["_index"], action["_id"]) == (
        "update",
        "newsflow-documents",
        doc.id,
    )
    # the whole body, created if missing, but for a stored story label (KEEP_STORY)
    assert (action["scripted_upsert"], action["upsert"]) == (True, {})
    # what goes in comes back out as the record the embedded index returns
    stored = json.loads(json.dumps(action["script"]["params"]["body"]))
    assert from_es_source(stored) == json.loads(json.dumps(to_search_body(doc)))


def test_a_new_document_is_created_with_its_label_in_one_plain_write() -> None:
    doc = every_field_filled(make_document("Mark Rutte said: we all need to do more."))
    index = ElasticIndex(make_client(es_settings("http://127.0.0.1:9")))
    (action,) = index.create_actions([doc], indexed_at=NOW, labels={doc.id: (4, "story-1")})
    assert json.loads(json.dumps(action)) == action
    assert (action["_op_type"], action["_index"], action["_id"]) == ("create", "newsflow-documents", doc.id)
    assert "script" not in action  # no read, no script: what exists answers 409 and is rewritten
    assert (action["_source"]["story_id"], action["_source"]["story_gen"]) == ("story-1", 4)
    (update,) = index.bulk_actions([doc], indexed_at=NOW, labels={doc.id: (4, "story-1")})
    assert action["_source"] == update["script"]["params"]["body"]  # the same body either way


@pytest.mark.parametrize(
    ("published", "received_at", "stored_published", "date"),
    [
        ("2024-12-04", "2024-12-05T08:00:00+00:00", "2024-12-04", "2024-12-04T00:00:00"),
        ("2024-12-04T18:30:00Z", "", "2024-12-04T18:30:00Z", "2024-12-04T18:30:00+00:00"),
        ("", "2024-12-05T08:00:00+00:00", None, "2024-12-05T08:00:00+00:00"),
        # kept as written (the field ignores malformed dates); `date` falls back
        ("4 December 2024", "2024-12-05T08:00:00+00:00", "4 December 2024", "2024-12-05T08:00:00+00:00"),
        ("", "", None, NOW),
    ],
)
def test_date_is_the_publication_else_the_arrival_else_the_indexing_time(
    published: str, received_at: str, stored_published: str | None, date: str
) -> None:
    body = to_es_body(make_document(published=published, received_at=received_at), indexed_at=NOW)
    assert (body["published"], body["date"], body["indexed_at"]) == (stored_published, date, NOW)


def test_search_request_wants_every_clause_marks_matches_and_hides_copies() -> None:
    rutte = sp.Entity(("person:mark rutte",), ("mark rutte", "rutte"))
    plan = sp.Plan((rutte, sp.Text(("peace",)), sp.Not(sp.Text(("trump",)))))
    request = search_request(plan, limit=7)
    must = request["query"]["bool"]["must"]
    # the entity: a document that mentions it (boosted) or whose text has any of its spellings
    mentions, spelled = must[0]["bool"]["should"]
    assert mentions["constant_score"]["filter"] == {"terms": {"entity_keys": ["person:mark rutte"]}}
    assert [m["multi_match"]["query"] for m in spelled["bool"]["should"]] == ["mark rutte", "rutte"]
    assert {m["multi_match"]["type"] for m in spelled["bool"]["should"]} == {"phrase"}
    assert must[1]["bool"]["should"][0]["multi_match"]["query"] == "peace"
    excluded, copies = request["query"]["bool"]["must_not"]
    assert excluded["bool"]["should"][0]["multi_match"]["query"] == "trump"
    assert copies == {"wildcard": {"duplicate_of": "?*"}}
    highlight = request["highlight"]
    assert (highlight["pre_tags"], highlight["post_tags"]) == (["<em>"], ["</em>"])
    assert highlight["encoder"] == "html"
    marked = highlight["fields"]["text"]["highlight_query"]["bool"]["should"]
    assert [m["multi_match"]["query"] for m in marked] == ["mark rutte", "rutte", "peace"]  # not trump
    assert request["size"] == 7
    with_copies = search_request(sp.Plan((sp.Text(("rutte",)),)), limit=7, duplicates=True)
    assert with_copies["query"]["bool"]["must_not"] == []


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            sp.Keys("speaker_keys", ("mark rutte",)),
            {"constant_score": {"filter": {"terms": {"speaker_keys": ["mark rutte"]}}}},
        ),
        (sp.Keys("entity_keys", ()), {"match_none": {}}),  # a name no document knows finds nothing
        (sp.Outlet("sky news"), {"constant_score": {"filter": {"match_phrase": {"outlet": "sky news"}}}}),
        (sp.Story("s-1a2b"), {"constant_score": {"filter": {"prefix": {"story_id": "s-1a2b"}}}}),
        (
            sp.Dates("date", "2024-12-01", ""),
            {
                "constant_score": {
                    "filter": {"range": {"date": {"gte": "2024-12-01", "format": "strict_date"}}}
                }
            },
        ),
        (
            sp.Dates("arrived", "", "2025-01-01"),
            {
                "constant_score": {
                    "filter": {"range": {"received_at": {"lt": "2025-01-01", "format": "strict_date"}}}
                }
            },
        ),
    ],
)
def test_each_filter_clause_is_one_elasticsearch_filter(node: sp.Node, expected: dict[str, Any]) -> None:
    assert search_query(node) == expected


def test_names_are_resolved_by_aggregating_the_name_keys_with_a_literal_pattern() -> None:
    request = names_request("name_keys", "form", ["n:mr. rutte"], size=50)
    include = request["aggs"]["names"]["terms"]["include"]
    assert include == "(n\\:mr\\.\\ rutte)\\=\\>.*"  # every non-alphanumeric escaped
    response = {
        "aggregations": {
            "names": {
                "buckets": [
                    {"key": "n:mr. rutte=>person:mark rutte", "doc_count": 3},
                    {"key": "junk", "doc_count": 1},
                ]
            }
        }
    }
    assert name_pairs(response) == [("n:mr. rutte", "person:mark rutte")]


def test_search_hits_have_the_embedded_index_shape() -> None:
    response = {
        "hits": {
            "hits": [
                {
                    "_id": "c704",
                    "_score": 3.14159265,
                    "_source": {
                        "id": "c704",
                        "title": "NATO chief",
                        "outlet": "Sky News",
                        "sources": ["/in/a.txt"],
                        "story_id": "s-1",
                    },
                    "highlight": {"text": ["Mr <em>Rutte</em> said\n  the alliance"]},
                }
            ]
        }
    }
    assert search_hits(response) == [
        {
            "id": "c704",
            "title": "NATO chief",
            "outlet": "Sky News",
            "score": 3.14159,
            "snippet": "Mr \x02Rutte\x03 said the alliance",
            "sources": ["/in/a.txt"],
            "story_id": "s-1",
        }
    ]


@pytest.mark.parametrize(
    ("fragment", "snippet"),
    [
        ("<em>Rutte</em> cautiously reiterated", "\x02Rutte\x03 cautiously reiterated"),
        ("Mr <em>Rutte</em>\n\n said", "Mr \x02Rutte\x03 said"),
        # the text is HTML-escaped by the highlighter: only our marks are tags
        (
            "&lt;b&gt;Rutte&lt;&#x2F;b&gt; &amp; <em>NATO</em> &quot;allies&quot;",
            '<b>Rutte</b> & \x02NATO\x03 "allies"',
        ),
        # a fragment cut inside a mark still gives balanced marks
        ("Rutte</em> cautiously", "Rutte cautiously"),
        ("said <em>Rutte", "said \x02Rutte\x03"),
        ("<em>Rutte <em>Mark</em>", "\x02Rutte Mark\x03"),
        ("a \x02stray\x03 mark", "a stray mark"),
    ],
)
def test_a_highlighted_fragment_becomes_the_embedded_snippet_with_balanced_marks(
    fragment: str, snippet: str
) -> None:
    assert search_snippet(fragment) == snippet


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            {"type": "strict_dynamic_mapping_exception", "reason": "dynamic introduction of [x]"},
            "strict_dynamic_mapping_exception: dynamic introduction of [x]",
        ),
        (
            {
                "type": "document_parsing_exception",
                "reason": "failed to parse field [n_claims]",
                "caused_by": {"type": "number_format_exception", "reason": 'For input string: "two"'},
            },
            "document_parsing_exception: failed to parse field [n_claims] "
            '(caused by number_format_exception: For input string: "two")',
        ),
        ("a plain message", "a plain message"),
    ],
)
def test_error_reason_is_elasticsearchs_own_words(error: Any, reason: str) -> None:
    assert error_reason(error) == reason


# ------------------------------------------------------------------ real faults
@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connections are refused


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


@pytest.mark.parametrize("call", ["write", "search", "get", "count"])
def test_an_unreachable_cluster_raises_transient_error(closed_port: int, call: str) -> None:
    index = index_for(f"http://127.0.0.1:{closed_port}")
    calls = {
        "write": lambda: index.write([make_document()]),
        "search": lambda: index.search("Rutte"),
        "get": lambda: index.get("c704faec8837f1f0"),
        "count": lambda: index.count(),
    }
    started = time.monotonic()
    with pytest.raises(TransientError, match="elasticsearch unavailable"):
        calls[call]()
    assert time.monotonic() - started < 10


def test_a_cluster_that_never_answers_raises_transient_error(silent_port: int) -> None:
    es = make_client(es_settings(f"http://127.0.0.1:{silent_port}", es_timeout_s=0.3))
    with pytest.raises(TransientError, match="ConnectionTimeout"):
        ElasticIndex(es).write([make_document()])


# -------------------------------------- bulk outcomes, replayed by a local server
class StandIn(BaseHTTPRequestHandler):
    """Answers like Elasticsearch does: `/` (info) and `/_bulk`, item status by `_id`."""

    requests: ClassVar[list[dict[str, Any]]] = []
    seen: ClassVar[set[str]] = set()
    down: ClassVar[bool] = False

    def log_message(self, *_: Any) -> None:  # keep the test output clean
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.requests.append({"path": self.path, "headers": dict(self.headers)})
        self._reply(200, {"version": {"number": "9.1.0"}, "tagline": "You Know, for Search"})

    def do_POST(self) -> None:
        lines = self.rfile.read(int(self.headers["content-length"])).decode().splitlines()
        self.requests.append({"path": self.path, "headers": dict(self.headers), "lines": lines})
        if self.down:
            self._reply(
                503, {"error": {"type": "cluster_block_exception", "reason": "no master"}, "status": 503}
            )
            return
        items = []
        for line in lines[::2]:
            ((op, meta),) = json.loads(line).items()
            items.append({op: {"_index": meta["_index"], "_id": meta["_id"], **self._outcome(meta["_id"])}})
        self._reply(
            200,
            {
                "took": 1,
                "errors": any(i.get("error") for item in items for i in item.values()),
                "items": items,
            },
        )

    do_PUT = do_POST  # the client sends bulk requests as PUT

    def _outcome(self, doc_id: str) -> dict[str, Any]:
        first_time = doc_id not in self.seen
        self.seen.add(doc_id)
        if doc_id.startswith("refused"):
            return {
                "status": 400,
                "error": {
                    "type": "strict_dynamic_mapping_exception",
                    "reason": "[1:2] mapping set to strict, dynamic introduction of [bogus] "
                    "within [_doc] is not allowed",
                },
            }
        if doc_id.startswith("conflict"):
            return {
                "status": 409,
                "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict",
                },
            }
        if doc_id.startswith("busy") and (first_time or doc_id == "busy-always"):
            return {
                "status": 429,
                "error": {
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution (queue capacity 200)",
                },
            }
        return {"status": 201, "result": "created"}


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.requests, StandIn.seen, StandIn.down = [], set(), False
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def bulk_requests() -> list[dict[str, Any]]:
    return [r for r in StandIn.requests if urlsplit(r["path"]).path == "/_bulk"]


def sent(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(operation, id) of each action of a bulk request."""
    return [next(iter(json.loads(line).items())) for line in request["lines"][::2]]


def sent_ids(request: dict[str, Any]) -> list[str]:
    return [str(meta["_id"]) for _, meta in sent(request)]


def test_a_refused_document_comes_back_with_its_reason_and_the_rest_is_written(
    stand_in: str,
) -> None:
    docs = [make_document(id=i) for i in ("ok-1", "refused-2", "ok-3")]
    rejected = index_for(stand_in).write(docs)
    assert rejected == [
        (
            "refused-2",
            "strict_dynamic_mapping_exception: [1:2] mapping set to "
            "strict, dynamic introduction of [bogus] within [_doc] is not allowed",
        )
    ]
    (request,) = bulk_requests()
    assert sent_ids(request) == ["ok-1", "refused-2", "ok-3"]
    # through the alias, which must exist: a write never creates an unmapped index
    assert parse_qs(urlsplit(request["path"]).query)["require_alias"] == ["true"]


def test_a_429_on_one_item_is_retried_for_that_item_only(stand_in: str) -> None:
    docs = [make_document(id=i) for i in ("ok-1", "busy-once", "ok-3")]
    assert index_for(stand_in).write(docs) == []
    retry = bulk_requests()[1]
    assert sent_ids(retry) == ["busy-once"]


def test_a_429_that_persists_raises_transient_error_after_the_others_are_written(
    stand_in: str,
) -> None:
    docs = [make_document(id=i) for i in ("ok-1", "busy-always")]
    with pytest.raises(TransientError, match="busy-always: 429"):
        index_for(stand_in).write(docs)
    assert len(bulk_requests()) == 2  # the first attempt and one retry


def test_a_version_conflict_left_after_the_updates_own_retries_is_transient_not_a_refusal(
    stand_in: str,
) -> None:
    docs = [make_document(id=i) for i in ("ok-1", "conflict-2")]
    with pytest.raises(TransientError, match="conflict-2: 409"):
        index_for(stand_in).write(docs)
    # created first; the one that exists (409) is then written by the update that keeps a
    # newer stored label, whose conflict is the transient one
    assert [[op for op, _ in sent(r)] for r in bulk_requests()] == [["create", "create"], ["update"]]
    # a versioned write that lost to a newer one is done, when the caller says so
    assert index_for(stand_in).bulk([{"_index": "x", "_id": "conflict-3", "a": 1}], done=(409,)) == []


def test_a_cluster_answering_503_raises_transient_error(stand_in: str) -> None:
    StandIn.down = True
    with pytest.raises(TransientError, match="503"):
        index_for(stand_in).write([make_document()])


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        (429, TransientError),
        (502, TransientError),
        (503, TransientError),
        (400, BadRequestError),  # a bug or a bad request: retrying cannot help
    ],
)
def test_api_errors_are_transient_only_for_429_and_5xx(status: int, raised: type) -> None:
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    from elasticsearch import ApiError

    meta = ApiResponseMeta(
        status=status,
        http_version="1.1",
        headers=HttpHeaders(),
        duration=0.0,
        node=NodeConfig("http", "127.0.0.1", 9200),
    )
    error_class = BadRequestError if status == 400 else ApiError
    with pytest.raises(raised), translated_errors("test"):
        raise error_class(message="x", meta=meta, body={})


@pytest.mark.parametrize(
    ("settings", "authorization"),
    [
        ({"es_api_key": "a2V5OnNlY3JldA=="}, "ApiKey a2V5OnNlY3JldA=="),
        (
            {"es_username": "elastic", "es_password": "s3cret"},
            "Basic " + base64.b64encode(b"elastic:s3cret").decode(),
        ),
        ({}, None),
    ],
)
def test_the_client_authenticates_as_configured(
    stand_in: str, settings: dict[str, str], authorization: str | None
) -> None:
    make_client(es_settings(stand_in, **settings)).info()
    headers = {k.lower(): v for k, v in StandIn.requests[-1]["headers"].items()}
    assert headers.get("authorization") == authorization


# --------------------------- setup and reindex, against a scripted cluster's answers
class ClusterStandIn(BaseHTTPRequestHandler):
    """Just enough of Elasticsearch's index, alias and template APIs, in memory, for
    setup and reindex to run their requests; the live test checks the real cluster."""

    templates: ClassVar[dict[str, Any]] = {}
    aliases: ClassVar[dict[str, dict[str, Any]]] = {}  # index -> {alias: settings}
    log: ClassVar[list[tuple[str, str, Any]]] = []
    url: ClassVar[str] = ""

    def log_message(self, *_: Any) -> None:
        pass

    def _reply(self, status: int, body: Any = None) -> None:
        data = json.dumps({} if body is None else body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        path = urlsplit(self.path).path
        self.log.append((self.command, path, body))
        parts = path.strip("/").split("/")
        behind = {alias: index for index, names in self.aliases.items() for alias in names}
        if parts[0] == "_index_template":
            if self.command == "PUT":
                self.templates[parts[1]] = body
                return self._reply(200, {"acknowledged": True})
            if parts[1] not in self.templates:
                return self._reply(404, {"error": {"type": "resource_not_found_exception"}})
            return self._reply(
                200, {"index_templates": [{"name": parts[1], "index_template": self.templates[parts[1]]}]}
            )
        if parts[0] == "_alias":
            if parts[1] not in behind:
                return self._reply(404, {"error": f"alias [{parts[1]}] missing", "status": 404})
            return self._reply(200, {behind[parts[1]]: {"aliases": {parts[1]: {}}}})
        if parts[0] == "_cluster":
            return self._reply(200, {"status": "green", "cluster_name": "c", "number_of_nodes": 1})
        if parts == [""]:
            return self._reply(200, {"version": {"number": "9.1.0"}})
        if len(parts) == 2 and parts[1] == "_mapping":  # built from the template installed
            kind_alias = parts[0].rsplit("-v", 1)[0]
            mappings = self.templates[kind_alias]["template"]["mappings"]
            return self._reply(200, {parts[0]: {"mappings": mappings}})
        if parts[0] == "_reindex":
            return self._reply(200, {"task": "node:1"})
        if parts[0] == "_tasks":
            return self._reply(200, {"completed": True, "response": {"created": 3, "failures": []}})
        if parts[0] == "_aliases":
            for action in body["actions"]:
                ((verb, spec),) = action.items()
                if verb == "remove":
                    self.aliases[spec["index"]].pop(spec["alias"])
                else:
                    self.aliases[spec["index"]][spec["alias"]] = spec
            return self._reply(200, {"acknowledged": True})
        if parts[0] == "_search":  # clearing a scroll
            return self._reply(200, {"succeeded": True})
        if len(parts) == 2 and parts[1] == "_search":
            return self._reply(200, {"_scroll_id": "s1", "hits": {"hits": []}})
        if len(parts) == 2 and parts[1] == "_count":
            return self._reply(200, {"count": 3})
        if len(parts) == 2 and parts[1] == "_refresh":
            return self._reply(200, {})
        if self.command == "HEAD":
            return self._reply(200 if parts[0] in self.aliases or parts[0] in behind else 404)
        if self.command == "PUT":
            if parts[0] in self.aliases:
                return self._reply(
                    400,
                    {
                        "error": {"type": "resource_already_exists_exception", "reason": "exists"},
                        "status": 400,
                    },
                )
            self.aliases[parts[0]] = dict((body or {}).get("aliases", {}))
            return self._reply(200, {"acknowledged": True, "index": parts[0]})
        return self._reply(404, {"error": {"type": "not_scripted", "reason": path}})

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


@pytest.fixture
def cluster() -> Iterator[Any]:
    ClusterStandIn.templates, ClusterStandIn.aliases, ClusterStandIn.log = {}, {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ClusterStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ClusterStandIn.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield make_client(es_settings(ClusterStandIn.url))
    server.shutdown()
    server.server_close()


def test_setup_installs_the_file_templates_and_points_each_alias_at_v1(cluster: Any) -> None:
    from pipeline.elastic.admin import setup
    from pipeline.elastic.records import KINDS, load_template

    setup(cluster, "nftest")
    for kind in KINDS:
        assert ClusterStandIn.templates[f"nftest-{kind}"] == load_template(kind, "nftest")
    assert ClusterStandIn.aliases == {
        f"nftest-{kind}-v1": {f"nftest-{kind}": {"is_write_index": True}} for kind in KINDS
    }


def test_setup_twice_changes_nothing_the_second_time(cluster: Any) -> None:
    from pipeline.elastic.admin import setup

    setup(cluster, "nftest")
    first = json.loads(json.dumps([ClusterStandIn.templates, ClusterStandIn.aliases]))
    ClusterStandIn.log.clear()
    report = setup(cluster, "nftest")
    assert [ClusterStandIn.templates, ClusterStandIn.aliases] == first
    assert not [r for r in ClusterStandIn.log if r[0] == "PUT" and "_index_template" not in r[1]]
    assert all("exists ->" in line for line in report if line.startswith("alias"))


def test_reindex_builds_v2_and_moves_the_alias_in_one_call(cluster: Any) -> None:
    from pipeline.elastic.admin import reindex, setup

    setup(cluster, "nftest")
    ClusterStandIn.log.clear()
    result = reindex(cluster, "nftest", "documents", poll_s=0)
    assert (result["from"], result["to"]) == (["nftest-documents-v1"], "nftest-documents-v2")
    (swap,) = [body for verb, path, body in ClusterStandIn.log if path == "/_aliases"]
    assert swap["actions"] == [
        {"remove": {"index": "nftest-documents-v1", "alias": "nftest-documents"}},
        {"add": {"index": "nftest-documents-v2", "alias": "nftest-documents", "is_write_index": True}},
    ]
    (copy,) = [body for verb, path, body in ClusterStandIn.log if path == "/_reindex"]
    assert copy == {"source": {"index": "nftest-documents"}, "dest": {"index": "nftest-documents-v2"}}
    assert ClusterStandIn.aliases["nftest-documents-v1"] == {}  # kept, without the alias


def test_check_is_clean_after_setup_and_names_the_fix_when_a_template_is_stale(
    cluster: Any,
) -> None:
    from pipeline.elastic.admin import check, check_problems, setup

    setup(cluster, "nftest")
    assert check_problems(check(cluster, "nftest")) == []
    ClusterStandIn.templates["nftest-claims"]["version"] = 0  # as if installed by an older release
    assert check_problems(check(cluster, "nftest")) == [
        "nftest-claims: template installed 0, file 3; run `newsflow es setup`"
    ]


def test_es_setup_and_check_on_the_command_line(cluster: Any, tmp_path: Path) -> None:
    from tests.conftest import Newsflow

    cli = Newsflow(tmp_path, {"NEWSFLOW_ES_URLS": ClusterStandIn.url, "NEWSFLOW_ES_PREFIX": "nfcli"})
    assert "alias nfcli-documents: created -> nfcli-documents-v1" in cli("es", "setup").stdout
    report = json.loads(cli("es", "check", "--json").stdout)
    assert report["problems"] == []
    assert report["kinds"]["claims"]["indices"] == ["nfcli-claims-v1"]
    ClusterStandIn.aliases.clear()  # as if someone deleted the indices
    failed = cli("es", "check", check=False)
    assert failed.returncode == 1
    assert "nfcli-stories: no alias; run `newsflow es setup`" in failed.stdout
