"""The production index: Elasticsearch (does I/O)."""
