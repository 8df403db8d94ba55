"""Shared state across workers, in Redis (does I/O): the ledger of sources, the entity
registry, claim groups, the story store with its near duplicates, and per-outlet line counts.

Inside this package `import redis` is the redis library (imports are absolute).
"""
