"""The Elasticsearch client's transport log is debug detail: out of command output at info.

Its lines ("POST http://…/_search … [status:200 …]", node failures, retries with their
tracebacks) went to stderr with every command's output; at debug they are still there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.logging import configure_logging
from config.settings import Settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_lines(capsys: pytest.CaptureFixture[str], level: str) -> list[str]:
    configure_logging(Settings(home=Path("unused"), log_level=level))
    transport = logging.getLogger("elastic_transport.transport")
    transport.info("POST http://127.0.0.1:9200/newsflow-documents/_search [status:200 duration:0.004s]")
    logging.getLogger("elastic_transport.node_pool").warning("Node has failed for 1 times in a row")
    transport.error("an error stays an error")
    logging.getLogger("newsflow.tasks").info("indexed")
    return capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("restore_logging")
def test_at_info_only_the_transports_errors_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    lines = log_lines(capsys, "INFO")
    assert len(lines) == 2
    assert "an error stays an error" in lines[0]
    assert "[error" in lines[0]
    assert "indexed" in lines[1]


@pytest.mark.usefixtures("restore_logging")
def test_at_debug_the_transport_log_is_there_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    lines = log_lines(capsys, "DEBUG")
    assert len(lines) == 4
    assert "[debug" in lines[0]
    assert "POST http://127.0.0.1:9200/newsflow-documents/_search" in lines[0]
    assert "[debug" in lines[1]
    assert "Node has failed" in lines[1]
