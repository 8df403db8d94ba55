"""`newsflow entities`: the canonical entities of the cross-document registry (does I/O).

The registry lives in Redis (NEWSFLOW_REDIS_URL, else the private Redis of
NEWSFLOW_HOME, started for the command and stopped after); `--json` is JSON Lines.
"""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from workers.cli_common import broker_session, console, load_settings, print_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entity.")
@click.option("--type", "label", default=None, help="Only this type: PERSON, ORG, GPE, ...")
@click.option(
    "--min-documents",
    type=int,
    default=1,
    show_default=True,
    help="Only entities found in at least N documents.",
)
def entities(as_json: bool, label: str | None, min_documents: int) -> None:
    """Canonical entities, the most widely reported first: type, variants, documents."""
    with broker_session(load_settings()):
        from workers.resources import get_entity_registry

        rows = get_entity_registry().entities()
    rows = [r for r in rows if r["documents"] >= min_documents and (not label or r["type"] == label)]
    rows.sort(key=lambda r: (-r["documents"], r["canonical"]))
    if as_json:
        for row in rows:
            print_json(row)
        return
    if not rows:
        console.print("no entities yet")
        return
    table = Table("entity", "type", "documents", "variants")
    for row in rows:
        table.add_row(
            escape(row["canonical"]), row["type"], str(row["documents"]), escape(", ".join(row["variants"]))
        )
    console.print(table)
