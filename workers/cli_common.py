"""Helpers shared by the command modules: consoles, settings, JSON Lines, a broker (does I/O)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console

from config.settings import Settings, SettingsError, get_settings

console = Console(stderr=False, highlight=False)
err = Console(stderr=True, highlight=False)


def load_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))


def is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://", "ftp://", "file://")) or "://" in arg


@contextlib.contextmanager
def broker_session(settings: Settings) -> Iterator[str]:
    """A broker URL for the duration of a command; a private Redis we start is stopped after."""
    from workers.local import ensure_broker

    settings.home.mkdir(parents=True, exist_ok=True)
    url, owned = ensure_broker(settings)
    from workers.app import configure

    configure(url)
    try:
        yield url
    finally:
        if owned is not None:
            owned.stop()


