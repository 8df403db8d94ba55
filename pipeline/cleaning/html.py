"""HTML boilerplate removal: trafilatura with its metadata (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HtmlResult:
    text: str
    meta: dict[str, str] = field(default_factory=dict)


def clean_html(html: str, *, threshold: float) -> HtmlResult:
    import trafilatura

    return HtmlResult(trafilatura.extract(html, include_comments=False) or "")
