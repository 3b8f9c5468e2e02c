"""Latency of the shield's learned detector alone, by prompt length.

`python benchmarks/shield_detector.py` scores the detector's text (`detector_text`, windows
included) of the corpus's ordinary prompts cut or joined to 256 B, 2 KB and 10 KB, and prints
p50/p99 in µs (median of a few runs per prompt). Normalisation and the rules are left out: this
is the cost of `Detector.score` only.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.shield_heldout import LENGTHS, _sized  # noqa: E402
from routing.precheck.normalize import normalize  # noqa: E402
from routing.precheck.shield.corpus import build_rows, datasets_dir  # noqa: E402
from routing.precheck.shield.detector import Detector, detector_text, load_detector  # noqa: E402

ROUNDS = 5


def _timed_us(detector: Detector, text: str) -> float:
    runs = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        detector.score(text)
        runs.append((time.perf_counter_ns() - start) / 1_000)
    return statistics.median(runs)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    detector = load_detector()
    ordinary = [r.text for r in build_rows(datasets_dir()) if r.category == "ordinary"]
    print("| Length | Prompts | chars read p50 | p50 µs | p99 µs |")
    print("|---|---|---|---|---|")
    for name, size in LENGTHS:
        texts = [detector_text(normalize(t)) for t in _sized(ordinary, size)]
        for text in texts[:20]:
            detector.score(text)  # warm-up
        times = [_timed_us(detector, text) for text in texts]
        chars = statistics.median(len(text) for text in texts)
        print(f"| {name} | {len(texts)} | {chars:.0f} | {_pct(times, 0.5):.0f} "
              f"| {_pct(times, 0.99):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
