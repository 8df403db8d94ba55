"""`newsflow claims`: who said what, which outlets reported it, where they disagree (does I/O).

Groups are read from the claims table or index (pipeline/sqlite/claims.py,
pipeline/elastic/claims.py), which the write path keeps up to date with the groups it
plans for each batch (pipeline/claims/plan.py), so the answer does not depend on the
order the articles arrived in. `--json` prints JSON Lines:
one object per claim group (or per claim with --search).
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape

console = Console(highlight=False)


def claims_table() -> Any:
    from workers.resources import get_claims_table

    table = get_claims_table()
    if table is None:
        raise click.ClickException(
            "claims are listed from the embedded index (NEWSFLOW_INDEX_BACKEND=sqlite); "
            "with Elasticsearch, query the newsflow-claims index"
        )
    return table


@click.command()
@click.option(
    "--speaker",
    default="",
    help="Only this speaker: a name in any spelling (Sibiga finds Andrii Sybiha's claims), "
    "or part of the name, any case.",
)
@click.option("--conflicts", is_flag=True, help="Only groups whose reports disagree on a figure.")
@click.option(
    "--search",
    "query",
    default="",
    help="Search claims by their words and speaker instead of listing groups; names in any spelling.",
)
@click.option("--min-sources", type=int, default=0, help="Only groups reported by at least N sources.")
@click.option("--statements", is_flag=True, help="Include the outlets' own statements of figures.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group (per claim with --search).")
def claims(
    speaker: str, conflicts: bool, query: str, min_sources: int, statements: bool, limit: int, as_json: bool
) -> None:
    """Claims grouped across documents: speaker, what was said, sources, conflicting figures."""
    from pipeline.search.claims import speaker_names
    from workers.cli_common import print_json

    table = claims_table()
    names = speaker_names(speaker, _names_index()) if speaker else []
    if query:
        hits = [
            h
            for h in find_claims(table, query, limit=limit)
            if not names
            or any(n.casefold() in (h["speaker_canonical"] or h["speaker"]).casefold() for n in names)
        ]
        print_hits(hits, as_json=as_json)
        return
    kinds = ("direct", "reported", "statement") if statements or conflicts else ("direct", "reported")
    found: dict[str, dict[str, Any]] = {}
    for name in names or [""]:  # each name the speaker goes by
        for g in table.groups(speaker=name, conflicts=conflicts, min_sources=min_sources, kinds=kinds):
            found.setdefault(g["group"], g)
    groups = sorted(found.values(), key=lambda g: (-len(g["documents"]), g["speaker"], g["group"]))[:limit]
    for group in groups:
        if as_json:
            print_json(group)
        else:
            print_group(group)
    if not groups and not as_json:
        console.print("no claims" + (" with conflicting figures" if conflicts else ""))


def print_group(g: dict[str, Any]) -> None:
    flag = "  [bold red]CONFLICT[/]" if g["conflict"] else ""
    console.print(f"[bold]{escape(g['speaker'] or '(outlet)')}[/] [dim]{g['group']}[/]{flag}")
    console.print(f"   {escape(_short(g['text']))}")
    console.print(f"   [dim]{len(g['documents'])} documents: {escape(', '.join(g['outlets']) or '')}[/]")
    for source in g["sources"]:
        console.print(f"   [dim]- {escape(source)}[/]")
    if g["conflict"] or g["figures"]:
        figures = "; ".join(f"{f['text']} ({f['doc_id'][:8]})" for f in g["figures"])
        console.print(f"   figures: {escape(figures)}")


def print_claim(c: dict[str, Any]) -> None:
    who = c["speaker_canonical"] or c["speaker"] or "(outlet)"
    console.print(
        f"[bold]{escape(who)}[/] ({c['kind']}, {escape(c['cue'] or '-')}) "
        f"[dim]{c['group']} {c['doc_id'][:12]}[/]"
    )
    console.print(f"   {escape(_short(c['text']))}")


def _short(text: str, width: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def search_claims(query: str, *, limit: int, as_json: bool) -> None:
    """`newsflow search --claims QUERY`: claims whose text or speaker match."""
    print_hits(find_claims(claims_table(), query, limit=limit), as_json=as_json)


def find_claims(table: Any, query: str, *, limit: int) -> list[dict[str, Any]]:
    """Claims matching `query` with its names in every spelling (pipeline/search/claims.py):
    the hits of the query as typed first, then those of each other spelling."""
    from pipeline.search.claims import claim_queries
    from pipeline.search.query import QueryError

    try:
        queries = claim_queries(query, _names_index())
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
    found: dict[str, dict[str, Any]] = {}
    for words in queries:
        for hit in table.search(words, limit=limit):
            found.setdefault(hit["id"], hit)
    return list(found.values())[:limit]


def _names_index() -> Any:
    from workers.resources import get_index

    return get_index()


def print_hits(hits: list[dict[str, Any]], *, as_json: bool) -> None:
    """Claims found by a search: one JSON object per line, or one readable line each."""
    from workers.cli_common import print_json

    for hit in hits:
        if as_json:
            print_json(hit)
        else:
            print_claim(hit)
    if not hits and not as_json:
        console.print("no claims match")
