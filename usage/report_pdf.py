"""The monthly FinOps report as a PDF (ReportLab): cover with headline figures, the daily
chart, top tables and a routing summary. Pure drawing: it gets every figure ready-made."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from usage.finops import BreakdownRow, DayFigures, Figures, cents

CREDITS_COLOUR = colors.HexColor("#2563eb")
SAVINGS_COLOUR = colors.HexColor("#16a34a")
TOP_ROWS = 10


@dataclass(frozen=True)
class ReportContent:
    organization: str
    month: date
    totals: Figures
    daily: list[DayFigures]
    tops: dict[str, list[BreakdownRow]]  # title -> rows, most credits first
    tiers: dict[str, int]  # requests per model tier
    blocked_prompts: int
    benchmark_model: str


def amount(value: Decimal) -> str:
    """Money as the report prints it: to the cent, thousands separated."""
    return f"{cents(value):,.2f}"


def percent(rate: Decimal) -> str:
    return f"{rate * 100:.1f}%"


def report_pdf(content: ReportContent) -> bytes:
    """The report's bytes."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"FinOps report {content.organization} {content.month:%Y-%m}",
        author="Switchboard",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build([*_cover(content), PageBreak(), *_details(content)])
    return buffer.getvalue()


def _styles() -> dict[str, Any]:
    sheet = getSampleStyleSheet()
    return {"title": sheet["Title"], "h2": sheet["Heading2"], "body": sheet["BodyText"]}


def _cover(content: ReportContent) -> list[Flowable]:
    styles, totals = _styles(), content.totals
    headline = [
        ["Spend (credits)", amount(totals.credits)],
        [
            f"Benchmark cost at {content.benchmark_model} (credits)",
            amount(totals.benchmark_credits),
        ],
        ["Savings vs benchmark (credits)", amount(totals.savings_credits)],
        ["Savings rate", f"{totals.savings_percent}%"],
        ["Requests", f"{totals.requests:,}"],
        ["Tokens in / out", f"{totals.input_tokens:,} / {totals.output_tokens:,}"],
    ]
    return [
        Paragraph("Switchboard FinOps report", styles["title"]),
        Paragraph(f"{content.organization} · {content.month:%B %Y}", styles["h2"]),
        Spacer(1, 6 * mm),
        _table([["Figure", "Value"], *headline], widths=(110 * mm, 60 * mm)),
        Spacer(1, 8 * mm),
        Paragraph("Credits and savings per day", styles["h2"]),
        _chart(content.daily),
        Paragraph(
            "Savings compare what each request cost with what the same tokens would have "
            f"cost at {content.benchmark_model}'s list prices.",
            styles["body"],
        ),
    ]


def _details(content: ReportContent) -> list[Flowable]:
    styles = _styles()
    flow: list[Flowable] = []
    for title, rows in content.tops.items():
        flow.append(Paragraph(f"Top {title}", styles["h2"]))
        flow.append(_breakdown(rows[:TOP_ROWS]))
        flow.append(Spacer(1, 4 * mm))
    flow.append(Paragraph("Routing summary", styles["h2"]))
    flow.append(_routing(content))
    return flow


def _breakdown(rows: list[BreakdownRow]) -> Table:
    header = ["Name", "Requests", "Credits", "Savings (credits)", "Savings rate"]
    body = [
        [
            row.label[:48],
            f"{row.figures.requests:,}",
            amount(row.figures.credits),
            amount(row.figures.savings_credits),
            f"{row.figures.savings_percent}%",
        ]
        for row in rows
    ] or [["No billed requests", "", "", "", ""]]
    return _table([header, *body], widths=(66 * mm, 22 * mm, 28 * mm, 32 * mm, 24 * mm))


def _routing(content: ReportContent) -> Table:
    total = content.totals.requests
    shares = [
        [f"Requests on {tier} models", f"{count:,}", percent(_share(count, total))]
        for tier, count in content.tiers.items()
    ]
    rows = [
        ["", "Requests", "Share"],
        *shares,
        [
            "Answered by a fallback model",
            f"{content.totals.fallbacks:,}",
            percent(_share(content.totals.fallbacks, total)),
        ],
        [
            "Answered from the cache",
            f"{content.totals.cache_hits:,}",
            percent(_share(content.totals.cache_hits, total)),
        ],
        ["Prompts blocked by the security shield", f"{content.blocked_prompts:,}", ""],
    ]
    return _table(rows, widths=(100 * mm, 36 * mm, 36 * mm))


def _share(count: int, total: int) -> Decimal:
    return Decimal(count) / Decimal(total) if total else Decimal(0)


def _table(rows: list[list[str]], *, widths: tuple[float, ...]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _chart(daily: list[DayFigures]) -> Drawing:
    width, height = 174 * mm, 80 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = int(14 * mm), int(14 * mm)
    chart.width, chart.height = int(width - 20 * mm), int(height - 26 * mm)
    chart.data = [
        [float(d.figures.credits) for d in daily],  # drawing only: the tables carry the figures
        [float(max(d.figures.savings_credits, Decimal(0))) for d in daily],
    ]
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = CREDITS_COLOUR
    chart.bars[1].fillColor = SAVINGS_COLOUR
    chart.barSpacing = 1
    chart.groupSpacing = 2
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [str(d.day.day) if d.day.day % 2 == 1 else "" for d in daily]
    chart.categoryAxis.labels.fontSize = 7
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = int(16 * mm), int(height - 4 * mm)
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontSize = 8
    legend.colorNamePairs = [(CREDITS_COLOUR, "Credits spent"), (SAVINGS_COLOUR, "Savings")]
    drawing.add(legend)
    drawing.add(String(2 * mm, height - 4 * mm, "credits", fontSize=7, fillColor=colors.grey))
    drawing.add(
        String(
            width / 2,
            4 * mm,
            "day of month",
            fontSize=7,
            fillColor=colors.grey,
            textAnchor="middle",
        )
    )
    return drawing
