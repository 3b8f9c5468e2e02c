"""The simulator's configuration: per-model speed and failure modes, parsed strictly from JSON.

A model entry inherits every field it does not set from `default`, and a requested model that
is not listed uses `default` itself (unless `strict_models` is on). Unknown keys are errors, so
a typo such as `"error-rate"` fails loudly instead of silently simulating a healthy provider.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_MODELS = ("sim/economy", "sim/standard", "sim/frontier")
FAILURE_KINDS = ("hang", "cut", "malformed")


class ConfigError(ValueError):
    """The configuration JSON is not valid; the message says which field and why."""


@dataclass(frozen=True)
class ModelBehaviour:
    tokens_per_second: float = 0.0
    first_token_ms: float = 0.0
    error_rate: float = 0.0
    error_status: tuple[int, ...] = (500,)
    retry_after: int | None = 1
    hang: bool = False
    cut_after: int | None = None
    malformed_after: int | None = None
    failures: Mapping[str, float] = field(default_factory=dict)
    # The provider's own output limit: a longer reply stops there, as cut by max_tokens.
    max_output_tokens: int | None = None
    # Quality 0..1 per task type: how often the checkable part of an answer is right, on the
    # easiest prompts. A model with none set answers in plain filler prose, as the simulator
    # always did.
    quality: Mapping[str, float] = field(default_factory=dict)
    # Quality on the hardest prompts (simulator.quality.difficulty_of 1), per task type; the
    # rate moves linearly between the two. A task not set here is as good on hard prompts.
    quality_hard: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulatorConfig:
    default: ModelBehaviour = ModelBehaviour()
    models: Mapping[str, ModelBehaviour] = field(default_factory=dict)
    strict_models: bool = False
    seed: int = 0

    def behaviour_for(self, model: str) -> ModelBehaviour | None:
        """The behaviour of `model`, or None when strict mode does not know it."""
        if model in self.models:
            return self.models[model]
        return None if self.strict_models else self.default


# How often each simulated model is right: the same on the easiest prompts (EASY_QUALITY, every
# tier), falling with difficulty to its quality on the hardest (DEMO_QUALITY_HARD). Economy is
# GPT-3.5-turbo and frontier GPT-4 as published in the GPT-4 Technical Report (GSM8K 57.1% and
# 92.0%, HumanEval 48.1% and 67.0%) and on MT-Bench (7.94 and 8.99 of 10, LMSYS 2023-06-22);
# standard is midway. Each hard value is solved so that the model's mean rate over the public
# set's prompts (at their mean difficulty: GSM8K 0.39, MT-Bench 0.25, HumanEval taken as 0.5)
# is the published figure, clamped at 0; docs/benchmarks.md has the derivation.
EASY_QUALITY = 0.98
TASKS = (
    "coding",
    "math",
    "reasoning",
    "summarization",
    "translation",
    "creative_writing",
    "extraction",
    "classification",
    "chat",
    "question_answering",
)


def _hard(*, math: float, coding: float, prose: float) -> dict[str, float]:
    return {task: prose for task in TASKS} | {"math": math, "reasoning": math, "coding": coding}


DEMO_QUALITY_HARD: Mapping[str, Mapping[str, float]] = {
    "sim/economy": _hard(math=0.0, coding=0.0, prose=0.23),
    "sim/standard": _hard(math=0.42, coding=0.18, prose=0.44),
    "sim/frontier": _hard(math=0.83, coding=0.36, prose=0.65),
}
DEMO_QUALITY: Mapping[str, Mapping[str, float]] = {
    name: dict.fromkeys(TASKS, EASY_QUALITY) for name in DEMO_QUALITY_HARD
}


def config_demo() -> SimulatorConfig:
    """Speeds that look like real providers, fastest for the cheapest tier; task-shaped
    answers as good as each other on easy prompts, falling apart with the tier on hard ones."""
    default = ModelBehaviour(tokens_per_second=60, first_token_ms=250)

    def tier(name: str, **speed: float) -> ModelBehaviour:
        shaped = dataclasses.replace(
            default, quality=dict(DEMO_QUALITY[name]), quality_hard=dict(DEMO_QUALITY_HARD[name])
        )
        return dataclasses.replace(shaped, **speed)  # type: ignore[arg-type]

    return SimulatorConfig(
        default=default,
        models={
            "sim/economy": tier("sim/economy", tokens_per_second=90, first_token_ms=200),
            "sim/standard": tier("sim/standard"),
            "sim/frontier": tier("sim/frontier", tokens_per_second=40, first_token_ms=450),
        },
    )


def config_fast(config: SimulatorConfig) -> SimulatorConfig:
    """The same config with zero latency everywhere (tests, throughput baselines)."""

    def fast(behaviour: ModelBehaviour) -> ModelBehaviour:
        return dataclasses.replace(behaviour, tokens_per_second=0.0, first_token_ms=0.0)

    return dataclasses.replace(
        config,
        default=fast(config.default),
        models={name: fast(behaviour) for name, behaviour in config.models.items()},
    )


def config_parse(data: Any) -> SimulatorConfig:
    """A validated config from decoded JSON; raises ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError("the config must be a JSON object")
    _reject_unknown(data, {"default", "models", "strict_models", "seed"}, "config")
    default = _behaviour_parse(data.get("default", {}), ModelBehaviour(), "default")
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError("models must be an object mapping model names to behaviours")
    strict, seed = data.get("strict_models", False), data.get("seed", 0)
    if not isinstance(strict, bool):
        raise ConfigError("strict_models must be true or false")
    if not _is_int(seed):
        raise ConfigError("seed must be an integer")
    return SimulatorConfig(
        default=default,
        models={
            str(name): _behaviour_parse(entry, default, f"models[{name!r}]")
            for name, entry in models.items()
        },
        strict_models=strict,
        seed=seed,
    )


def config_load(path: Path) -> SimulatorConfig:
    """The config in the JSON file at `path`; raises ConfigError naming the file."""
    try:
        return config_parse(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, ConfigError) as error:
        raise ConfigError(f"{path}: {error}") from error


def config_dump(config: SimulatorConfig) -> dict[str, Any]:
    """The config as JSON data, every model fully expanded; config_parse() reads it back."""
    return {
        "seed": config.seed,
        "strict_models": config.strict_models,
        "default": _behaviour_dump(config.default),
        "models": {name: _behaviour_dump(b) for name, b in config.models.items()},
    }


def _behaviour_dump(behaviour: ModelBehaviour) -> dict[str, Any]:
    data = dataclasses.asdict(behaviour)
    data["error_status"] = list(behaviour.error_status)
    data["failures"] = dict(behaviour.failures)
    data["quality"] = dict(behaviour.quality)
    data["quality_hard"] = dict(behaviour.quality_hard)
    return data


def _behaviour_parse(data: Any, base: ModelBehaviour, where: str) -> ModelBehaviour:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be an object")
    _reject_unknown(data, {f.name for f in dataclasses.fields(ModelBehaviour)}, where)
    values: dict[str, Any] = {}
    for name in ("tokens_per_second", "first_token_ms"):
        if name in data:
            values[name] = _number(data[name], f"{where}.{name}", low=0.0)
    if "error_rate" in data:
        values["error_rate"] = _number(data["error_rate"], f"{where}.error_rate", 0.0, 1.0)
    if "error_status" in data:
        values["error_status"] = _statuses(data["error_status"], f"{where}.error_status")
    for name in ("retry_after", "cut_after", "malformed_after", "max_output_tokens"):
        if name in data:
            values[name] = _optional_count(data[name], f"{where}.{name}")
    if "hang" in data:
        if not isinstance(data["hang"], bool):
            raise ConfigError(f"{where}.hang must be true or false")
        values["hang"] = data["hang"]
    if "failures" in data:
        values["failures"] = _failures(data["failures"], f"{where}.failures")
    for name in ("quality", "quality_hard"):
        if name in data:
            values[name] = _quality(data[name], f"{where}.{name}")
    behaviour = dataclasses.replace(base, **values)
    if behaviour.error_rate + sum(behaviour.failures.values()) > 1 + 1e-9:
        raise ConfigError(f"{where}: error_rate plus the failures weights exceed 1")
    return behaviour


def _failures(data: Any, where: str) -> dict[str, float]:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must map a failure kind to its share")
    for kind in data:
        if kind not in FAILURE_KINDS and not _is_status(kind):
            raise ConfigError(
                f"{where}: unknown kind {kind!r}; use an HTTP status (400-599) or one of "
                + ", ".join(FAILURE_KINDS)
            )
    return {kind: _number(weight, f"{where}[{kind!r}]", 0.0, 1.0) for kind, weight in data.items()}


def _quality(data: Any, where: str) -> dict[str, float]:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must map a task type to a quality between 0 and 1")
    return {str(task): _number(q, f"{where}[{task!r}]", 0.0, 1.0) for task, q in data.items()}


def _statuses(data: Any, where: str) -> tuple[int, ...]:
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{where} must be a non-empty list of HTTP statuses")
    if not all(_is_int(status) and 400 <= status <= 599 for status in data):
        raise ConfigError(f"{where} must hold statuses between 400 and 599")
    return tuple(data)


def _number(value: Any, where: str, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number")
    if not low <= value <= high:
        raise ConfigError(f"{where} must be between {low:g} and {high:g}")
    return float(value)


def _optional_count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{where} must be a whole number >= 0 or null")
    return int(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_status(kind: str) -> bool:
    return kind.isdigit() and 400 <= int(kind) <= 599


def _reject_unknown(data: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
