"""Record or compare the shield's verdicts on every prompt the precheck benchmarks use.

`python benchmarks/shield_verdicts.py record OUT` writes, per prompt, a hash of the prompt and
of what the stages produced (normalized text and decoded payloads, the unmasked view the
detector reads, the rules-only verdict with rule ids and the two-stage verdict);
`python benchmarks/shield_verdicts.py compare OLD NEW` lists the prompts whose outcome or rule
ids differ. For checking that a speed change leaves every verdict as it was. The file holds
hashes and rule ids only, never prompt text.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.shield import load_project_cases, load_shared  # noqa: E402
from benchmarks.shield_heldout import LENGTHS, _sized  # noqa: E402
from routing.precheck.normalize import normalize, unmask  # noqa: E402
from routing.precheck.shield import scan  # noqa: E402
from routing.precheck.shield.corpus import build_rows, datasets_dir  # noqa: E402


def prompts() -> Iterator[str]:
    base = datasets_dir()
    yield from (case.text for case in load_project_cases())
    for cases in load_shared(base).values():
        yield from (case.text for case in cases)
    rows = build_rows(base)
    yield from (row.text for row in rows)
    sts = base / "sts2016_question_pairs" / "question-question.test.tsv"
    if sts.is_file():
        for line in sts.read_text(encoding="utf-8").splitlines():
            yield from (part for part in line.split("\t")[1:3] if part.strip())
    ordinary = [r.text for r in rows if r.category == "ordinary"]
    attacks = [r.text for r in rows if r.category not in ("ordinary", "hard_negative")]
    for _, size in LENGTHS:
        yield from _sized(ordinary, size)
    yield from embedded(ordinary, attacks)


def embedded(ordinary: list[str], attacks: list[str]) -> Iterator[str]:
    """Attacks hidden at the start, middle and end of 2 KB and 10 KB benign documents."""
    for size in (2_048, 10_240):
        documents = _sized(ordinary, size)
        for i, document in enumerate(documents[:60]):
            attack = attacks[(i * 97) % len(attacks)]
            cut = len(document) // 2
            yield (attack + "\n" + document, document[:cut] + "\n" + attack + "\n" + document[cut:],
                   document + "\n" + attack)[i % 3]  # fmt: skip


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def record(out: Path) -> None:
    seen: set[str] = set()
    with out.open("w", encoding="utf-8") as fh:
        for text in prompts():
            key = _digest(text)
            if key in seen:
                continue
            seen.add(key)
            prompt = normalize(text)
            rules = scan(prompt, learned=False)
            full = scan(prompt)
            entry = {
                "key": key,
                "normalized": _digest(prompt.text + "\0" + "\0".join(prompt.decoded)),
                "unmasked": _digest(unmask(prompt.text)),
                "rules": [rules.risk_level, sorted(rules.rule_ids)],
                "full": [full.risk_level, sorted(full.rule_ids), full.detector_score],
            }
            fh.write(json.dumps(entry) + "\n")
    print(f"{len(seen)} prompts recorded in {out}")


def compare(old: Path, new: Path) -> int:
    before = {e["key"]: e for e in map(json.loads, old.read_text().splitlines())}
    after = {e["key"]: e for e in map(json.loads, new.read_text().splitlines())}
    differing = [key for key in before if before[key] != after.get(key)]
    for key in differing[:40]:
        print(key, "before", before[key], "\n", " " * len(key), "after ", after.get(key))
    print(f"{len(before)} prompts compared, {len(differing)} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    else:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
