"""`newsflow clean` through the real command line: inputs are never changed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import Newsflow

pytestmark = pytest.mark.integration


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cleaning_into_the_inputs_own_folder_never_overwrites_an_input(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    article = folder / "F.txt"
    shutil.copy(seed_paths[0], article)
    page = folder / "G.html"  # G.html would be cleaned into G.txt, which is another input
    page.write_text(
        "<html><body><article><p>"
        + seed_paths[1].read_text(encoding="utf-8").replace("\n\n", "</p><p>")
        + "</p></article></body></html>",
        encoding="utf-8",
    )
    other = folder / "G.txt"
    shutil.copy(seed_paths[2], other)
    before = {p.name: _md5(p) for p in (article, page, other)}

    result = newsflow("clean", str(article), str(page), str(other), "--out", str(folder))

    assert {p.name: _md5(p) for p in (article, page, other)} == before
    cleaned = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name not in before}
    assert set(cleaned) == {"F.clean.txt", "G.clean.txt", "G.clean-2.txt"}, sorted(cleaned)
    assert all(text.strip() for text in cleaned.values())
    assert "instead" in result.stderr  # said, not done silently
    assert "cleaned 3 of 3" in result.stderr
