"""A name that settles later reaches the documents written before, on both indices.

The worst order, as a user drops files: the first article only ever writes "Vellinga"
(so the registry names her "Vellinga"), the next one writes "Margot Vellinga" (the
registry now knows her full name). After the second `newsflow run`, the first article
reads "Margot Vellinga" everywhere a user looks: `show`, her claims, `claims --speaker`,
a search by the full name; and `entities` lists her once.

Renames are carried at most once per NEWSFLOW_RENAME_EVERY_S (an hour here): the
second run's is the first turn, at once; the third run's ("Jansen", then "Pieter
Jansen") falls in the rest that follows, and `newsflow run` carries it before it reports.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Newsflow, wait_for
from tests.live_es import client_for, drop_prefix, es_env, new_prefix

pytestmark = pytest.mark.integration

FIRST = """Rotterdam council delays vote on tram line

The Rotterdam city council on Monday postponed its vote on a new tram line to Feyenoord stadium, \
after a debate that lasted most of the night.

"We will need far more tickets sold before this line ever pays for itself," Vellinga said, urging \
colleagues to wait for new figures from RET, the city's transport company.

Vellinga, who chairs the finance committee, said Mayor Ahmed Aboutaleb had underestimated the cost \
of moving cables under the Maas.

Jansen, a spokesman for RET, said the company would publish the figures next month.

Supporters said the line would cut journey times from Rotterdam Centraal by half.
"""
SECOND = """Rotterdam tram line faces new budget questions

Councillor Margot Vellinga warned on Tuesday that the tram line to Feyenoord stadium could cost \
twice what the Rotterdam city council approved.

"Nobody has priced the cables under the Maas," Margot Vellinga told reporters, adding that RET \
must publish new figures before Mayor Ahmed Aboutaleb asks for a vote.

Trams from Rotterdam Centraal are expected to run in three years.
"""
THIRD = """RET names a new director for the Feyenoord tram line

RET, Rotterdam's transport company, on Wednesday named its spokesman Pieter Jansen director of \
the tram line to Feyenoord stadium.

"The figures for the cables under the Maas will be public next month," Pieter Jansen told the \
Rotterdam city council.
"""


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Newsflow]:
    if request.param == "sqlite":
        yield Newsflow(tmp_path / "home")
        return
    url, prefix = str(request.getfixturevalue("es_url")), new_prefix()
    es = client_for(url, prefix)
    cli = Newsflow(tmp_path / "home", es_env(url, prefix))
    cli("es", "setup")
    try:
        yield cli
    finally:
        drop_prefix(es, prefix)
        es.close()


def test_a_document_written_under_a_short_name_shows_the_full_name_learned_later(
    cli: Newsflow,
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "in1" / "first.txt", tmp_path / "in2" / "second.txt"
    third = tmp_path / "in3" / "third.txt"
    for path, text in ((first, FIRST), (second, SECOND), (third, THIRD)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    cli.env["NEWSFLOW_RENAME_EVERY_S"] = "3600"

    cli("run", str(first.parent))
    before = show(cli, first)
    assert "Vellinga" in names(before)  # all the registry knew then
    cli("run", str(second.parent))

    after = show(cli, first)
    assert "Margot Vellinga" in names(after)
    assert "Vellinga" not in names(after)
    speakers = {c["speaker_canonical"] for c in after["claims"] if "Vellinga" in c["speaker"]}
    assert speakers == {"Margot Vellinga"}
    (entity,) = [e for e in after["entities"] if e["canonical"] == "Margot Vellinga"]
    assert entity["variants"] == ["Vellinga"]  # as this article wrote her
    assert entity["count"] == before_count(before)
    found = {h["id"] for h in cli.json_lines("search", '"Margot Vellinga"')}
    assert found == {after["id"], show(cli, second)["id"]}
    spoken = {
        s
        for g in cli.json_lines("claims", "--speaker", "Margot Vellinga", "--limit", "100")
        for s in g["sources"]
    }
    assert str(first) in spoken
    assert str(second) in spoken
    assert [e["canonical"] for e in cli.json_lines("entities") if "Vellinga" in e["canonical"]] == [
        "Margot Vellinga"
    ]

    assert "Jansen" in names(after)
    cli("run", str(third.parent))  # within the hour's rest
    assert "Pieter Jansen" in names(show(cli, first))
    assert "Jansen" not in names(show(cli, first))


def test_while_watching_a_rename_that_waits_out_the_rest_is_carried_by_one_delayed_turn(
    newsflow: Newsflow, tmp_path: Path
) -> None:
    """No run ends here to carry it: the write that found the rename resting queued a
    turn for when the rest is over, and a worker takes it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    newsflow.env["NEWSFLOW_RENAME_EVERY_S"] = "15"
    run = newsflow.popen("run", str(inbox), "--watch")
    try:

        def done(name: str) -> bool:
            records = newsflow.json_lines("sources") if (newsflow.home / "redis" / "url").exists() else []
            return any(r["source"].endswith(name) and r["state"] == "done" for r in records)

        for name, text in (("first.txt", FIRST), ("second.txt", SECOND), ("third.txt", THIRD)):
            (inbox / name).write_text(text, encoding="utf-8")
            wait_for(lambda name=name: done(name), timeout=120, every=0.5)
        # the second's rename ("Margot Vellinga") was the first turn, at once; the third's
        # falls in the 15 s rest that followed
        wait_for(lambda: "Pieter Jansen" in names(show(newsflow, inbox / "first.txt")), timeout=90, every=1)
    finally:
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=60)
    assert "Jansen" not in names(show(newsflow, inbox / "first.txt"))


def show(cli: Newsflow, path: Path) -> dict[str, Any]:
    return dict(json.loads(cli("show", str(path), "--json").stdout))


def names(doc: dict[str, Any]) -> list[str]:
    return [e["canonical"] for e in doc["entities"]]


def before_count(doc: dict[str, Any]) -> int:
    (entity,) = [e for e in doc["entities"] if e["canonical"] == "Vellinga"]
    return int(entity["count"])
