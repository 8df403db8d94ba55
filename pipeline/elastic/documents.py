"""The Elasticsearch index: templates, aliases, bulk writes, search, reindex (does I/O).

Same interface as `SqliteIndex` (write, get, count, iter_all, search), so the tasks and
the command line do not care which backend they talk to. Layout on the cluster:

    alias <prefix>-documents -> index <prefix>-documents-v1  (config/elasticsearch/documents.json)
    alias <prefix>-claims    -> index <prefix>-claims-v1     (claims.json)
    alias <prefix>-stories   -> index <prefix>-stories-v1    (stories.json)

Every write goes through the alias (`require_alias`, so a write before `newsflow es setup`
can never auto-create an unmapped index), which is what lets `reindex` build `-v2` and
switch the alias in one atomic step.

Errors, translated for the tasks: an unreachable cluster, a timeout, a 429 or a 5xx
raise `TransientError` (Celery retries with backoff and jitter); a document the cluster
refuses (mapping conflict, strict mapping) comes back from `write` as (id, reason) with
Elasticsearch's own reason, and never blocks the rest of the batch. A 429 on single
items is first retried inside the bulk helper with exponential backoff.

Works with an 8.x or 9.x cluster when the client's major version matches the cluster's
(`pip install "elasticsearch>=8.12,<9"` for an 8.x cluster): only APIs present in both
client lines are used.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, helpers
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsConnectionTimeout

from pipeline.document import Document, Figure
from pipeline.errors import BadInput, TransientError
from pipeline.index import to_search_body

KINDS = ("documents", "claims", "stories")
DEFAULT_PREFIX = "newsflow"
# Fields that hold dates. The pipeline writes "" when a date is unknown, which a date
# field refuses; Elasticsearch gets null instead and `from_es_source` gives "" back.
DATE_KEYS = frozenset({"published", "received_at", "at", "first_seen", "last_seen"})
# Fields this adapter adds on the way in (and removes on the way out), per kind.
ES_ONLY_KEYS = {
    "documents": ("date", "indexed_at", "story_gen"),
    "claims": ("date", "indexed_at", "speaker_key", "outlets", "n_outlets", "n_documents"),
    "stories": ("date", "indexed_at"),
}
# A reindex copies what was written before it started; writes that land in the old index
# while it runs are copied again afterwards. This margin covers clock skew between workers.
CATCH_UP_MARGIN = timedelta(minutes=2)


# --------------------------------------------------------------------------- client
def make_client(settings: Any) -> Elasticsearch:
    """A client for the cluster in `settings` (URLs, API key or basic auth, TLS, timeout).

    Secrets come only from the settings, which read them only from the environment.
    Connection errors and 502/503/504 are retried at once by the transport, on the next
    node; a 429 is left to the bulk helper, which backs off (an immediate retry adds load).
    """
    kw: dict[str, Any] = {
        "hosts": list(settings.es_urls),
        "request_timeout": settings.es_timeout_s,
        # A timeout is not retried here: three 30 s attempts would overrun the task's
        # time limit; it becomes TransientError and Celery retries later, with backoff.
        "retry_on_timeout": False,
        "max_retries": 2,
        "retry_on_status": (502, 503, 504),
    }
    if settings.es_api_key:
        kw["api_key"] = settings.es_api_key
    elif settings.es_username:
        kw["basic_auth"] = (settings.es_username, settings.es_password)
    if settings.es_ca_certs:
        kw["ca_certs"] = settings.es_ca_certs
    if not settings.es_verify_certs:
        kw["verify_certs"] = False
        kw["ssl_show_warn"] = False
    return Elasticsearch(**kw)


@contextlib.contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Turn the client's faults into ours: unreachable, timeout, 429, 5xx -> TransientError."""
    try:
        yield
    except (EsConnectionError, EsConnectionTimeout) as exc:
        raise TransientError(f"elasticsearch unavailable during {what}: {type(exc).__name__}") from exc
    except ApiError as exc:
        if exc.status_code == 429 or exc.status_code >= 500:
            raise TransientError(f"elasticsearch answered {exc.status_code} during {what}") from exc
        raise


# ------------------------------------------------------------------------ templates
def alias_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def load_template(kind: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The composable index template for `kind` from config/elasticsearch/, for `prefix`."""
    path = resources.files("config") / "elasticsearch" / f"{kind}.json"
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    alias = alias_name(prefix, kind)
    template["index_patterns"] = [f"{alias}-*"]
    template["_meta"]["alias"] = alias
    template["template"]["mappings"]["_meta"]["template"] = alias
    return template


def to_es_body(doc: Document, *, indexed_at: str) -> dict[str, Any]:
    """The document record as Elasticsearch stores it: `to_search_body` plus `date` and
    `indexed_at`, with unknown dates as null (pure)."""
    body: dict[str, Any] = _nulls_for_empty_dates(to_search_body(doc))
    body["indexed_at"] = indexed_at
    body["date"] = iso_date(doc.published) or iso_date(doc.received_at) or indexed_at
    return body


def to_es_record(record: Mapping[str, Any], *, indexed_at: str) -> dict[str, Any]:
    """A claim or story record as Elasticsearch stores it: unknown dates null, plus
    `indexed_at` and `date` (the article's or the story's latest date, else now) (pure)."""
    body: dict[str, Any] = _nulls_for_empty_dates(dict(record))
    body.setdefault("indexed_at", indexed_at)
    when = body.get("published") or body.get("last_seen")
    body.setdefault("date", iso_date(when) or indexed_at)
    return body


def from_es_source(source: Mapping[str, Any], kind: str = "documents") -> dict[str, Any]:
    """Back from Elasticsearch to the record the embedded index returns (pure)."""
    drop = ES_ONLY_KEYS[kind]
    body: dict[str, Any] = _empty_for_null_dates({k: v for k, v in source.items() if k not in drop})
    return body


def iso_date(value: str | None) -> str | None:
    """`value` as an ISO 8601 timestamp Elasticsearch's strict parser accepts, else None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _nulls_for_empty_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (None if k in DATE_KEYS and v == "" else _nulls_for_empty_dates(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_nulls_for_empty_dates(v) for v in value]
    return value


def _empty_for_null_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("" if k in DATE_KEYS and v is None else _empty_for_null_dates(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_empty_for_null_dates(v) for v in value]
    return value


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------- index
class ElasticIndex:
    """Documents (and claim and story records) in Elasticsearch, through aliases."""

    def __init__(
        self,
        es: Elasticsearch,
        *,
        prefix: str = DEFAULT_PREFIX,
        chunk_size: int = 500,
        chunk_bytes: int = 10_000_000,
        retries_429: int = 3,
        refresh: bool = False,
    ) -> None:
        self.es = es
        self.prefix = prefix
        self.chunk_size = chunk_size
        self.chunk_bytes = chunk_bytes
        self.retries_429 = retries_429
        # "wait_for" makes a write visible to search before it returns (tests, `run`).
        self.refresh: str | bool = "wait_for" if refresh else False

    def refreshing(self) -> ElasticIndex:
        """The same index whose writes wait until they are visible to search."""
        return ElasticIndex(
            self.es,
            prefix=self.prefix,
            chunk_size=self.chunk_size,
            chunk_bytes=self.chunk_bytes,
            retries_429=self.retries_429,
            refresh=True,
        )

    def alias(self, kind: str = "documents") -> str:
        return alias_name(self.prefix, kind)

    def close(self) -> None:
        self.es.close()

    # -- writing -------------------------------------------------------------
    def bulk_actions(
        self, docs: Sequence[Document], *, indexed_at: str | None = None
    ) -> list[dict[str, Any]]:
        """The bulk actions that write `docs` (pure; JSON-safe, see the unit tests)."""
        stamp = indexed_at or now_iso()
        return [
            {
                "_op_type": "index",
                "_index": self.alias("documents"),
                "_id": doc.id,
                "_source": to_es_body(doc, indexed_at=stamp),
            }
            for doc in docs
        ]

    def record_actions(
        self, kind: str, records: Iterable[Mapping[str, Any]], *, indexed_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Bulk actions for claim or story records (each with an `id`)."""
        stamp = indexed_at or now_iso()
        return [
            {
                "_op_type": "index",
                "_index": self.alias(kind),
                "_id": str(record["id"]),
                "_source": to_es_record(record, indexed_at=stamp),
            }
            for record in records
        ]

    def write(self, docs: Sequence[Document]) -> list[tuple[str, str]]:
        """Upsert documents by id. Returns (doc id, Elasticsearch's reason) for any refused."""
        return self.bulk(self.bulk_actions(docs))

    def write_records(self, kind: str, records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
        """Upsert claim or story records by id; returns (id, reason) for any refused."""
        return self.bulk(self.record_actions(kind, records))

    def bulk(self, actions: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
        """Stream `actions` in bounded chunks; return refused items, raise on transient faults.

        An item refused with 429 or 5xx after the helper's own retries, or written before
        `es setup` created the alias, makes the whole call raise TransientError once the
        other items are written: the retry writes everything again, harmlessly, since
        each write replaces the record with the same id.
        """
        rejected: list[tuple[str, str]] = []
        transient: list[str] = []
        with translated_errors("bulk write"):
            for ok, item in helpers.streaming_bulk(
                self.es,
                actions,
                chunk_size=self.chunk_size,
                max_chunk_bytes=self.chunk_bytes,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=self.retries_429,
                initial_backoff=1,
                max_backoff=30,
                require_alias=True,
                refresh=self.refresh,
            ):
                if ok:
                    continue
                result = next(iter(item.values()))
                status = int(result.get("status") or 0)
                reason = error_reason(result.get("error"))
                if status == 429 or status >= 500 or "index_not_found" in reason:
                    transient.append(f"{result.get('_id')}: {status} {reason}")
                else:
                    rejected.append((str(result.get("_id")), reason))
        if transient:
            raise TransientError(f"{len(transient)} item(s) not written, will retry: {transient[0]}")
        return rejected

    # -- reading -------------------------------------------------------------
    def get(self, doc_id: str, kind: str = "documents") -> dict[str, Any] | None:
        with translated_errors("get"):
            try:
                found = self.es.get(index=self.alias(kind), id=doc_id)
                return from_es_source(found["_source"], kind)
            except NotFoundError:
                pass
            if len(doc_id) < 6:
                return None
            # accept a unique prefix, as git (and SqliteIndex) do
            found = self.es.search(index=self.alias(kind), query={"prefix": {"id": doc_id}}, size=2)
        hits = found["hits"]["hits"]
        return from_es_source(hits[0]["_source"], kind) if len(hits) == 1 else None

    def scan(self, kind: str, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record of `kind` matching `query`, as stored (ES-only fields included)."""
        with translated_errors("scan"):
            for hit in helpers.scan(self.es, index=self.alias(kind), query={"query": query}):
                yield hit["_source"]

    def count(self, kind: str = "documents") -> int:
        with translated_errors("count"):
            return int(self.es.count(index=self.alias(kind))["count"])

    def iter_all(self, kind: str = "documents") -> Iterator[dict[str, Any]]:
        with translated_errors("scan"):
            for hit in helpers.scan(self.es, index=self.alias(kind), query={"query": {"match_all": {}}}):
                yield from_es_source(hit["_source"], kind)

    def search(self, query: str, *, limit: int = 10, duplicates: bool = False) -> list[dict[str, Any]]:
        """Full-text search; each hit has id, title, outlet, score, snippet, sources, story_id."""
        request = search_request(query, limit=limit, duplicates=duplicates)
        if request is None:
            return []
        with translated_errors("search"):
            found = self.es.search(index=self.alias(), **request)
        return search_hits(found.body)


SEARCH_FIELDS = ["title^5", "text", "people^3", "organisations^3", "places^3"]


def search_request(query: str, *, limit: int, duplicates: bool = False) -> dict[str, Any] | None:
    """The search request for what a user typed (pure); None when there is nothing to find.

    Every word must match (in the title, the text or an entity name), like the embedded
    index. Copies of another document (`duplicate_of` set) are not listed unless
    `duplicates`. The snippet
    marks matches with \\x02 ... \\x03, as the embedded index does.
    """
    if not re.search(r"\w", query):
        return None
    multi_match = {
        "query": query,
        "type": "cross_fields",
        "operator": "and",
        "fields": SEARCH_FIELDS,
    }
    return {
        "query": {
            "bool": {
                "must": [{"multi_match": multi_match}],
                "must_not": [] if duplicates else [{"wildcard": {"duplicate_of": "?*"}}],
            }
        },
        "highlight": {
            "pre_tags": ["\x02"],
            "post_tags": ["\x03"],
            "fields": {"text": {"fragment_size": 160, "number_of_fragments": 1, "no_match_size": 160}},
        },
        "size": limit,
        "source_includes": ["id", "title", "outlet", "sources", "story_id"],
    }


def search_hits(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The hits of a search response in the shape `SqliteIndex.search` returns (pure)."""
    hits = []
    for hit in response["hits"]["hits"]:
        src = hit["_source"]
        fragments = hit.get("highlight", {}).get("text", [""])
        hits.append(
            {
                "id": src.get("id", hit["_id"]),
                "title": src.get("title", ""),
                "outlet": src.get("outlet", ""),
                "score": float(f"{hit['_score'] or 0.0:.6g}"),
                "snippet": " ".join(fragments[0].split()),
                "sources": src.get("sources", []),
                "story_id": src.get("story_id", ""),
            }
        )
    return hits


def error_reason(error: Any) -> str:
    """Elasticsearch's reason for a refused item, as one line: "type: reason (caused by ...)"."""
    if not isinstance(error, Mapping):
        return str(error)
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
    cause = error.get("caused_by")
    if isinstance(cause, Mapping):
        text += f" (caused by {cause.get('type', '')}: {cause.get('reason', '')})"
    return text


# ---------------------------------------------------------------- setup and check
def _versioned(alias: str, n: int) -> str:
    return f"{alias}-v{n}"


def _version_of(index: str) -> int:
    m = re.search(r"-v(\d+)$", index)
    return int(m.group(1)) if m else 0


def indices_behind(es: Elasticsearch, alias: str) -> list[str]:
    """The concrete indices an alias points at ([] when the alias does not exist)."""
    try:
        return sorted(es.indices.get_alias(name=alias).body)
    except NotFoundError:
        return []


def setup(es: Elasticsearch, prefix: str = DEFAULT_PREFIX, kinds: Sequence[str] = KINDS) -> list[str]:
    """Install the templates, create the first index behind each alias (idempotent).

    Safe to run on every start: templates are replaced only by the same or a newer
    version, an alias that exists is left alone.
    """
    report = []
    with translated_errors("setup"):
        for kind in kinds:
            alias = alias_name(prefix, kind)
            template = load_template(kind, prefix)
            installed = installed_template_version(es, alias)
            if installed is not None and installed > template["version"]:
                report.append(
                    f"template {alias}: installed version {installed} is newer than "
                    f"the file's {template['version']}; left alone"
                )
            else:
                body = {k: v for k, v in template.items() if k != "_meta"}
                es.indices.put_index_template(name=alias, meta=template["_meta"], **body)
                report.append(f"template {alias}: version {template['version']} installed")
            if indices_behind(es, alias):
                report.append(f"alias {alias}: exists -> {', '.join(indices_behind(es, alias))}")
                continue
            if es.indices.exists(index=alias):
                raise RuntimeError(
                    f"{alias} exists as a plain index, not an alias (our writes never create one): "
                    "rename or delete it, then run `newsflow es setup` again"
                )
            try:
                es.indices.create(index=_versioned(alias, 1), aliases={alias: {"is_write_index": True}})
            except BadRequestError as exc:  # another `es setup` got there first: fine
                if "resource_already_exists" not in str(exc):
                    raise
            report.append(f"alias {alias}: created -> {', '.join(indices_behind(es, alias))}")
        es.cluster.health(
            index=",".join(alias_name(prefix, k) for k in kinds),
            wait_for_status="yellow",
            timeout="30s",
        )
    return report


def installed_template_version(es: Elasticsearch, name: str) -> int | None:
    try:
        found = es.indices.get_index_template(name=name)
    except NotFoundError:
        return None
    templates = found.get("index_templates", [])
    return templates[0]["index_template"].get("version") if templates else None


def check(es: Elasticsearch, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """Cluster health, template versions (file vs installed), indices and document counts."""
    with translated_errors("check"):
        health = es.cluster.health().body
        info = es.info().body
        report: dict[str, Any] = {
            "cluster": health.get("cluster_name"),
            "status": health.get("status"),
            "version": info.get("version", {}).get("number"),
            "nodes": health.get("number_of_nodes"),
            "kinds": {},
        }
        for kind in KINDS:
            alias = alias_name(prefix, kind)
            indices = indices_behind(es, alias)
            entry: dict[str, Any] = {
                "alias": alias,
                "indices": indices,
                "template_file_version": load_template(kind, prefix)["version"],
                "template_installed_version": installed_template_version(es, alias),
                "count": int(es.count(index=alias)["count"]) if indices else None,
            }
            if indices:
                mappings = es.indices.get_mapping(index=indices[-1]).body[indices[-1]]["mappings"]
                entry["index_built_from_version"] = mappings.get("_meta", {}).get("template_version")
            report["kinds"][kind] = entry
    return report


def check_problems(report: Mapping[str, Any]) -> list[str]:
    """What an operator must act on, from a `check` report (pure)."""
    problems = []
    if report.get("status") == "red":
        problems.append("cluster health is red")
    for kind, entry in report["kinds"].items():
        if not entry["indices"]:
            problems.append(f"{entry['alias']}: no alias; run `newsflow es setup`")
            continue
        if entry["template_installed_version"] != entry["template_file_version"]:
            problems.append(
                f"{entry['alias']}: template installed {entry['template_installed_version']}, "
                f"file {entry['template_file_version']}; run `newsflow es setup`"
            )
        if entry.get("index_built_from_version") != entry["template_file_version"]:
            problems.append(
                f"{entry['alias']}: index built from template version "
                f"{entry.get('index_built_from_version')}, file is "
                f"{entry['template_file_version']}; run `newsflow reindex {kind}`"
            )
    return problems


# ------------------------------------------------------------------------ reindex
def reindex(
    es: Elasticsearch, prefix: str, kind: str, *, delete_old: bool = False, poll_s: float = 2.0
) -> dict[str, Any]:
    """Rebuild `kind` into a new index from the current template and switch the alias.

    1. create <alias>-v<n+1> (the installed template gives it the current mapping);
    2. copy everything from the alias into it (server-side `_reindex`, as a task);
    3. switch the alias in one atomic `_aliases` call: readers and writers never see
       a moment without it;
    4. catch up: records written to the old index while step 2 ran are copied over
       unless the new index already has a newer one (compare-and-set on seq_no).
    The old index is kept (printed) unless `delete_old`.
    """
    alias = alias_name(prefix, kind)
    with translated_errors("reindex"):
        old = indices_behind(es, alias)
        if not old:
            raise RuntimeError(f"{alias} does not exist; run `newsflow es setup` first")
        new = _versioned(alias, max(_version_of(i) for i in old) + 1)
        es.indices.create(index=new)
        started = datetime.now(UTC) - CATCH_UP_MARGIN
        task = es.reindex(
            source={"index": alias}, dest={"index": new}, wait_for_completion=False, refresh=True
        )["task"]
        result = _wait_for_task(es, task, poll_s)
        if result.get("failures"):
            es.indices.delete(index=new)
            raise RuntimeError(f"reindex into {new} failed, alias unchanged: {result['failures'][:3]}")
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old]
        actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
        es.indices.update_aliases(actions=actions)
        caught_up = _catch_up(es, old, new, since=started)
        es.indices.refresh(index=new)
        if delete_old:
            es.indices.delete(index=",".join(old))
        return {
            "alias": alias,
            "from": old,
            "to": new,
            "copied": result.get("created", 0),
            "caught_up": caught_up,
            "old_deleted": delete_old,
            "count": int(es.count(index=alias)["count"]),
        }


def _wait_for_task(es: Elasticsearch, task_id: str, poll_s: float) -> dict[str, Any]:
    while True:
        with warnings.catch_warnings():
            # the client flags the tasks API "technical preview"; it has been stable for years
            warnings.filterwarnings("ignore", message="This API is in technical preview")
            status = es.tasks.get(task_id=task_id).body
        if status.get("completed"):
            if "error" in status:
                raise RuntimeError(f"reindex task failed: {status['error']}")
            return dict(status.get("response", {}))
        time.sleep(poll_s)


def _catch_up(es: Elasticsearch, old: list[str], new: str, *, since: datetime) -> int:
    """Copy records written to `old` since `since` unless `new` holds a newer one."""
    copied = 0
    query = {"query": {"range": {"indexed_at": {"gte": since.isoformat()}}}}
    for hit in helpers.scan(es, index=",".join(old), query=query):
        current = es.options(ignore_status=404).get(index=new, id=hit["_id"]).body
        newer = current.get("found") and current["_source"].get("indexed_at", "") >= hit["_source"].get(
            "indexed_at", ""
        )
        if newer:
            continue
        guard = (
            {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
            if current.get("found")
            else {"op_type": "create"}
        )
        # 409: a worker wrote a newer version meanwhile, which is what we want to keep
        es.options(ignore_status=409).index(index=new, id=hit["_id"], document=hit["_source"], **guard)
        copied += 1
    return copied


# ------------------------------------------------------------ mapping coverage
_TYPES_FOR = {
    bool: {"boolean"},
    int: {"integer", "long", "float", "double"},
    float: {"float", "double"},
    str: {"text", "keyword", "date"},
}


def mapping_problems(record: Mapping[str, Any], mapping: Mapping[str, Any], path: str = "") -> list[str]:
    """Where `record` does not fit `mapping` (a mappings or object field), as readable lines (pure).

    A field missing from the mapping, an object where a value is mapped (or the
    reverse), a value of the wrong kind (a float into an integer, a word into a number),
    and a string in a date field that is not an ISO date, unless the field ignores
    malformed values. Empty means every field of the record is mapped as intended.
    """
    problems: list[str] = []
    properties = mapping.get("properties", {})
    for key, value in record.items():
        field = properties.get(key)
        if field is None:
            problems.append(f"{path}{key}: not mapped")
        else:
            problems.extend(_value_problems(f"{path}{key}", value, field))
    return problems


def _value_problems(path: str, value: Any, field: Mapping[str, Any]) -> list[str]:
    if value is None or field.get("enabled") is False:
        return []
    if isinstance(value, list):
        return [p for item in value for p in _value_problems(path, item, field)]
    ftype = field.get("type", "object")
    if isinstance(value, Mapping):
        if ftype in ("object", "nested"):
            return mapping_problems(value, field, path + ".")
        return [f"{path}: an object, mapped as {ftype}"]
    allowed = next((types for kind, types in _TYPES_FOR.items() if type(value) is kind), set())
    if ftype not in allowed:
        return [f"{path}: {type(value).__name__} {value!r:.40}, mapped as {ftype}"]
    if ftype in ("integer",) and not -(2**31) <= value < 2**31:
        return [f"{path}: {value} does not fit an integer"]
    if ftype == "date" and iso_date(value) is None and not field.get("ignore_malformed"):
        return [f"{path}: {value!r:.40} is not an ISO date"]
    return []


# ------------------------------------------------------------- claims and stories
# The same jobs as the embedded claims and stories tables (sqlite_claims.py,
# sqlite_stories.py), on the claims and stories aliases, so the index task and the
# `newsflow claims` / `stories` commands work on either backend. Elasticsearch has no
# transactions: writes wait for a refresh before the regrouping reads them, and two
# workers regrouping the same speaker or story at the same moment may leave the older
# result until that speaker's or story's next write.


class ElasticClaims:
    """One record per claim in <prefix>-claims, regrouped per speaker on every write."""

    def __init__(self, index: ElasticIndex) -> None:
        self.index = index

    def write(self, doc: Document) -> int:
        """Replace the document's claims and regroup their speakers. Returns the claim count."""
        from pipeline.claims.grouping import speaker_key
        from pipeline.claims.records import to_claim_records

        records = [{**r, "speaker_key": speaker_key(claim_speaker(r))} for r in to_claim_records(doc)]
        before = {c["speaker_key"] for c in self.index.scan("claims", {"term": {"doc_id": doc.id}})}
        with translated_errors("claims write"):
            self.index.es.delete_by_query(
                index=self.index.alias("claims"),
                query={"term": {"doc_id": doc.id}},
                refresh=True,
                conflicts="proceed",
            )
        self._bulk(self.index.record_actions("claims", records))
        self._regroup(before | {r["speaker_key"] for r in records})
        return len(records)

    def write_many(self, docs: Sequence[Document]) -> int:
        """`write` for each document in turn (each regroup must see the previous writes)."""
        return sum(self.write(doc) for doc in docs)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        refused = self.index.refreshing().bulk(actions)
        if refused:
            raise BadInput(f"claims index refused {refused[0][0]}: {refused[0][1]}")

    def _regroup(self, speakers: set[str]) -> None:
        """Group every stored claim of `speakers` again; update the records that changed."""
        from pipeline.claims.grouping import ClaimRef, group_refs

        actions = []
        for speaker in sorted(speakers):
            stored = {c["id"]: c for c in self.index.scan("claims", {"term": {"speaker_key": speaker}})}
            refs = [
                ClaimRef(
                    key=c["id"],
                    doc_id=c["doc_id"],
                    speaker=speaker,
                    text=c["text"],
                    figures=tuple(Figure(**f) for f in c.get("figures", [])),
                )
                for c in stored.values()
            ]
            grouped = group_refs(refs)
            members: dict[str, list[dict[str, Any]]] = {}
            for key, g in grouped.items():
                members.setdefault(g.group, []).append(stored[key])
            for key, g in grouped.items():
                group = members[g.group]
                change: dict[str, Any] = {
                    "group": g.group,
                    "conflict": g.conflict,
                    "outlets": sorted({c["outlet"] for c in group if c.get("outlet")}),
                    "n_documents": len({c["doc_id"] for c in group}),
                }
                change["n_outlets"] = len(change["outlets"])
                if any(stored[key].get(k) != v for k, v in change.items()):
                    actions.append(
                        {
                            "_op_type": "update",
                            "_index": self.index.alias("claims"),
                            "_id": key,
                            "doc": change,
                        }
                    )
        self._bulk(actions)

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
        return [from_es_source(h["_source"], "claims") for h in found["hits"]["hits"]]


def claim_speaker(record: Mapping[str, Any]) -> str:
    """Whose claim it is for grouping: nobody's for the outlet's own statements."""
    return "" if record["kind"] == "statement" else str(record["speaker_canonical"] or record["speaker"])


class ElasticStories:
    """Story records in <prefix>-stories, and story ids on the documents."""

    def __init__(self, index: ElasticIndex) -> None:
        self.index = index

    def update_many(self, items: Sequence[tuple[Document, Mapping[str, tuple[int, str]]]]) -> None:
        for doc, labels in items:
            self.update(doc, labels)

    def update(self, doc: Document, labels: Mapping[str, tuple[int, str]]) -> None:
        """Apply story labels (doc -> (generation, story id)) and `doc`'s versions."""
        self._apply(labels, {v: doc.id for v in doc.versions})

    def mark_copies(self, shown_of: Mapping[str, str]) -> None:
        """Point each copy (key) at the copy search shows instead (value); copies not
        indexed yet are left alone: their own index task asks the near-duplicate store
        (`NearDuplicates.shown_instead`) after writing them."""
        self._apply({}, shown_of)

    def _apply(self, labels: Mapping[str, tuple[int, str]], shown_of: Mapping[str, str]) -> None:
        ids = sorted(set(labels) | set(shown_of))
        if not ids:
            return
        with translated_errors("stories update"):
            found = self.index.es.mget(
                index=self.index.alias(), ids=ids, source_includes=["story_id", "story_gen"]
            )["docs"]
        stored = {d["_id"]: d["_source"] for d in found if d.get("found")}
        touched: set[str] = set()
        actions = []
        for doc_id, (gen, story) in sorted(labels.items()):
            current = stored.get(doc_id)
            if current is None or (current.get("story_gen") or 0) > gen:
                continue  # not indexed yet (its own index task labels it), or a newer grouping won
            touched |= {story, current.get("story_id") or story}
            actions.append(self._update(doc_id, {"story_id": story, "story_gen": gen}))
        for copy, shown in sorted(shown_of.items()):
            if copy in stored:  # an older version or a copy: search lists the shown one only
                touched.add(stored[copy].get("story_id") or "")
                actions.append(self._update(copy, {"duplicate_of": shown}))
        refused = self.index.refreshing().bulk(actions)
        if refused:
            raise BadInput(f"documents index refused a story update: {refused[0][1]}")
        for story in sorted(touched - {""}):
            self._rebuild(story)

    def _update(self, doc_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return {"_op_type": "update", "_index": self.index.alias(), "_id": doc_id, "doc": change}

    def _rebuild(self, story: str) -> None:
        from pipeline.stories.record import to_story_record

        bodies = [
            {**from_es_source(d), "raw_text": ""}
            for d in self.index.scan("documents", {"term": {"story_id": story}})
        ]
        if not bodies:
            with translated_errors("stories update"):
                self.index.es.options(ignore_status=404).delete(index=self.index.alias("stories"), id=story)
            return
        self.index.write_records("stories", [to_story_record(story, bodies)])

    def all(self) -> Iterator[dict[str, Any]]:
        """Every story record, the biggest first, then the most recent."""
        records = [from_es_source(r, "stories") for r in self.index.scan("stories", {"match_all": {}})]
        records.sort(key=lambda r: r["id"])
        records.sort(key=lambda r: r["last_seen"], reverse=True)
        yield from sorted(records, key=lambda r: -r["n_documents"])

    def get(self, story_id: str) -> dict[str, Any] | None:
        return self.index.get(story_id, kind="stories")

    def story_of(self, doc_id: str) -> str:
        body = self.index.get(doc_id)
        return str(body.get("story_id", "")) if body else ""
