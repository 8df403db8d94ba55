"""Failures a user can cause, through the real command line: one line saying what is
wrong and what to do, a non-zero exit, and a traceback only with `--debug`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS, Newsflow

pytestmark = pytest.mark.integration

# Every command that touches NEWSFLOW_HOME, with arguments that would otherwise work.
COMMANDS = [
    ("search", "Rutte"),
    ("show", "abc"),
    ("export",),
    ("entities",),
    ("claims",),
    ("stories",),
    ("status",),
    ("sources",),
    ("failed",),
    ("retry", "--all"),
    ("submit", str(SEEDS)),
    ("run", str(SEEDS)),
]


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write to: a read-only mount when root (root ignores modes)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mount.returncode != 0:
        pytest.skip(f"root without the right to mount a read-only folder: {mount.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command failed with one `Error:` line on stderr (and no traceback anywhere)."""
    assert result.returncode != 0, result
    assert "Traceback" not in (result.stdout or "") + result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("Error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("home_inside", [False, True], ids=["home-to-create", "home-itself"])
def test_a_read_only_home_is_one_line_for_every_command(
    read_only: Path, tmp_path: Path, home_inside: bool
) -> None:
    cli = Newsflow(read_only / "home" if not home_inside else read_only)
    for command in COMMANDS:
        result = cli(*command, check=False, timeout=120)
        line = _one_line(result, "NEWSFLOW_HOME")
        assert "read-only" in line or "permission denied" in line or "not writable" in line, (command, line)
    debug = cli("--debug", "search", "Rutte", check=False)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr


def test_a_home_that_is_a_file_and_missing_paths(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    _one_line(Newsflow(a_file)("status", check=False), "not a folder", "NEWSFLOW_HOME")
    _one_line(Newsflow(a_file / "home")("search", "x", check=False), "not a folder")
    cli = Newsflow(tmp_path / "home")
    _one_line(cli("run", str(tmp_path / "missing.txt"), check=False), "missing.txt")
    _one_line(cli("clean", str(tmp_path / "missing.txt"), check=False), "missing.txt", "no such file")
    _one_line(
        cli("export", "--out", str(tmp_path / "no" / "such" / "x.jsonl"), check=False), "does not exist"
    )


def test_a_full_disk_under_standard_output(tmp_path: Path) -> None:
    cli = Newsflow(tmp_path / "home")
    with open("/dev/full", "w") as full:  # every write: ENOSPC
        article = str(sorted(SEEDS.glob("*.txt"))[0])
        result = subprocess.run(
            [sys.executable, "-m", "workers.cli", "clean", article],
            env=cli.env,
            cwd=REPO,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    _one_line(result, "no space left")


def test_a_port_in_use_and_bad_settings(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cli = Newsflow(tmp_path / "home", {"NEWSFLOW_METRICS_PORT": str(port)})
        _one_line(cli("worker", check=False, timeout=120), f"port {port}", "NEWSFLOW_METRICS_PORT")
        cli = Newsflow(tmp_path / "home", {"NEWSFLOW_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        _one_line(cli("status", check=False, timeout=120), "NEWSFLOW_REDIS_URL")
    _one_line(
        Newsflow(tmp_path / "home", {"NEWSFLOW_CONCURRENCY": "many"})("search", "x", check=False),
        "NEWSFLOW_CONCURRENCY",
    )
    _one_line(
        Newsflow(tmp_path / "home", {"NEWSFLOW_REDIS_URL": "localhost:6379"})("sources", check=False),
        "NEWSFLOW_REDIS_URL",
    )
