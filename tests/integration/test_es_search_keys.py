"""Against a live Elasticsearch: documents indexed before searches by name existed are
found by name once `newsflow reindex documents` has rebuilt them.

Documents template version 2 adds `entity_keys`, `name_keys` and `speaker_keys`, which
Python computes (pipeline/search/names.py): a server-side copy cannot. On an index built
from version 1 (no such fields, records without them), `es setup` installs version 2 and
`reindex` copies the records and then gives each its keys, so "Sibiga" finds the article
that wrote "Sybiha", as on a fresh index.
"""

from __future__ import annotations

import pytest

from pipeline.elastic.admin import check, check_problems, reindex, setup
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import alias_name, load_template, to_es_body
from tests.factories import make_document, make_entity
from tests.live_es import client_for, drop_prefix, new_prefix

pytestmark = pytest.mark.elasticsearch
KEYS = ("entity_keys", "name_keys", "speaker_keys")


def test_reindex_gives_documents_from_an_older_template_their_search_keys(es_url: str) -> None:
    prefix = new_prefix()
    es = client_for(es_url, prefix)
    alias = alias_name(prefix, "documents")
    old = load_template("documents", prefix)
    old["version"] = old["template"]["mappings"]["_meta"]["template_version"] = 1
    for key in KEYS:
        del old["template"]["mappings"]["properties"][key]
    docs = [
        make_document(
            "a",
            id="a",
            title="Minister in Brussels",
            text="Andrii Sybiha met allies.",
            entities=(make_entity("Andrii Sybiha", variants=("Andrii Sybiha",)),),
        ),
        make_document(
            "b",
            id="b",
            title="Talks",
            text="Sibiga said talks would go on.",
            entities=(make_entity("Sibiga", variants=("Sibiga",)),),
        ),
        make_document(
            "c",
            id="c",
            title="Weather",
            text="Rain in Kyiv.",
            entities=(make_entity("Kyiv", "GPE", variants=("Kyiv",)),),
        ),
    ]
    try:
        setup(es, prefix, kinds=("claims", "stories"))
        es.indices.put_index_template(
            name=alias, meta=old["_meta"], **{k: v for k, v in old.items() if k != "_meta"}
        )
        es.indices.create(index=f"{alias}-v1", aliases={alias: {"is_write_index": True}})
        for doc in docs:  # as a version 1 worker wrote them
            body = {
                k: v
                for k, v in to_es_body(doc, indexed_at="2024-12-04T10:00:00+00:00").items()
                if k not in KEYS
            }
            es.index(index=alias, id=doc.id, document=body, refresh=True)

        assert f"template {alias}: version 2 installed" in setup(es, prefix)
        problems = check_problems(check(es, prefix))
        assert any("file is 2; run `newsflow reindex documents`" in p for p in problems)
        index = ElasticIndex(es, prefix=prefix, refresh=True)
        assert {h["id"] for h in index.search("Kyiv")} == {"c"}  # words still match

        reindex(es, prefix, "documents")
        assert check_problems(check(es, prefix)) == []
        assert {h["id"] for h in index.search("Sibiga")} == {"a", "b"}
        assert {h["id"] for h in index.search("person:Sybiha")} == {"a", "b"}
        for doc in docs:
            assert set(KEYS) <= set(es.get(index=alias, id=doc.id)["_source"])
            assert not set(KEYS) & set(index.get(doc.id) or {})  # records come back as written
    finally:
        drop_prefix(es, prefix)
        es.close()
