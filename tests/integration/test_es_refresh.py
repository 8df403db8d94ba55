"""Against a live Elasticsearch: the documents, claims and stories indices are refreshed
when someone searches them, not every second while workers write (config/elasticsearch/).

Their templates leave `refresh_interval` unset: a shard nobody has searched for
`index.search.idle.after` (30 s by default; 1 s here, to keep the test short) is not
refreshed on a schedule, and the next search waits for a refresh, so it sees every
write before it. A refresh per second on each index cost the node CPU that the
workers need when they share its machine (docs/PRODUCTION.md, "Speed").
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from config.settings import Settings
from pipeline.elastic.admin import setup
from pipeline.elastic.client import make_client
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import KINDS, alias_name
from tests.factories import make_document

pytestmark = pytest.mark.elasticsearch

RECORDS = {
    "documents": lambda n: make_document(f"article number {n}", id=f"d-{n}"),
    "claims": lambda n: {"id": f"c-{n}", "doc_id": "d-1", "kind": "direct", "text": f"claim number {n}"},
    "stories": lambda n: {"id": f"s-{n}", "title": f"story number {n}", "n_documents": 1},
}


@pytest.fixture(scope="module")
def index(es_url: str) -> Iterator[ElasticIndex]:
    prefix = f"nftest-{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if k.startswith("NEWSFLOW_ES_")}
    env["NEWSFLOW_ES_URLS"] = es_url
    es = make_client(Settings.from_env(env))
    setup(es, prefix)
    yield ElasticIndex(es, prefix=prefix)  # writes do not wait for a refresh, as the workers'
    for name in sorted(es.indices.get(index=f"{prefix}-*").body):
        es.indices.delete(index=name)
    for kind in KINDS:
        es.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))
    es.close()


def refreshes(es: Any, alias: str) -> int:
    stats = es.indices.stats(index=alias, metric="refresh").body["_all"]["primaries"]
    return int(stats["refresh"]["total"])


@pytest.mark.parametrize("kind", ["documents", "claims", "stories"])
def test_not_refreshed_while_nobody_searches_and_a_search_sees_every_write(
    index: ElasticIndex, kind: str
) -> None:
    es, alias = index.es, index.alias(kind)
    (settings,) = es.indices.get_settings(index=alias).body.values()
    assert "refresh_interval" not in settings["settings"]["index"]  # not even "1s"
    es.indices.put_settings(index=alias, settings={"index": {"search.idle.after": "1s"}})
    time.sleep(1.5)  # nobody searched it for longer than that: search-idle
    before = refreshes(es, alias)
    for n in range(5):  # a writer's batches, a few tenths of a second apart
        record = RECORDS[kind](n)
        assert (index.write([record]) if kind == "documents" else index.write_records(kind, [record])) == []
        time.sleep(0.4)
    assert refreshes(es, alias) == before  # a refresh every second would have run twice
    found = es.search(index=alias, query={"match_all": {}}, size=10).body["hits"]["hits"]
    assert sorted(h["_id"] for h in found) == [f"{kind[0]}-{n}" for n in range(5)]
