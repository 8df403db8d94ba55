"""Helpers shared by the command modules: consoles, settings, JSON Lines, a broker (does I/O)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console

from config.settings import Settings, SettingsError, get_settings


def _console(*, stderr: bool) -> Console:
    """On a terminal, its width; piped or redirected, no wrapping at all: a line stays one
    line and a table keeps whole paths (rich would wrap at 80 columns)."""
    if (sys.stderr if stderr else sys.stdout).isatty():
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, width=100_000, soft_wrap=True)


console = _console(stderr=False)
err = _console(stderr=True)


def load_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))


def is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://", "ftp://", "file://")) or "://" in arg


@dataclass(frozen=True)
class Broker:
    url: str
    owned: bool  # a private Redis this command started (and stops): no one else's workers


@contextlib.contextmanager
def local_broker(settings: Settings) -> Iterator[Broker]:
    """`broker_session`, saying whether the Redis is ours."""
    from workers.local import ensure_broker, requeue_unacked

    settings.home.mkdir(parents=True, exist_ok=True)
    url, owned = ensure_broker(settings)
    from workers.app import configure

    configure(url)
    try:
        yield Broker(url, owned is not None)
    finally:
        if owned is not None:
            # Our workers have stopped by now: what they were still holding goes back
            # to its queue before Redis stops, so the next run picks it up at once.
            from workers.resources import get_redis

            try:
                requeue_unacked(get_redis())
            finally:
                owned.stop()


@contextlib.contextmanager
def broker_session(settings: Settings) -> Iterator[str]:
    """A broker URL for the duration of a command; a private Redis we start is stopped after."""
    with local_broker(settings) as broker:
        yield broker.url


def note_if_no_worker(queued: int) -> None:
    """After queuing: say so when no worker is there to take the inputs (asks the workers;
    waits up to a second for an answer)."""
    from workers.app import app

    if app.control.ping(timeout=1.0):
        return
    err.print(
        f"no worker is running: the {queued} queued input(s) wait until one starts. Process "
        "them with `newsflow worker` (in another terminal; Ctrl-C stops it), or use `newsflow run`."
    )
