"""The /stats chart: a PNG drawn with matplotlib, for a phone screen. Pure: data in,
bytes out; callers run it in a worker thread (it takes a few hundred milliseconds)."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.services.stats import ChartData

COLOURS = {"visits": "#6f4e37", "issued": "#2a9d8f", "redeemed": "#e76f51"}
MAX_WEEK_LABELS = 16  # a long period's weeks are labelled every few weeks
MAX_COHORT_FIGURES = 8  # a longer cohort grid shows colours only, no figures in its cells


def render_stats_chart(data: ChartData, title: str) -> bytes:
    """Three panels, stacked for a portrait screen: weekly visits; weekly points issued
    and redeemed; cohort retention (share of each month's new members who bought again
    in each later month). Without cohorts (one location's chart), the first two only."""
    if not data.cohorts:
        figure = Figure(figsize=(7.2, 7.2), dpi=110, layout="constrained")
        visits_ax, points_ax = figure.subplots(2, 1)
        _weekly(data, visits_ax, points_ax)
        figure.suptitle(title, fontsize=15, fontweight="bold")
        return _png(figure)
    figure = Figure(figsize=(7.2, 10.8), dpi=110, layout="constrained")
    visits_ax, points_ax, cohort_ax = figure.subplots(3, 1, height_ratios=(1, 1, 1.2))
    figure.suptitle(title, fontsize=15, fontweight="bold")
    _weekly(data, visits_ax, points_ax)
    _cohorts(data, cohort_ax)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _weekly(data: ChartData, visits_ax: Axes, points_ax: Axes) -> None:
    """Weekly visits; weekly points issued and redeemed."""
    labels = [f"{week:%d %b}" for week in data.weeks]
    positions = list(range(len(labels)))

    visits_ax.bar(positions, data.visits, color=COLOURS["visits"])
    visits_ax.set_title("Visits per week", fontsize=13, loc="left")
    _weeks_axis(visits_ax, positions, labels)

    width = 0.4
    points_ax.bar([p - width / 2 for p in positions], data.issued, width, label="issued",
                  color=COLOURS["issued"])  # fmt: skip
    points_ax.bar([p + width / 2 for p in positions], data.redeemed, width, label="redeemed",
                  color=COLOURS["redeemed"])  # fmt: skip
    points_ax.set_title("Points per week", fontsize=13, loc="left")
    points_ax.legend(fontsize=11, frameon=False)
    _weeks_axis(points_ax, positions, labels)


def _cohorts(data: ChartData, cohort_ax: Axes) -> None:
    """Cohort retention: the share of each month's new members who bought again."""
    months = [cohort[0] for cohort in data.cohorts]
    grid = [
        [float(value) if value is not None else float("nan") for value in shares]
        + [float("nan")] * (len(months) - len(shares))
        for _, _, shares in data.cohorts
    ]
    cohort_ax.set_title("Members still buying, by month joined", fontsize=13, loc="left")
    if months:
        cohort_ax.imshow(grid, cmap="YlOrBr", vmin=0, vmax=1, aspect="auto")
        figures = len(months) <= MAX_COHORT_FIGURES
        for row, (_, _, shares) in enumerate(data.cohorts if figures else []):
            for column, value in enumerate(shares):
                text = "–" if value is None else f"{float(value):.0%}"
                cohort_ax.text(column, row, text, ha="center", va="center", fontsize=10)
        row_labels = [f"{month:%b %Y} ({size})" for month, size, _ in data.cohorts]
        cohort_ax.set_yticks(range(len(months)), row_labels)
        cohort_ax.set_xticks(range(len(months)), [f"+{n}" for n in range(len(months))])
        cohort_ax.set_xlabel("months after joining", fontsize=11)


def _weeks_axis(axis: Axes, positions: list[int], labels: list[str]) -> None:
    step = max(1, -(-len(labels) // MAX_WEEK_LABELS))  # every week, or every few on a long chart
    shown = positions[::-1][::step][::-1]  # always the last week (the period's end)
    axis.set_xticks(shown, [labels[p] for p in shown], rotation=45, ha="right", fontsize=9)
    axis.spines[["top", "right"]].set_visible(False)
    axis.tick_params(axis="y", labelsize=10)
