"""Write the replay's prompt log (JSONL {"id", "prompt"}) from the public prompt sets in
../shared/datasets: GSM8K's test questions, MT-Bench's and Vicuna's first turns.

    python -m benchmarks.replay_prompts /work/shared/datasets > /tmp/replay.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def prompts(root: Path) -> list[dict[str, str]]:
    rows = []
    for line in (root / "gsm8k_test" / "test.jsonl").read_text().splitlines():
        rows.append({"id": f"gsm8k-{len(rows)}", "prompt": json.loads(line)["question"]})
    for name in ("mt_bench_question.jsonl", "vicuna_bench_question.jsonl"):
        for line in (root / "mtbench_vicuna_questions" / name).read_text().splitlines():
            item = json.loads(line)
            rows.append(
                {"id": f"{name.split('_')[0]}-{item['question_id']}", "prompt": item["turns"][0]}
            )
    return rows


if __name__ == "__main__":
    for row in prompts(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets")):
        sys.stdout.write(json.dumps(row) + "\n")
