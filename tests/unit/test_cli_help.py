"""The command line's help: every option explained, every summary whole."""

from __future__ import annotations

import click

from workers.cli import main


def _commands(group: click.Group, prefix: str = "newsflow") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


def test_every_option_of_every_command_has_help_text() -> None:
    missing = [
        f"{path} {param.opts[0]}"
        for path, command in _commands(main)
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []
