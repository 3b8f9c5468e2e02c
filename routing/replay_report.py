"""The replay's table (Markdown) and its convergence curve (a hand-made SVG, no plotting
library needed)."""

from __future__ import annotations

from routing.replay import ModeResult, ReplayReport

WIDTH, HEIGHT, PAD = 640, 320, 48


def _quality(result: ModeResult) -> str:
    low, high = result.interval()
    return f"{result.quality:.1%} ({low:.1%}-{high:.1%})"


def _row(when: str, result: ModeResult, premium: ModeResult) -> str:
    saving = 1 - result.cost / premium.cost if premium.cost else 0
    return f"| {when} | {result.mode} | ${result.cost:.4f} | {saving:.0%} | {_quality(result)} |"


def replay_markdown(report: ReplayReport) -> str:
    premium = report.before[1]
    lines = [
        f"Replay of {report.prompts} prompts, {len(report.periods)} learning periods.",
        "",
        "| when | mode | cost (USD) | cheaper than premium | judged quality (95% CI) |",
        "|---|---|---:|---:|---:|",
        *(_row("before learning", r, premium) for r in report.before),
        *(_row("after learning", r, premium) for r in report.after),
        *([_row("upper bound", report.oracle, premium)] if report.oracle else []),
        "",
        "| period | audits | explored | escalated | served cost | served quality "
        "| auto cost after | auto quality after |",
        "|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for period in report.periods:
        escalated = ", ".join("×".join(key) for key in period.escalations) or "-"
        served = period.served or period.auto
        lines.append(
            f"| {period.number} | {period.audits} | {period.explorations} | {escalated} "
            f"| ${served.cost:.4f} | {served.quality:.1%} "
            f"| ${period.auto.cost:.4f} | {_quality(period.auto)} |"
        )
    return "\n".join(lines)


def _points(values: list[float], low: float, high: float) -> str:
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    return " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD):.1f}"
        for i, v in enumerate(values)
    )


def convergence_svg(report: ReplayReport) -> str:
    """Auto mode's quality and its cost relative to always-premium, period by period
    (period 0 is before learning), with always-premium's quality as a dashed line."""
    premium = report.before[1]
    autos = [report.before[0], *(p.auto for p in report.periods)]
    quality = [a.quality for a in autos]
    relative = [float(a.cost / premium.cost) if premium.cost else 0.0 for a in autos]
    flat = [premium.quality] * len(autos)
    labels = "".join(
        f'<text x="{PAD + i * (WIDTH - 2 * PAD) / max(len(autos) - 1, 1):.1f}" '
        f'y="{HEIGHT - PAD + 18}" font-size="11" text-anchor="middle">{i}</text>'
        for i in range(len(autos))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{PAD}" y="24" font-size="14">Auto mode while it learns (0..1)</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="{PAD - 6}" y="{PAD + 4}" font-size="11" text-anchor="end">1</text>'
        f'<text x="{PAD - 6}" y="{HEIGHT - PAD + 4}" font-size="11" text-anchor="end">0</text>'
        f"{labels}"
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">'
        "learning period (matrix rebuilds)</text>"
        f'<polyline fill="none" stroke="#1a7f37" stroke-width="2" '
        f'points="{_points(quality, 0, 1)}"/>'
        f'<polyline fill="none" stroke="#1a7f37" stroke-dasharray="5 4" '
        f'points="{_points(flat, 0, 1)}"/>'
        f'<polyline fill="none" stroke="#0969da" stroke-width="2" '
        f'points="{_points(relative, 0, 1)}"/>'
        f'<text x="{WIDTH - PAD}" y="{PAD - 18}" font-size="11" text-anchor="end" '
        'fill="#1a7f37">judged quality (dashed: always premium)</text>'
        f'<text x="{WIDTH - PAD}" y="{PAD - 4}" font-size="11" text-anchor="end" '
        'fill="#0969da">cost relative to always premium</text>'
        "</svg>"
    )
