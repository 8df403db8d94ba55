"""`newsflow es setup|check`, `newsflow reindex`, `newsflow kibana import` (does I/O).

The production path: index templates and aliases in Elasticsearch, saved objects in
Kibana. Each command is idempotent, so the docker compose setup jobs run them on
every start. Connection settings come from NEWSFLOW_ES_* (see config/env.example).
"""

from __future__ import annotations

import json
import time
from importlib import resources
from typing import Any

import click
import httpx

from config.redact import mask_url
from config.settings import Settings, SettingsError, get_settings

KIBANA_FILE = "newsflow.ndjson"
DASHBOARD_ID = "newsflow-overview"


def _es_settings() -> Settings:
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.es_urls:
        raise click.ClickException("set NEWSFLOW_ES_URLS (e.g. http://localhost:9200) first")
    return settings


def _reindex_settings() -> Settings:
    """`_es_settings` for `reindex`, which the embedded index never needs."""
    settings = _es_settings_or_none()
    if settings is None or settings.index_backend != "elasticsearch":
        raise click.ClickException(
            "`newsflow reindex` rebuilds Elasticsearch indices from their templates; the embedded "
            "index (NEWSFLOW_INDEX_BACKEND=sqlite) has no templates: its tables are brought up to "
            "date when opened. For Elasticsearch, set NEWSFLOW_ES_URLS."
        )
    return settings


def _es_settings_or_none() -> Settings | None:
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings if settings.es_urls else None


def _client(settings: Settings, wait: float) -> Any:
    """A client, after waiting up to `wait` seconds for the cluster to answer."""
    from elasticsearch import ApiError

    from pipeline.elastic.client import make_client, translated_errors
    from pipeline.errors import TransientError
    from workers.cli_errors import index_problem

    es = make_client(settings)
    deadline = time.monotonic() + wait
    while True:
        try:
            with translated_errors("start-up"):
                es.info()
            return es
        except TransientError as exc:  # unreachable, starting (503): wait and try again
            if time.monotonic() > deadline:
                raise click.ClickException(
                    index_problem(exc, settings)
                    or f"Elasticsearch at {', '.join(map(mask_url, settings.es_urls))} does not answer: {exc}"
                ) from exc
        except ApiError as exc:  # 401, 403: waiting will not help
            problem = index_problem(exc, settings) or f"Elasticsearch refused us: {exc}"
            raise click.ClickException(problem) from exc
        time.sleep(2)


@click.group("es")
def es_group() -> None:
    """Elasticsearch: install templates and aliases, check the cluster."""


@es_group.command("setup")
@click.option(
    "--wait",
    type=float,
    default=0,
    show_default=True,
    help="Wait up to this many seconds for the cluster to answer.",
)
def es_setup(wait: float) -> None:
    """Install index templates and create the first index behind each alias (idempotent)."""
    from pipeline.elastic.admin import setup

    settings = _es_settings()
    for line in setup(_client(settings, wait), settings.es_prefix):
        click.echo(line)


@es_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
def es_check(as_json: bool) -> None:
    """Cluster health, template versions and document counts; exits 1 if action is needed."""
    from pipeline.elastic.admin import check, check_problems

    settings = _es_settings()
    report = check(_client(settings, 0), settings.es_prefix)
    problems = check_problems(report)
    if as_json:
        click.echo(json.dumps({**report, "problems": problems}))
    else:
        click.echo(
            f"cluster {report['cluster']} ({report['version']}): {report['status']}, "
            f"{report['nodes']} node(s)"
        )
        for entry in report["kinds"].values():
            click.echo(
                f"  {entry['alias']:24} -> {', '.join(entry['indices']) or '(missing)':32} "
                f"documents {entry['count']}  template file v{entry['template_file_version']}"
                f" installed v{entry['template_installed_version']}"
                f" index built from v{entry.get('index_built_from_version')}"
            )
        for problem in problems:
            click.echo(f"  ! {problem}")
    if problems:
        raise SystemExit(1)


@click.command("reindex")
@click.argument("kinds", nargs=-1, type=click.Choice(["documents", "claims", "stories"]))
@click.option("--delete-old", is_flag=True, help="Delete the previous index once the alias moved.")
def reindex(kinds: tuple[str, ...], delete_old: bool) -> None:
    """Rebuild indices from the current templates and switch their aliases (no downtime).

    Run `newsflow es setup` first so the new template is installed. Without KINDS,
    rebuilds documents, claims and stories.
    """
    from pipeline.elastic.admin import reindex as rebuild
    from pipeline.elastic.records import KINDS

    settings = _reindex_settings()
    es = _client(settings, 0)
    for kind in kinds or KINDS:
        result = rebuild(es, settings.es_prefix, kind, delete_old=delete_old)
        kept = "" if delete_old else f" (kept {', '.join(result['from'])}; delete it when satisfied)"
        click.echo(
            f"{result['alias']}: {', '.join(result['from'])} -> {result['to']}, "
            f"copied {result['copied']}, caught up {result['caught_up']}, "
            f"now {result['count']} documents{kept}"
        )


# ------------------------------------------------------------------------ Kibana
def saved_objects(prefix: str = "newsflow") -> str:
    """The NDJSON in config/kibana/, with data view titles pointing at `prefix` (pure)."""
    text = (resources.files("config") / "kibana" / KIBANA_FILE).read_text(encoding="utf-8")
    if prefix == "newsflow":
        return text
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("type") == "index-pattern":
            kind = obj["attributes"]["title"].removeprefix("newsflow-")
            obj["attributes"]["title"] = f"{prefix}-{kind}"
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _kibana_client(settings: Settings) -> httpx.Client:
    headers = {"kbn-xsrf": "newsflow"}
    auth = None
    if settings.es_api_key:
        headers["authorization"] = f"ApiKey {settings.es_api_key}"
    elif settings.es_username:
        auth = (settings.es_username, settings.es_password)
    verify: Any = settings.es_ca_certs or settings.es_verify_certs
    return httpx.Client(headers=headers, auth=auth, verify=verify, timeout=settings.es_timeout_s)


def _wait_for_kibana(client: httpx.Client, url: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            resp = client.get(f"{url}/api/status")
            if resp.status_code == 200:
                return
            problem = f"HTTP {resp.status_code}"
        except httpx.TransportError as exc:
            problem = type(exc).__name__
        if time.monotonic() > deadline:
            raise click.ClickException(f"Kibana at {url} is not available ({problem})")
        time.sleep(3)


@click.group("kibana")
def kibana_group() -> None:
    """Kibana: load our data views, saved searches and dashboard."""


@kibana_group.command("import")
@click.option("--url", default=None, help="Kibana URL (default: NEWSFLOW_KIBANA_URL or localhost).")
@click.option(
    "--wait",
    type=float,
    default=0,
    show_default=True,
    help="Wait up to this many seconds for Kibana to be available.",
)
@click.option(
    "--set-defaults",
    is_flag=True,
    help="Also make our dashboard Kibana's home page, our documents the default data view "
    "and the last 30 days the default time range (what the compose setup job does).",
)
def kibana_import(url: str | None, wait: float, set_defaults: bool) -> None:
    """Import config/kibana/newsflow.ndjson through the saved objects API (overwrites ours)."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    url = (url or settings.kibana_url or "http://localhost:5601").rstrip("/")
    with _kibana_client(settings) as client:
        _wait_for_kibana(client, url, wait)
        resp = client.post(
            f"{url}/api/saved_objects/_import",
            params={"overwrite": "true"},
            files={
                "file": (
                    KIBANA_FILE,
                    saved_objects(settings.es_prefix).encode(),
                    "application/ndjson",
                )
            },
        )
    if resp.status_code != 200:
        raise click.ClickException(f"Kibana refused the import: HTTP {resp.status_code} {resp.text[:500]}")
    result = resp.json()
    for error in result.get("errors", []):
        click.echo(f"  ! {error.get('type')} {error.get('id')}: {error.get('error')}", err=True)
    click.echo(f"imported {result.get('successCount', 0)} saved objects into {mask_url(url)}")
    if not result.get("success", False):
        raise SystemExit(1)
    if set_defaults:
        with _kibana_client(settings) as client:
            _set_kibana_defaults(client, url)
    click.echo(f"open {mask_url(url)}/app/dashboards#/view/{DASHBOARD_ID}")


def _set_kibana_defaults(client: httpx.Client, url: str) -> None:
    """Kibana opens on our dashboard, Discover on our documents over the last 30 days."""
    calls = [
        (f"{url}/api/data_views/default", {"data_view_id": "newsflow-documents", "force": True}),
        (
            f"{url}/api/kibana/settings",
            {
                "changes": {
                    "defaultRoute": f"/app/dashboards#/view/{DASHBOARD_ID}",
                    "timepicker:timeDefaults": json.dumps({"from": "now-30d", "to": "now"}),
                }
            },
        ),
    ]
    for endpoint, body in calls:
        resp = client.post(endpoint, json=body)
        if resp.status_code != 200:  # a nicety: the objects are in, so warn and go on
            click.echo(f"  ! {endpoint}: HTTP {resp.status_code} {resp.text[:200]}", err=True)
