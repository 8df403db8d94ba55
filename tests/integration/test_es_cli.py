"""The command line when Elasticsearch cannot be used: one line naming the URL, a non-zero exit.

Real faults only: a closed local port (connections refused), a port that accepts and
never answers (a hung node), a cluster without our indices, and a cluster that goes away
while `newsflow run` is writing (a local TCP proxy in front of the live cluster that
stops listening after the first connection). Before, each of these printed about 1,300
lines of traceback (the client's retries logged with theirs), and `run` retried for half
a minute and ended without saying which Elasticsearch it had tried.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Newsflow
from tests.live_es import client_for, drop_prefix, es_env, new_prefix

pytestmark = pytest.mark.integration

UNREACHABLE = "is unreachable: check that it is running and that NEWSFLOW_ES_URLS points at it"
COMMANDS = [
    ("search", "Rutte"),
    ("search", "--claims", "Rutte"),
    ("show", "6804226af3da"),
    ("show", "s-6804226af3da"),
    ("export",),
    ("claims",),
    ("claims", "--search", "air defence"),
    ("stories",),
    ("es", "check"),
    ("es", "setup"),
    ("reindex",),
]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connections are refused


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


def cli_for(tmp_path: Path, url: str, **env: str) -> Newsflow:
    return Newsflow(tmp_path / "home", {"NEWSFLOW_ES_URLS": url, "NEWSFLOW_ES_TIMEOUT_S": "2", **env})


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_index_command_says_in_one_line_that_elasticsearch_is_unreachable(
    tmp_path: Path, closed_port: int, args: tuple[str, ...]
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = cli_for(tmp_path, url)(*args, check=False, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: Elasticsearch at {url} {UNREACHABLE}"]


def test_run_with_elasticsearch_unreachable_stops_at_once_with_one_line(
    tmp_path: Path, closed_port: int, seed_paths: list[Path]
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    started = time.monotonic()
    result = cli_for(tmp_path, url)("run", str(seed_paths[0]), check=False, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Error: Elasticsearch at {url} {UNREACHABLE}"]
    assert time.monotonic() - started < 20  # not half a minute of retries per input


def test_a_node_that_never_answers_is_named_with_the_timeout(tmp_path: Path, silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}"
    result = cli_for(tmp_path, url)("search", "Rutte", check=False, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: Elasticsearch at {url} did not answer within 2 s: check that it is running and not "
        "overloaded (NEWSFLOW_ES_TIMEOUT_S sets the wait)"
    ]


@pytest.mark.elasticsearch
@pytest.mark.parametrize("args", [("search", "Rutte"), ("stories",), ("run", "SEED")], ids=" ".join)
def test_a_cluster_without_our_indices_says_to_run_es_setup(
    tmp_path: Path, es_url: str, seed_paths: list[Path], args: tuple[str, ...]
) -> None:
    prefix = new_prefix()
    cli = Newsflow(tmp_path / "home", es_env(es_url, prefix))
    result = cli(*[str(seed_paths[0]) if a == "SEED" else a for a in args], check=False, timeout=120)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: Elasticsearch at {es_url} has no ")
    first = " first" if args[0] == "run" else ""
    assert f"run `newsflow es setup`{first} (NEWSFLOW_ES_PREFIX={prefix})" in line


class OneConnectionProxy:
    """Forwards the first connection to `target` (host, port), then stops listening: the
    cluster 'goes away' for every connection after it (refused, a real fault)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        client, _ = self.server.accept()
        self.server.close()
        upstream = socket.create_connection(self.target)
        pipes = [
            threading.Thread(target=self._pipe, args=pair, daemon=True)
            for pair in ((client, upstream), (upstream, client))
        ]
        for pipe in pipes:
            pipe.start()
        for pipe in pipes:
            pipe.join()
        client.close()
        upstream.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for end in (src, dst):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.mark.elasticsearch
def test_run_names_the_url_in_its_summary_when_writes_fail(
    tmp_path: Path, es_url: str, seed_paths: list[Path]
) -> None:
    prefix = new_prefix()
    es = client_for(es_url, prefix)
    setup = Newsflow(tmp_path / "setup-home", es_env(es_url, prefix))
    try:
        setup("es", "setup")
        host, port = es_url.removeprefix("http://").rstrip("/").split(":")
        proxy = OneConnectionProxy((host, int(port)))  # `run` checks the cluster through it, then it is gone
        url = f"http://127.0.0.1:{proxy.port}"
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        dropped = Path(shutil.copy(seed_paths[0], inbox))
        cli = Newsflow(
            tmp_path / "home",
            {
                **es_env(url, prefix),
                "NEWSFLOW_MAX_RETRIES": "1",
                "NEWSFLOW_ES_TIMEOUT_S": "2",
                "COLUMNS": "400",
            },
        )
        result = cli("run", str(inbox), "--timeout", "240", check=False, timeout=300)
    finally:
        drop_prefix(es, prefix)
        es.close()
    assert result.returncode == 1
    summary = " ".join(result.stdout.split())
    assert "failed 1" in summary
    reason = f"TransientError: elasticsearch unavailable at {url} during "
    assert f"failed: {dropped.absolute()}: {reason}" in summary
    assert "elastic_transport" not in result.stderr
