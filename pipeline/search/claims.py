"""Names in a claims search, resolved as in a document search (pure, given a NameIndex).

The claims table and index search words (every word must match, in the claim's text or
its speaker). A name typed in any spelling must still find the claims of that person or
about that place, so before the claims store is asked, the query is resolved against the
document index's name keys (pipeline/search/plan.py) and asked in each spelling:

    claim_queries("Sibiga troops", index) -> ["sibiga troops", "andrii sybiha troops", ...]

and a speaker filter becomes the canonical names it means:

    speaker_names("Sibiga", index) -> ["Andrii Sybiha"]
"""

from __future__ import annotations

import itertools

from pipeline.search import plan as sp
from pipeline.search import query as q
from pipeline.search.names import key_name, pick, query_forms

MAX_QUERIES = 12


def claim_queries(text: str, index: sp.NameIndex) -> list[str]:
    """The word queries to ask the claims store for `text`, the query as typed first."""
    query = q.parse(text)
    if any(not isinstance(c, q.Words) for c in query.clauses):
        raise q.QueryError(
            "a claims search takes words and names only: use --speaker for the "
            "speaker, and `newsflow search` for OR, '-' and field filters"
        )
    alternatives: list[tuple[str, ...]] = []
    for node in sp.plan(query, index).clauses:
        if isinstance(node, sp.Entity):
            alternatives.append(tuple(dict.fromkeys((*node.phrases, *node.marks))))
        elif isinstance(node, sp.Text):
            alternatives.append(node.phrases)
    typed = " ".join(c.text for c in query.clauses if isinstance(c, q.Words)).lower()
    combos = (" ".join(c) for c in itertools.product(*alternatives))
    return list(dict.fromkeys([typed, *itertools.islice(combos, MAX_QUERIES)]))


def speaker_names(typed: str, index: sp.NameIndex) -> list[str]:
    """The canonical names of the people and organisations `typed` names; `typed` itself
    (a part of a speaker's name, any case) when it names none."""
    forms = query_forms(typed)
    keys = pick(typed, index.lookup(forms), ("person", "org")) if forms else []
    return [key_name(k) for k in keys] or [typed]
