"""The /stats chart: a PNG drawn with matplotlib, for a phone screen. Pure: data and labels
in, bytes out; callers run it in a worker thread (it takes a few hundred milliseconds).

Every word and figure the chart shows comes in :class:`ChartLabels`, made by the caller
in its reader's language: this module knows no language. Matplotlib's own font (DejaVu
Sans) writes Latin, Cyrillic and Greek, so the shipped languages all show.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.services.stats import ChartData

COLOURS = {"visits": "#6f4e37", "issued": "#2a9d8f", "redeemed": "#e76f51"}
MAX_WEEK_LABELS = 16  # a long period's weeks are labelled every few weeks
MAX_COHORT_FIGURES = 8  # a longer cohort grid shows colours only, no figures in its cells


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The chart's texts, in the reader's language and locale."""

    title: str
    visits: str  # the first panel's title
    points: str  # the second panel's title
    issued: str  # its legend
    redeemed: str
    cohorts: str  # the third panel's title
    months_after: str  # its columns' axis
    week: Callable[[date], str]  # a week by its Monday ("3 Nov")
    cohort: Callable[[date, int], str]  # a month joined and its new members ("Nov 2026 (12)")
    share: Callable[[float], str]  # a cohort cell ("45%")
    offset: Callable[[int], str]  # a cohort column: months after joining ("+1")


def render_stats_chart(data: ChartData, labels: ChartLabels) -> bytes:
    """Three panels, stacked for a portrait screen: weekly visits; weekly points issued
    and redeemed; cohort retention (share of each month's new members who bought again
    in each later month). Without cohorts (one location's chart), the first two only."""
    if not data.cohorts:
        figure = Figure(figsize=(7.2, 7.2), dpi=110, layout="constrained")
        visits_ax, points_ax = figure.subplots(2, 1)
        _weekly(data, labels, visits_ax, points_ax)
        figure.suptitle(labels.title, fontsize=15, fontweight="bold")
        return _png(figure)
    figure = Figure(figsize=(7.2, 10.8), dpi=110, layout="constrained")
    visits_ax, points_ax, cohort_ax = figure.subplots(3, 1, height_ratios=(1, 1, 1.2))
    figure.suptitle(labels.title, fontsize=15, fontweight="bold")
    _weekly(data, labels, visits_ax, points_ax)
    _cohorts(data, labels, cohort_ax)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _weekly(data: ChartData, labels: ChartLabels, visits_ax: Axes, points_ax: Axes) -> None:
    """Weekly visits; weekly points issued and redeemed."""
    weeks = [labels.week(week) for week in data.weeks]
    positions = list(range(len(weeks)))

    visits_ax.bar(positions, data.visits, color=COLOURS["visits"])
    visits_ax.set_title(labels.visits, fontsize=13, loc="left")
    _weeks_axis(visits_ax, positions, weeks)

    width = 0.4
    points_ax.bar([p - width / 2 for p in positions], data.issued, width, label=labels.issued,
                  color=COLOURS["issued"])  # fmt: skip
    points_ax.bar([p + width / 2 for p in positions], data.redeemed, width,
                  label=labels.redeemed, color=COLOURS["redeemed"])  # fmt: skip
    points_ax.set_title(labels.points, fontsize=13, loc="left")
    points_ax.legend(fontsize=11, frameon=False)
    _weeks_axis(points_ax, positions, weeks)


def _cohorts(data: ChartData, labels: ChartLabels, cohort_ax: Axes) -> None:
    """Cohort retention: the share of each month's new members who bought again."""
    months = [cohort[0] for cohort in data.cohorts]
    grid = [
        [float(value) if value is not None else float("nan") for value in shares]
        + [float("nan")] * (len(months) - len(shares))
        for _, _, shares in data.cohorts
    ]
    cohort_ax.set_title(labels.cohorts, fontsize=13, loc="left")
    if months:
        cohort_ax.imshow(grid, cmap="YlOrBr", vmin=0, vmax=1, aspect="auto")
        figures = len(months) <= MAX_COHORT_FIGURES
        for row, (_, _, shares) in enumerate(data.cohorts if figures else []):
            for column, value in enumerate(shares):
                text = "–" if value is None else labels.share(float(value))
                cohort_ax.text(column, row, text, ha="center", va="center", fontsize=10)
        row_labels = [labels.cohort(month, size) for month, size, _ in data.cohorts]
        cohort_ax.set_yticks(range(len(months)), row_labels)
        cohort_ax.set_xticks(range(len(months)), [labels.offset(n) for n in range(len(months))])
        cohort_ax.set_xlabel(labels.months_after, fontsize=11)


def _weeks_axis(axis: Axes, positions: list[int], labels: list[str]) -> None:
    step = max(1, -(-len(labels) // MAX_WEEK_LABELS))  # every week, or every few on a long chart
    shown = positions[::-1][::step][::-1]  # always the last week (the period's end)
    axis.set_xticks(shown, [labels[p] for p in shown], rotation=45, ha="right", fontsize=9)
    axis.spines[["top", "right"]].set_visible(False)
    axis.tick_params(axis="y", labelsize=10)
