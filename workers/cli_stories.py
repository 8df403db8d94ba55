"""`newsflow stories` and `newsflow show STORY_ID`: the events the index holds (does I/O).

Stories come from `get_story_index()`: the embedded stories table
(pipeline/sqlite/stories.py) or, with Elasticsearch, the stories index; the
index task keeps either up to date. Every `--json` output is JSON Lines.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

console = Console(highlight=False)


def _story_index() -> Any:
    from workers.resources import get_story_index

    index = get_story_index()
    if index is None:
        raise click.ClickException(
            "stories are listed from the embedded index (NEWSFLOW_INDEX_BACKEND=sqlite)"
        )
    return index


def _line(record: dict[str, Any]) -> str:
    outlets = ", ".join(record["outlets"]) or "outlet unknown"
    return (
        f"[bold]{escape(record['title'] or '(untitled)')}[/]  [dim]{record['id'][:14]}[/]\n"
        f"   {record['n_documents']} documents, {escape(outlets)}; "
        f"{record['n_claims']} claims ({record['n_conflicting_claims']} conflicting)"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per story.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many stories.")
def stories(as_json: bool, limit: int) -> None:
    """Stories (events), the biggest first: title, documents, outlets, claims."""
    records = list(_story_index().all())[:limit]
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    if not records:
        console.print("no stories yet")
    for n, record in enumerate(records, 1):
        console.print(f"{n}. " + _line(record))


def show_story(story_id: str, as_json: bool) -> None:
    """The story record and its documents (called by `newsflow show s-…`)."""
    record = _story_index().get(story_id)
    if record is None:
        raise click.ClickException(f"no story {story_id!r}; try `newsflow stories`")
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
        return
    console.print(_line(record))
    seen = f"{record['first_seen']} – {record['last_seen']}" if record["first_seen"] else "dates unknown"
    console.print(f"   seen {seen}")
    console.print("   top entities: " + escape(", ".join(e["name"] for e in record["top_entities"])))
    from workers.resources import get_index

    index = get_index()
    for doc_id in record["documents"]:
        body = index.get(doc_id) or {}
        mark = f" (copy of {body['duplicate_of'][:12]})" if body.get("duplicate_of") else ""
        console.print(
            f" - {doc_id[:12]}  {escape(body.get('outlet') or '')}  {escape(body.get('title') or '')}{mark}"
        )
