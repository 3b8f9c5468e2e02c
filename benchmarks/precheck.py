"""`make bench-precheck`: the shield and the classifier, held-out splits first, then the
development sets (the files the rules were written against and the shared public sets)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import classifier, classifier_heldout, shield, shield_heldout  # noqa: E402
from benchmarks.report import DOC, write_section  # noqa: E402


def demoted(section: str) -> str:
    """Nest a section's headings one level under the precheck heading."""
    return "\n".join("#" + line if line.startswith("#") else line for line in section.split("\n"))


def main() -> None:
    parts = [shield_heldout.run(), classifier_heldout.run(), shield.run(), classifier.run()]
    body = "\n\n".join(demoted(part) for part in parts)
    write_section("precheck", "Precheck: security shield and classifier", body)
    print(body)
    print(f"\nwritten to {DOC}")


if __name__ == "__main__":
    main()
