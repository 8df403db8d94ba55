"""`newsflow clean`: clean files directly, without the queue (does I/O).

The same `clean_boilerplate` stage the workers run (without the cross-document
line counts, which need Redis). HTML is recognised by content unless --format says.
Inputs are never changed: an output that would land on an input (`--out` the inputs'
own folder) is written beside it under another name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from workers.cli_common import err, load_settings


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write DIR/<name without its last extension>.txt per input.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "text", "html"]),
    default="auto",
    show_default=True,
    help="Read the inputs as this (auto: HTML is recognised by content).",
)
def clean(inputs: tuple[Path, ...], out_dir: Path | None, fmt: str) -> None:
    """Strip boilerplate from text or HTML files and write the article bodies."""
    from dataclasses import replace

    from pipeline.errors import BadInput, SkipDocument
    from pipeline.sources.files import read_dropped_file
    from pipeline.stages.clean import clean_boilerplate

    if out_dir is None and len(inputs) > 1:
        raise click.UsageError("give --out DIR when cleaning more than one input")
    for path in inputs:
        if not path.is_file():
            problem = "a folder; give the files in it" if path.is_dir() else "no such file"
            raise click.ClickException(f"{path}: {problem}")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    max_bytes = load_settings().max_file_bytes
    failures = 0
    for path in inputs:
        try:
            doc = read_dropped_file(path, max_bytes=max_bytes)
            if fmt != "auto":
                doc = replace(doc, raw_format=fmt)
            text = clean_boilerplate(doc).text
        except (BadInput, SkipDocument) as exc:
            err.print(f"{path}: {exc}")
            failures += 1
            text = ""
        if out_dir is None:
            sys.stdout.write(text + ("\n" if text else ""))
        else:
            target = _output_path(out_dir, path, inputs, written)
            target.write_text(text + ("\n" if text else ""), encoding="utf-8")
            written.append(target)
    if out_dir is not None:
        err.print(f"cleaned {len(inputs) - failures} of {len(inputs)} inputs into {out_dir}")
    if failures:
        sys.exit(1)


def _output_path(out_dir: Path, path: Path, inputs: tuple[Path, ...], written: list[Path]) -> Path:
    """DIR/<stem>.txt, unless that is one of the inputs (or an output of this run): then
    DIR/<stem>.clean.txt (.clean-2.txt, …), said on stderr. An input is never overwritten."""
    target = out_dir / f"{path.stem}.txt"
    n = 1
    while _is_any(target, [*inputs, *written]):
        n += 1
        target = out_dir / (f"{path.stem}.clean.txt" if n == 2 else f"{path.stem}.clean-{n - 1}.txt")
    if n > 1:
        err.print(
            f"{path}: {out_dir / (path.stem + '.txt')} is an input (or already written); "
            f"wrote {target} instead",
            markup=False,
        )
    return target


def _is_any(target: Path, paths: list[Path]) -> bool:
    """Whether `target` is one of `paths` (links and hard links included)."""
    if not target.exists():
        return any(target.absolute() == p.absolute() for p in paths)
    return any(p.exists() and os.path.samefile(target, p) for p in paths)
