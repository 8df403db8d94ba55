"""Commands for operators: status, sources, failed, retry (does I/O).

`status` reads the queues and the ledger straight from Redis and asks the workers
over Celery's control channel; `sources` answers "where is my file?"; `failed` lists
the dead letters and `retry` sends them through again from their original input.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from config.celery import QUEUES
from pipeline.redis.ledger import STATES
from workers.cli_common import (
    broker_session,
    console,
    err,
    load_settings,
    local_broker,
    note_if_no_worker,
    print_json,
)


def queue_report(r: Any) -> dict[str, dict[str, Any]]:
    """Depth and oldest waiting age (seconds) per queue, read from Redis lists."""
    report = {}
    now = time.time()
    for queue in QUEUES:
        depth = int(r.llen(queue))
        oldest: float | None = None
        if depth:
            raw = r.lindex(queue, -1)  # kombu pushes on the left and pops on the right
            try:
                sent = json.loads(raw)["headers"].get("sent_at")
                oldest = round(now - float(sent), 1) if sent else None
            except (ValueError, KeyError, TypeError):
                oldest = None
        report[queue] = {"depth": depth, "oldest_s": oldest, "consumers": 0}
    return report


def collect_status() -> dict[str, Any]:
    from workers.app import app
    from workers.resources import get_ledger, get_redis

    queues = queue_report(get_redis())
    inspect = app.control.inspect(timeout=1.0)
    # Each broadcast waits out its whole timeout: ask the three questions at once.
    with ThreadPoolExecutor(3) as pool:
        stats_f, active_f, queues_f = (
            pool.submit(fn) for fn in (inspect.stats, inspect.active, inspect.active_queues)
        )
        stats, active, active_queues = (f.result() or {} for f in (stats_f, active_f, queues_f))
    workers = {}
    for name, info in stats.items():
        workers[name] = {
            "concurrency": info.get("pool", {}).get("max-concurrency"),
            "active": [t.get("name") for t in active.get(name, [])],
        }
        for q in active_queues.get(name, []):
            if q.get("name") in queues:
                queues[q["name"]]["consumers"] += 1
    ledger = get_ledger()
    counts = ledger.counts()
    recent = ledger.recent(3600)
    return {
        "queues": queues,
        "workers": workers,
        "documents": counts,
        "last_hour": {k: recent.get(k, 0) for k in ("done", "duplicate", "failed", "retried")},
        "dead_letters": counts.get("failed", 0),
    }


def _render(data: dict[str, Any]) -> Table:
    table = Table("queue", "depth", "oldest waiting", "consumers", title="Newsflow")
    for name, q in data["queues"].items():
        table.add_row(
            name, str(q["depth"]), "-" if q["oldest_s"] is None else f"{q['oldest_s']}s", str(q["consumers"])
        )
    table.add_section()
    for name, w in data["workers"].items():
        busy = ", ".join(w["active"]) or "idle"
        table.add_row(f"worker {name}", f"×{w['concurrency']}", busy, "")
    if not data["workers"]:
        table.add_row("workers", "none online", "", "")
    table.add_section()
    inputs = "  ".join(f"{k} {v}" for k, v in data["documents"].items() if v) or "none"
    table.add_row("inputs", inputs, "", "")
    table.add_row("last hour", "  ".join(f"{k} {v}" for k, v in data["last_hour"].items()), "", "")
    table.add_row("dead letters", str(data["dead_letters"]), "`newsflow failed`", "")
    return table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
@click.option("--watch", is_flag=True, help="Refresh every 2 seconds until Ctrl-C.")
def status(as_json: bool, watch: bool) -> None:
    """Queues (depth, oldest waiting, consumers), workers and their tasks, inputs by state."""
    with broker_session(load_settings()):
        if as_json:
            print_json(collect_status())
            return
        if not watch:
            console.print(_render(collect_status()))
            return
        from rich.live import Live

        try:
            with Live(_render(collect_status()), console=console, refresh_per_second=1) as live:
                while True:
                    time.sleep(2)
                    live.update(_render(collect_status()))
        except KeyboardInterrupt:
            pass


@click.command()
@click.option("--state", type=click.Choice(list(STATES)), help="Only inputs in this state.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input.")
def sources(state: str | None, as_json: bool) -> None:
    """Every input ever received, with its state and document or failure reason."""
    with broker_session(load_settings()):
        from workers.resources import get_ledger

        records = sorted(get_ledger().all(state), key=lambda r: r.updated)
    if as_json:
        for r in records:
            print_json(r.to_dict())
        return
    table = Table("state", "source", "document / reason")
    for r in records:
        detail = r.reason if r.state == "failed" else (r.document[:12] or r.reason)
        table.add_row(r.state, escape(r.source), escape(detail))  # text, not markup: reasons name [fields]
    console.print(table)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per failed input.")
def failed(as_json: bool) -> None:
    """The dead letters: inputs that failed for good, with stage, reason and attempts."""
    with broker_session(load_settings()):
        from workers.resources import get_ledger

        records = sorted(get_ledger().all("failed"), key=lambda r: r.updated)
    if as_json:
        for r in records:
            print_json(r.to_dict())
        return
    if not records:
        console.print("no failed inputs")
    for r in records:
        console.print(
            f"{r.id}  {r.source}\n    {r.stage or '-'} after {r.attempts} attempt(s): {r.reason}",
            markup=False,
        )


@click.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed input.")
def retry(ids: tuple[str, ...], retry_all: bool) -> None:
    """Send failed inputs through again, from their original file or URL.

    On the embedded default with no worker running, processes them here as `newsflow run`
    does (and summarises); otherwise queues them for the running workers.
    """
    if not ids and not retry_all:
        raise click.UsageError("give failure ids (see `newsflow failed`) or --all")
    settings = load_settings()
    with local_broker(settings) as broker:
        records = _retryable(ids, retry_all)
        if broker.owned and records:  # we just started the private Redis: no worker runs
            from workers.cli import process_here

            err.print(f"retrying {len(records)}: processing here (no worker was running)")
            process_here(settings, broker, lambda: ([_send_again(r) for r in records], set()))
            return
        for record in records:
            _send_again(record)
        console.print(f"retrying {len(records)}")
        if records:
            note_if_no_worker(len(records))


def _retryable(ids: tuple[str, ...], retry_all: bool) -> list[Any]:
    """The failed inputs to send again; says why for each one that is not."""
    from workers.resources import get_ledger

    ledger = get_ledger()
    records = list(ledger.all("failed")) if retry_all else [ledger.find(i) for i in ids]
    found = []
    for wanted, record in zip(ids or [r.source for r in records if r is not None], records, strict=True):
        if record is None or record.state != "failed":
            console.print(f"{wanted}: not a failed input (see `newsflow failed`)", markup=False)
        elif record.kind != "url" and not Path(record.source).exists():
            console.print(f"{record.source}: the file is gone; drop it again to retry", markup=False)
        else:
            found.append(record)
    return found


def _send_again(record: Any) -> str:
    from workers.tasks import enqueue_files, enqueue_url

    if record.kind == "url":
        return enqueue_url(record.source)
    return enqueue_files([Path(record.source)])[0]
