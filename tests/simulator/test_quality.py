"""The simulator's quality model: a difficulty read from the prompt alone, models as good as
each other on easy prompts and apart on hard ones, errors on the same prompts."""

from __future__ import annotations

import pytest

from simulator.config import (
    DEMO_QUALITY,
    DEMO_QUALITY_HARD,
    TASKS,
    ConfigError,
    config_demo,
    config_dump,
    config_parse,
)
from simulator.quality import answer_text, difficulty_of, model_right, right_rate

EASY = [f"How can I get better at {topic}?" for topic in ("chess", "cooking", "running")]
HARD = [
    f"A shop sells {n} apples at $3 each and {n + 4} pears at $2 each. After a week {n // 2} "
    f"apples are left and twice as many pears. If each unsold fruit is then sold at half price, "
    f"and 10% of the rest must be given away, how much money does the shop make in total?"
    for n in range(10, 400)
]


def rates(name: str, prompt: str) -> float:
    return right_rate("math", difficulty_of(prompt), DEMO_QUALITY[name], DEMO_QUALITY_HARD[name])


def test_difficulty_is_deterministic_bounded_and_grows_with_numbers_and_steps() -> None:
    easy, hard = difficulty_of(EASY[0]), difficulty_of(HARD[0])

    assert difficulty_of(EASY[0]) == easy and difficulty_of(HARD[0]) == hard
    assert 0 <= easy < 0.1 < 0.5 < hard <= 1
    assert difficulty_of(HARD[0] + " Answer in exactly three sentences.") > hard


@pytest.mark.parametrize("task", TASKS)
def test_every_demo_tier_is_as_good_as_the_others_on_the_easiest_prompts(task: str) -> None:
    easiest = {right_rate(task, 0.0, DEMO_QUALITY[n], DEMO_QUALITY_HARD[n]) for n in DEMO_QUALITY}
    hardest = [
        right_rate(task, 1.0, DEMO_QUALITY[n], DEMO_QUALITY_HARD[n])
        for n in ("sim/economy", "sim/standard", "sim/frontier")
    ]

    assert len(easiest) == 1
    assert hardest == sorted(hardest) and hardest[0] < hardest[-1]


def test_weak_and_strong_answer_easy_prompts_alike_and_the_weak_fails_only_hard_ones() -> None:
    demo = config_demo().models
    economy, frontier = demo["sim/economy"], demo["sim/frontier"]

    def right(behaviour, prompt: str) -> bool:
        return model_right(prompt, behaviour.quality, behaviour.quality_hard)

    easy = [(right(economy, p), right(frontier, p)) for p in EASY]
    hard = [(right(economy, p), right(frontier, p)) for p in HARD]

    assert all(e == f for e, f in easy)
    assert not any(e and not f for e, f in hard)  # the same latent draw: errors are nested
    assert sum(f and not e for e, f in hard) > len(HARD) / 4
    assert rates("sim/economy", HARD[0]) < rates("sim/frontier", HARD[0])


def test_an_answer_is_the_same_every_time_and_a_wrong_one_is_wrong_for_every_weak_model() -> None:
    weak = {"math": 0.0}

    first = answer_text(model="a", prompt=HARD[0], quality=weak, length=40)

    assert first == answer_text(model="a", prompt=HARD[0], quality=weak, length=40)
    assert first == answer_text(model="b", prompt=HARD[0], quality=weak, length=40)
    assert first != answer_text(model="a", prompt=HARD[0], quality={"math": 1.0}, length=40)


def test_a_task_without_a_hard_quality_is_as_good_on_hard_prompts() -> None:
    assert right_rate("math", 1.0, {"math": 0.3}) == 0.3
    assert right_rate("math", 0.5, {"math": 0.9}, {"math": 0.5}) == pytest.approx(0.7)


def test_quality_hard_round_trips_and_is_validated() -> None:
    parsed = config_parse(
        {"models": {"m": {"quality": {"math": 1}, "quality_hard": {"math": 0.2}}}}
    )

    assert parsed.models["m"].quality_hard == {"math": 0.2}
    assert config_parse(config_dump(parsed)) == parsed
    with pytest.raises(ConfigError, match=r"quality_hard\['math'\] must be between 0 and 1"):
        config_parse({"models": {"m": {"quality_hard": {"math": 1.5}}}})
