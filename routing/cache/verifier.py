"""The second stage of a semantic lookup: a candidate under the cosine threshold (but above
the verifier's floor) is served only if a small logistic model agrees, on two features a
static embedding alone does not weigh: the cosine and the overlap of the two prompts'
content stems (keyed hashes, see guards.GuardFeatures.stems). The guards still run first.

The model is a JSON artifact (routing/data/cache_verifier.json) fitted by
`benchmarks/cache_eval.py --fit` on the tuning half of the STS 2016 question pairs only;
the other half is what docs/benchmarks.md reports. Pure arithmetic at run time: a few
microseconds, no scikit-learn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from routing.cache.guards import GuardFeatures

ARTIFACT = Path(__file__).resolve().parents[1] / "data" / "cache_verifier.json"
FEATURES = ("cosine", "overlap")


@dataclass(frozen=True)
class Verifier:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    cutoff: float  # the least probability that serves
    floor: float  # the least cosine the verifier is asked about
    fitted_on: str

    def probability(self, values: Sequence[float]) -> float:
        z = self.bias + sum(
            w * (v - m) / s
            for w, v, m, s in zip(self.weights, values, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def agrees(self, similarity: float, new: GuardFeatures, cached: GuardFeatures) -> bool:
        if similarity < self.floor:
            return False
        return self.probability(pair_values(similarity, new, cached)) >= self.cutoff

    def as_json(self) -> dict[str, Any]:
        return {"features": list(FEATURES)} | asdict(self)

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> Verifier:
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"verifier features {data['features']} are not {list(FEATURES)}")
        return cls(
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            weights=tuple(float(x) for x in data["weights"]),
            bias=float(data["bias"]),
            cutoff=float(data["cutoff"]),
            floor=float(data["floor"]),
            fitted_on=str(data["fitted_on"]),
        )


def overlap(new: GuardFeatures, cached: GuardFeatures) -> float:
    """Jaccard of the content stems; 0 when neither prompt has one (nothing to compare)."""
    union = new.stems | cached.stems
    return len(new.stems & cached.stems) / len(union) if union else 0.0


def pair_values(similarity: float, new: GuardFeatures, cached: GuardFeatures) -> list[float]:
    return [similarity, overlap(new, cached)]


@cache
def verifier_get() -> Verifier:
    return Verifier.of_json(json.loads(ARTIFACT.read_text()))
