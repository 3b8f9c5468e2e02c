"""The Procfile is the one place that says how each process starts: `make run` (honcho), the
compose file, the tests and the benchmarks all start the web tier from its `web:` line."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def procfile_command(process: str) -> str:
    """The shell command of one Procfile process."""
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise KeyError(f"no '{process}' process in {PROCFILE}")


def procfile_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment to run a Procfile command in: this interpreter's virtualenv first."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **extra}
