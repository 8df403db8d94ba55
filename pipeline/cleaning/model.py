"""The line model: two small stacked networks that score each line as body or furniture (pure).

Stage 1 reads the line features of `pipeline.cleaning.features`. Stage 2 reads the
same features plus stage 1's scores of the neighbouring lines and of the page's
densest run of body-like lines, so a line is judged with its surroundings (a short
subheading between two paragraphs is kept; the same line inside a menu is not).
Each stage is a one-hidden-layer network; weights are a small JSON file under
pipeline/data/, written by bench/train_clean_model.py.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "clean_model.json"


@dataclass(frozen=True)
class Net:
    """Standardise, one tanh hidden layer, sigmoid output."""

    mean: Array
    scale: Array
    w1: Array
    b1: Array
    w2: Array
    b2: float

    def predict(self, x: Array) -> Array:
        h = np.tanh(((x - self.mean) / self.scale) @ self.w1 + self.b1)
        z: Array = h @ self.w2 + self.b2
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Net:
        arr = {k: np.asarray(v, dtype=np.float64) for k, v in d.items() if k != "b2"}
        return cls(b2=float(d["b2"]), **arr)


def best_segment(gain: Array) -> tuple[int, int]:
    """[start, end) of the contiguous run with the largest total gain (Kadane)."""
    best, best_span = 0.0, (0, 0)
    run, start = 0.0, 0
    for i, g in enumerate(gain.tolist()):  # Python floats: far quicker to loop over
        if run <= 0:
            run, start = 0.0, i
        run += g
        if run > best:
            best, best_span = run, (start, i + 1)
    return best_span


def context_of_scores(p: Array, log_words: Array) -> Array:
    """Stage-2 inputs derived from stage-1 scores `p` of every line of a page."""
    n = len(p)

    def shift(k: int) -> Array:
        out = np.full(n, 0.0)
        if k > 0:
            out[k:] = p[:-k]
        else:
            out[:k] = p[-k:]
        return out

    cum = np.concatenate([[0.0], np.cumsum(p)])

    def smooth(width: int) -> Array:
        lo = np.clip(np.arange(n) - width, 0, n)
        hi = np.clip(np.arange(n) + width + 1, 0, n)
        result: Array = (cum[hi] - cum[lo]) / (hi - lo)
        return result

    weight = np.expm1(log_words)
    start, end = best_segment((p - 0.5) * weight)
    pos = np.arange(n)
    inside = ((pos >= start) & (pos < end)).astype(np.float64)
    gap = np.where(pos < start, start - pos, np.where(pos >= end, pos - end + 1, 0))
    mass = p * weight
    total = mass.sum() or 1.0
    before = (np.cumsum(mass) - mass) / total
    after = 1.0 - before - mass / total
    return np.column_stack(
        [
            p,
            shift(1),
            shift(-1),
            shift(2),
            shift(-2),
            smooth(3),
            smooth(10),
            inside,
            np.log1p(gap),
            before,
            after,
        ]
    )


@dataclass(frozen=True)
class Ensemble:
    """The mean of a few nets trained from different random starts (steadier than one)."""

    nets: tuple[Net, ...]

    def predict(self, x: Array) -> Array:
        """The nets' mean, computed as one wide net: each net's standardisation is folded
        into its first layer, and the hidden layers sit side by side (two matrix products
        for the whole ensemble instead of two per net)."""
        w1, b1, w2, b2 = self._wide
        z = np.tanh(x @ w1 + b1) @ w2 + b2
        result: Array = (1.0 / (1.0 + np.exp(-z))).mean(axis=1)
        return result

    @functools.cached_property
    def _wide(self) -> tuple[Array, Array, Array, Array]:
        w1 = np.hstack([net.w1 / net.scale[:, None] for net in self.nets])
        b1 = np.concatenate([net.b1 - (net.mean / net.scale) @ net.w1 for net in self.nets])
        sizes = [len(net.b1) for net in self.nets]
        w2 = np.zeros((sum(sizes), len(self.nets)))
        for k, net in enumerate(self.nets):  # block diagonal: net k's hidden units feed output k only
            w2[sum(sizes[:k]) : sum(sizes[: k + 1]), k] = net.w2
        return w1, b1, w2, np.array([net.b2 for net in self.nets])

    def to_list(self) -> list[dict[str, Any]]:
        return [net.to_dict() for net in self.nets]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> Ensemble:
        return cls(tuple(Net.from_dict(d) for d in data))


@dataclass(frozen=True)
class LineModel:
    stage1: Ensemble
    stage2: Ensemble
    features: tuple[str, ...] = ()  # the feature names the weights were trained on
    # Subtracted from stage 2's log-odds: a calibration to pages the model was not trained
    # on, where its scores run higher than on its own pages (bench/train_clean_model.py).
    offset: float = 0.0

    def predict(self, features: Array) -> Array:
        """Body probability per line."""
        if len(features) == 0:
            return np.zeros(0)
        p1 = self.stage1.predict(features)
        x2 = np.hstack([features, context_of_scores(p1, features[:, 0])])
        p2 = self.stage2.predict(x2)
        if not self.offset:
            return p2
        p2 = np.clip(p2, 1e-9, 1 - 1e-9)
        result: Array = 1.0 / (1.0 + np.exp(-(np.log(p2 / (1 - p2)) - self.offset)))
        return result

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LineModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            Ensemble.from_list(data["stage1"]),
            Ensemble.from_list(data["stage2"]),
            tuple(data["features"]),
            float(data.get("offset", 0.0)),
        )

    def to_json(self) -> str:
        # 6 significant digits: the file stays small and the scores do not change.
        data = {
            "stage1": self.stage1.to_list(),
            "stage2": self.stage2.to_list(),
            "features": list(self.features),
            "offset": self.offset,
        }
        return json.dumps(_round(data))


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value
