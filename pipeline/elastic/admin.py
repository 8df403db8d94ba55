"""Setting up, checking and rebuilding the indices, and checking records against their
mappings (does I/O, but for the pure `check_problems` and `mapping_problems`).

`setup` installs the templates and creates <alias>-v1 behind each alias; `reindex`
builds <alias>-v<n+1> and switches the alias in one atomic step.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers

from pipeline.elastic.client import translated_errors
from pipeline.elastic.records import (
    DEFAULT_PREFIX,
    KINDS,
    alias_name,
    iso_date,
    load_template,
    with_search_keys,
)

# A reindex copies what was written before it started; writes that land in the old index
# while it runs are copied again afterwards. This margin covers clock skew between workers.
CATCH_UP_MARGIN = timedelta(minutes=2)


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
        if kind == "documents":
            _fill_search_keys(es, new)
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old]
        actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
        es.indices.update_aliases(actions=actions)
        caught_up = _catch_up(es, old, new, since=started)
        if kind == "documents":
            _fill_search_keys(es, new)  # what an older worker wrote meanwhile
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


def _fill_search_keys(es: Elasticsearch, index: str) -> int:
    """Give documents copied from an index built before search keys existed their keys
    (computed in Python: pipeline/search/names.py), unless a newer write came meanwhile."""
    es.indices.refresh(index=index)
    query = {
        "query": {"bool": {"must_not": [{"exists": {"field": "name_keys"}}]}},
        "seq_no_primary_term": True,
    }
    actions = (
        {
            "_index": index,
            "_id": hit["_id"],
            "_source": with_search_keys(hit["_source"]),
            "if_seq_no": hit["_seq_no"],
            "if_primary_term": hit["_primary_term"],
        }
        for hit in helpers.scan(es, index=index, query=query)
    )
    filled = 0
    for ok, item in helpers.streaming_bulk(es, actions, raise_on_error=False, chunk_size=500):
        result = item["index"]
        if not ok and result.get("status") != 409:  # 409: written again meanwhile, keys and all
            raise RuntimeError(f"search keys for {result.get('_id')} refused: {result.get('error')}")
        filled += ok
    return filled


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
