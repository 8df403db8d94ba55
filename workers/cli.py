"""The `newsflow` command line (does I/O).

Every `--json` output is JSON Lines: one object per line. All state lives under
NEWSFLOW_HOME (default ./.newsflow). Commands that need Redis use NEWSFLOW_REDIS_URL,
else the private Redis of that home, started on demand and stopped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from config.settings import Settings
from workers.cli_common import (
    Broker,
    broker_session,
    console,
    err,
    is_url,
    load_settings,
    local_broker,
    note_if_no_worker,
    print_json,
)
from workers.cli_errors import IndexErrors, check_index
from workers.cli_problems import Commands


class _Commands(Commands, IndexErrors):
    """Elasticsearch faults in IndexErrors' words, every other failure in Commands'."""


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsflow", message="newsflow %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    help="Show an error's traceback (otherwise one line says what is wrong and what to do).",
)
def main(debug: bool) -> None:
    """Newsflow: news ingestion into a searchable, enriched index."""
    from config.logging import configure_logging

    configure_logging(load_settings())


# --------------------------------------------------------------------------- run
@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--watch", is_flag=True, help="Keep watching the folders afterwards until Ctrl-C.")
@click.option(
    "--workers",
    "n_workers",
    type=int,
    default=1,
    show_default=True,
    help="Worker processes to start (each with NEWSFLOW_CONCURRENCY children).",
)
@click.option("--timeout", type=float, default=0, help="Give up after this many seconds (0: never).")
def run(inputs: tuple[str, ...], watch: bool, n_workers: int, timeout: float) -> None:
    """Process files, folders and URLs end to end on this machine, then summarise.

    Starts (or reuses) the private Redis and real worker processes, queues every input
    not already done in its current version, waits until each is indexed or failed, and
    stops what it started. Ctrl-C stops taking work, lets the running tasks finish (or
    gives them back to the queue), stops the workers, then Redis, and exits 130; running
    the same command again finishes what was left.
    """
    settings = load_settings()
    check_index(settings)  # an unreachable or unset-up Elasticsearch: one line, before any work
    folders = [Path(i) for i in inputs if not is_url(i) and Path(i).is_dir()] if watch else None
    with local_broker(settings) as broker:
        process_here(
            settings,
            broker,
            lambda: _submit_all(inputs, resume=True),
            n_workers=n_workers,
            timeout=timeout,
            watch=folders,
        )


def process_here(
    settings: Settings,
    broker: Broker,
    queue: Callable[[], tuple[list[str], set[str]]],
    *,
    n_workers: int = 1,
    timeout: float = 0,
    watch: list[Path] | None = None,
) -> None:
    """`newsflow run` on `broker`: start worker processes, call `queue()` (the sources it
    queued, and those of them done already), wait for each and summarise, then stop the
    workers; watch `watch` folders in between. Exits 1 if an input failed; on Ctrl-C or
    SIGTERM, stops in order and exits 128 + the signal's number."""
    from workers.local import STOP_GRACE_S, WorkerProcesses, requeue_unacked
    from workers.resources import get_redis

    started = time.monotonic()
    failed = 0
    stopped: Stopped | None = None
    sources: list[str] = []
    pool = WorkerProcesses(settings, broker.url, processes=n_workers)
    try:
        _install_stop_signals()
        pool.start()
        sources, unchanged = queue()
        failed = _wait_and_summarise(sources, pool, started, timeout, unchanged=unchanged)
        if watch is not None:
            _watch_folders(watch, settings)
    except Stopped as exc:
        stopped = exc
    finally:
        # A second Ctrl-C while the workers finish kills them at once.
        _install_stop_signals(on_stop=pool.kill)
        if stopped is not None:
            err.print("stopping: the workers finish or give back their tasks, then Redis stops")
        pool.stop(STOP_GRACE_S)
        if broker.owned:
            requeue_unacked(get_redis())
    if stopped is not None:
        _report_left(sources)
        sys.exit(128 + stopped.signum)  # the broker's session stops Redis on the way out
    if failed:
        sys.exit(1)


class Stopped(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM, raised in the main thread by our own handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _install_stop_signals(on_stop: Any = None) -> None:
    """SIGINT and SIGTERM raise `Stopped` (or call `on_stop`): handled here, on purpose,
    rather than inherited by the children, which run in sessions of their own."""

    def handler(signum: int, _frame: Any) -> None:
        if on_stop is not None:
            on_stop()
            return
        raise Stopped(signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _report_left(sources: list[str]) -> None:
    """After Ctrl-C: where this run's inputs stand, and how to finish them."""
    from workers.resources import get_ledger

    counts: dict[str, int] = {}
    for record in get_ledger().get_many(sources):
        state = record.state if record is not None else "queued"
        counts[state] = counts.get(state, 0) + 1
    states = "  ".join(f"{state} {n}" for state, n in sorted(counts.items()))
    err.print(f"interrupted: {states or 'nothing queued yet'}")
    if counts.get("queued") or counts.get("processing"):
        err.print("run the same command again to finish the rest (done inputs are not processed again)")


def _submit_all(inputs: tuple[str, ...], *, resume: bool = False) -> tuple[list[str], set[str]]:
    """Queue the inputs; returns every source, and (with `resume`) those done already in
    their current version. With `resume`, neither these nor inputs already waiting in a
    queue (an interrupted run's) are queued again."""
    from config.celery import QUEUES
    from pipeline.redis.ledger import FINAL_STATES
    from workers.local import waiting_sources
    from workers.resources import get_ledger, get_redis
    from workers.tasks import enqueue_files, enqueue_url
    from workers.watcher import candidate_files, forget_gone, inside

    paths: list[Path] = []
    urls: list[str] = []
    for item in inputs:
        if is_url(item):
            urls.append(item)
        elif Path(item).exists():
            paths.append(Path(item))
        else:
            raise click.ClickException(f"{item}: no such file or folder (and not a URL)")
    forget_gone(get_ledger(), [p for p in paths if p.is_dir()])  # files removed from these folders
    sources: list[str] = []
    files = []
    for path, root in candidate_files(paths):
        if path.is_symlink() and not inside(path, root):
            reason = "symlink pointing outside the watched folder (not followed)"
            record = get_ledger().mark(str(path.absolute()), "failed", reason=reason, stage="submit")
            sources.append(record.source)
            continue
        files.append(path)
    done: set[str] = set()
    waiting: set[str] = set()
    if resume:
        from pipeline.sources.files import fingerprint

        queued = waiting_sources(get_redis(), QUEUES)
        records = get_ledger().get_many([str(p.absolute()) for p in files])
        for path, found in zip(list(files), records, strict=True):
            if found is None:
                continue
            with contextlib.suppress(OSError):
                if found.fingerprint != fingerprint(path):
                    continue  # a new version
            if found.state in FINAL_STATES - {"failed"}:
                done.add(found.source)
            elif found.source in queued:
                waiting.add(found.source)
            else:
                continue
            files.remove(path)
        waiting.update(url for url in urls if url in queued)
    sources += [enqueue_url(url) for url in urls if url not in waiting]
    return sources + sorted(done | waiting) + enqueue_files(files), done


def _wait_and_summarise(
    sources: list[str],
    pool: Any,
    started: float,
    timeout: float,
    *,
    unchanged: set[str] | frozenset[str] = frozenset(),
) -> int:
    from pipeline.errors import TransientError
    from pipeline.redis.ledger import FINAL_STATES
    from pipeline.sources.files import URL_LIST_SUFFIX, read_url_list
    from pipeline.write import carry_renames
    from workers.resources import get_claims_table, get_index, get_ledger, get_write_stores

    ledger = get_ledger()
    pending = list(sources)
    final: dict[str, Any] = {}
    columns = (TextColumn("[bold]processing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        bar = progress.add_task("docs", total=len(pending))
        while pending:
            for source in list(pending):
                record = ledger.get(source)
                if record is None or record.state not in FINAL_STATES:
                    continue
                pending.remove(source)
                final[source] = record
                progress.advance(bar)
                if source.endswith(URL_LIST_SUFFIX) and record.state == "done":
                    urls = read_url_list(Path(source))
                    pending.extend(urls)
                    progress.update(bar, total=(progress.tasks[0].total or 0) + len(urls))
            if not pending:
                break
            if pool.alive() == 0:
                raise click.ClickException("every worker process exited; see NEWSFLOW_HOME/logs/")
            if timeout and time.monotonic() - started > timeout:
                raise click.ClickException(f"timed out with {len(pending)} inputs unfinished")
            time.sleep(0.1)
    docs = {r.document for r in final.values() if r.document}
    entities = claims = 0
    distinct: set[tuple[str, str]] = set()
    groups: set[str] = set()
    unread = ""
    try:
        # Names improved while the workers wrote, not yet carried into the documents
        # (they rest between turns: NEWSFLOW_RENAME_EVERY_S), before anything is read.
        left = carry_renames(get_write_stores())
        if left:
            unread = f"  ({left} improved names not yet carried into the index; the next run carries them)"
        index = get_index()
        for doc_id in docs:
            body = index.get(doc_id) or {}
            entities += len(body.get("entities", []))
            claims += len(body.get("claims", []))
            distinct.update((e["canonical"], e["label"]) for e in body.get("entities", []))
        # The claims as `newsflow claims` lists them: grouped across documents, without the
        # outlets' own statements.
        if docs:
            groups = {
                g["group"]
                for g in get_claims_table().groups(kinds=("direct", "reported"))
                if docs.intersection(g["documents"])
            }
    except TransientError as exc:  # the index went away; the ledger still has every outcome
        unread += f"  (entity and claim counts not read: {exc})"
    counts: dict[str, int] = {}
    for record in final.values():
        if record.source not in unchanged:
            counts[record.state] = counts.get(record.state, 0) + 1
    failed = [r for r in final.values() if r.state == "failed"]
    elapsed = time.monotonic() - started
    console.print(
        f"processed {counts.get('done', 0)}  duplicates {counts.get('duplicate', 0)}  "
        f"skipped {counts.get('skipped', 0)}  failed {len(failed)}  "
        + (f"unchanged {len(unchanged)}  " if unchanged else "")
        + f"documents {len(docs)}  entities {entities} ({len(distinct)} distinct)  "
        f"claims {claims} ({len(groups)} groups)  time {elapsed:.1f}s" + unread
    )
    if unchanged:
        console.print(
            f"  unchanged: {len(unchanged)} inputs were done already in this version (not processed again)"
        )
    for record in failed:
        console.print(f"  failed: {record.source}: {record.reason}", markup=False)
    for record in final.values():
        if record.state == "skipped" and record.source not in unchanged:
            console.print(f"  skipped: {record.source}: {record.reason}", markup=False)
    return len(failed)


# ------------------------------------------------------------------------- watch
def _watch_folders(folders: list[Path], settings: Settings) -> None:
    from workers.resources import get_ledger
    from workers.tasks import enqueue_files
    from workers.watcher import FolderWatcher

    if not folders:
        raise click.ClickException("--watch needs at least one folder")
    ledger = get_ledger()
    outcomes = _Outcomes(ledger)

    def enqueue(paths: list[Path], more: int = 0) -> list[str]:
        sources = enqueue_files(paths, more=more)
        outcomes.add(sources)
        return sources

    def reject(path: Path, reason: str) -> None:
        outcomes.add([ledger.mark(str(path.absolute()), "failed", reason=reason, stage="watch").source])

    watcher = FolderWatcher(
        folders, ledger=ledger, enqueue=enqueue, reject=reject, settle=settings.watch_settle_s
    )
    err.print(f"watching {', '.join(map(str, folders))} (Ctrl-C to stop)")
    threading.Thread(target=outcomes.report, name="outcomes", daemon=True).start()
    try:
        watcher.run_forever()
    finally:
        outcomes.stop.set()


class _Outcomes:
    """While watching: one line per input as it ends (done with its document, or failed or
    skipped with the reason), so a failure is seen when it happens."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.pending: dict[str, None] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def add(self, sources: list[str]) -> None:
        with self.lock:
            self.pending.update(dict.fromkeys(sources))

    def report(self) -> None:
        from pipeline.redis.ledger import FINAL_STATES

        while not self.stop.wait(0.5):
            with self.lock:
                sources = list(self.pending)
            if not sources:
                continue
            for record in self.ledger.get_many(sources):
                if record is None or record.state not in FINAL_STATES:
                    continue
                with self.lock:
                    self.pending.pop(record.source, None)
                if record.state in ("done", "duplicate"):
                    console.print(
                        f"{record.state}: {record.source} (document {record.document[:12]})", markup=False
                    )
                else:
                    console.print(f"{record.state}: {record.source}: {record.reason}", markup=False)


@main.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
def watch(folders: tuple[Path, ...]) -> None:
    """Watch folders and queue new and changed files (workers run separately)."""
    settings = load_settings()
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    with broker_session(settings):
        _install_stop_signals()
        with contextlib.suppress(KeyboardInterrupt):
            _watch_folders(list(folders), settings)


# ------------------------------------------------------------------------ worker
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--concurrency", type=int, default=None, help="Child processes (default: setting).")
@click.option(
    "--queues", default="ingest,process,index", show_default=True, help="Comma-separated queues to consume."
)
@click.option("--hostname", default=None, help="Worker name (Celery's %h is the host name).")
@click.pass_context
def worker(ctx: click.Context, concurrency: int | None, queues: str, hostname: str | None) -> None:
    """Start a Celery worker with our app and settings (extra args go to celery).

    Without NEWSFLOW_REDIS_URL it works for the private Redis of NEWSFLOW_HOME (the one
    `newsflow run`, `submit` and `retry` use), started if none runs and stopped after.
    """
    settings = load_settings()
    if settings.metrics_port:
        from config.metrics import prepare_multiprocess_dir

        _check_port_free(settings.metrics_port, "NEWSFLOW_METRICS_PORT")
        prepare_multiprocess_dir(settings, hostname or f"worker-{settings.metrics_port}")
    argv = [
        "worker",
        "--loglevel",
        settings.log_level,
        "--queues",
        queues,
        "--concurrency",
        str(concurrency or settings.concurrency),
        "--without-gossip",
        "--without-mingle",
        *ctx.args,
    ]
    if hostname:
        argv += ["--hostname", hostname]
    if settings.log_format == "json":
        argv.insert(0, "--quiet")  # no ASCII-art banner among the JSON lines
    with broker_session(settings):
        from workers.app import app

        app.worker_main(argv)


def _check_port_free(port: int, setting: str) -> None:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError as exc:
            raise click.ClickException(
                f"port {port} ({setting}) is in use ({exc.strerror}): stop what "
                f"uses it or set {setting} to another port"
            ) from exc


# ------------------------------------------------------------------------ submit
@main.command()
@click.argument("inputs", nargs=-1, required=True)
def submit(inputs: tuple[str, ...]) -> None:
    """Queue files, folders and URLs for the running workers; do not wait."""
    settings = load_settings()
    with broker_session(settings):
        sources, _ = _submit_all(inputs)
        console.print(f"queued {len(sources)}")
        if sources:
            note_if_no_worker(len(sources))


# ------------------------------------------------------------------------ search
@main.command(context_settings={"ignore_unknown_options": True})  # "-Trump" is a word, not an option
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
@click.option("--limit", type=int, default=10, show_default=True, help="At most this many hits.")
@click.option("--claims", "in_claims", is_flag=True, help="Search claims (who said what) instead.")
def search(query: tuple[str, ...], as_json: bool, limit: int, in_claims: bool) -> None:
    """Search the index: title, outlet and a highlighted snippet per hit.

    \b
    A name in any spelling finds the entity: Kiev finds the articles that wrote
    Kyiv, Sibiga those that wrote Sybiha, Rutte those that wrote Mr Rutte; the
    articles that mention it come first. UK/US spelling, accents and case never
    decide a match (defence finds defense).
    \b
      Rutte Putin              both (every word must match)
      '"air defence systems"'  the words together, in this order
      Rutte OR Stoltenberg     either
      Rutte -Trump             leave out the articles that mention Trump
      person:Sybiha            articles that mention that person (also org:, place:)
      speaker:Rutte            articles with a claim by that speaker
      outlet:guardian          the outlet's name holds these words
      story:s-1a2b             one story (a unique start of its id is enough)
      after:2024-12-01         published that day or later (arrival when unknown);
                               before: (exclusive), arrived-after:, arrived-before:
    """
    from pipeline.search.query import QueryError

    try:
        if in_claims:
            from workers.cli_claims import search_claims

            return search_claims(" ".join(query), limit=limit, as_json=as_json)
        from workers.resources import get_index

        hits = get_index().search(" ".join(query), limit=limit)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        for hit in hits:
            print_json({**hit, "snippet": hit["snippet"].replace("\x02", "<em>").replace("\x03", "</em>")})
        return
    if not hits:
        console.print("no hits")
    for n, hit in enumerate(hits, 1):
        title = escape(hit["title"] or "(untitled)")
        console.print(f"[bold]{n}. {title}[/]  [dim]{escape(hit['outlet'])} {hit['id'][:12]}[/]")
        console.print(Text("   ") + _highlight(hit["snippet"]))


def _highlight(snippet: str) -> Text:
    """Index snippets mark matches with \x02 … \x03; show them bold on a terminal.

    Built as rich Text, not markup: nothing a snippet holds is read as a tag, and a mark
    left open or closed twice (a fragment cut inside one) cannot fail the command.
    """
    text = Text()
    marked = False
    for part in re.split("([\x02\x03])", snippet):
        if part in ("\x02", "\x03"):
            marked = part == "\x02"
        elif part:
            text.append(part, style="bold yellow" if marked else "")
    return text


# -------------------------------------------------------------------------- show
@main.command()
@click.argument("doc_id")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="The document (or story, or failed input's record) as one JSON object.",
)
def show(doc_id: str, as_json: bool) -> None:
    """A document by id or by the path of an input that became it; a failed input's reason; a story (s-…)."""
    if doc_id.startswith("s-"):  # a story id, as `newsflow stories` lists them
        from workers.cli_stories import show_story

        show_story(doc_id, as_json)
        return
    from workers.resources import get_index

    body = get_index().get(doc_id)
    if body is None:  # an input's path or failure id: the document it became, else its state
        with broker_session(load_settings()):
            from workers.resources import get_ledger

            record = get_ledger().find(doc_id) or get_ledger().find(str(Path(doc_id).absolute()))
        if record is None:
            raise click.ClickException(f"no document or input {doc_id!r}; try `newsflow search`")
        body = get_index().get(record.document) if record.document else None
        if body is None:
            if as_json:
                print_json(record.to_dict())
            else:
                console.print(f"{record.source}: {record.state} {record.reason}".rstrip(), markup=False)
            return
        if not as_json:
            console.print(f"{record.source}: {record.state}, document {record.document}", markup=False)
    if as_json:
        print_json(body)
        return
    console.print(f"[bold]{escape(body.get('title') or '(untitled)')}[/]")
    for key in ("id", "outlet", "story_id", "language", "published"):
        if body.get(key):
            console.print(f"{key}: {body[key]}", markup=False)
    console.print("sources: " + ", ".join(body.get("sources", [])), markup=False)
    console.print()
    console.print(body.get("text", ""), markup=False)
    console.print()
    table = Table("entity", "type", "count", "variants", title="entities")
    for e in body.get("entities", []):
        table.add_row(escape(e["canonical"]), e["label"], str(e["count"]), escape(", ".join(e["variants"])))
    console.print(table)
    mentioned = [e for e in body.get("entities", []) if e.get("mentions")]  # none in older records
    if mentioned:
        console.print("mentions (@ where each starts in the text):")
    for e in mentioned:
        console.print("  " + mentions_line(e), markup=False)
    for c in body.get("claims", []):
        console.print(
            f"- [bold]{escape(c['speaker_canonical'] or c['speaker'] or '(outlet)')}[/] "
            f"({c['kind']}, {escape(c['cue'])}): {escape(c['text'])}"
        )
    console.print("history: " + ", ".join(f"{s['stage']} {s['ms']}ms" for s in body.get("history", [])))


def mentions_line(entity: dict[str, Any]) -> str:
    """'Mark Rutte (PERSON): Mark Rutte @512, Mr Rutte @1204 @2210, Rutte @3001': where in
    the text each mention starts, in text order, a surface repeated in a row written once."""
    parts: list[str] = []
    last = None
    for m in entity["mentions"]:
        if m["surface"] == last:
            parts[-1] += f" @{m['start']}"
        else:
            parts.append(f"{m['surface']} @{m['start']}")
        last = m["surface"]
    more = entity["count"] - len(entity["mentions"])
    return (
        f"{entity['canonical']} ({entity['label']}): "
        + ", ".join(parts)
        + (f" and {more} more" if more > 0 else "")
    )


# ------------------------------------------------------------------------ export
@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export(out: Path | None) -> None:
    """Every enriched document as JSON Lines (the record `show --json` prints)."""
    from workers.resources import get_index

    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    n = 0
    try:
        for body in get_index().iter_all():
            stream.write(json.dumps(body, ensure_ascii=False) + "\n")
            n += 1
    finally:
        if out:
            stream.close()
    if out:
        err.print(f"exported {n} documents to {out}")


# Commands that live in their own modules register here, one line each.
# (Add yours with a one-line edit; keep the list sorted.)
# -- registered commands --
from workers.cli_es import es_group, kibana_group, reindex  # noqa: E402

for _command in (es_group, kibana_group, reindex):
    main.add_command(_command)
from workers.cli_ops import failed, retry, sources, status  # noqa: E402

for _command in (status, sources, failed, retry):
    main.add_command(_command)
from workers.cli_claims import claims  # noqa: E402

main.add_command(claims)
from workers.cli_clean import clean  # noqa: E402

main.add_command(clean)
from workers.cli_entities import entities  # noqa: E402

main.add_command(entities)
from workers.cli_stories import stories  # noqa: E402

main.add_command(stories)
# -- end registered commands --


if __name__ == "__main__":
    main()
