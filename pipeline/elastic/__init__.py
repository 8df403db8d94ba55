"""The production index: Elasticsearch (does I/O). Layout on the cluster:

    alias <prefix>-documents -> index <prefix>-documents-v1  (config/elasticsearch/documents.json)
    alias <prefix>-claims    -> index <prefix>-claims-v1     (claims.json)
    alias <prefix>-stories   -> index <prefix>-stories-v1    (stories.json)

Every write goes through the alias, which is what lets `reindex` build `-v2` and switch
the alias in one atomic step.

    client.py     make_client, translated_errors (faults -> TransientError), error_reason
    records.py    templates and aliases; records as stored (to_es_body, to_es_record,
                  from_es_source), dates (pure)
    documents.py  ElasticIndex: bulk writes, get, scan, count, search
    search.py     the search request and its hits (pure)
    claims.py     ElasticClaims: claim records, persisting claim-group plans
    stories.py    ElasticStories: story records and story ids on the documents
    admin.py      setup, check, check_problems, reindex, mapping coverage
"""
