"""The figures page's one chart, enquiries by category per week, as plain numbers for an SVG template: stacked
bars drawn on the server, so the page runs no charting code and holds under a strict CSP."""

from dataclasses import dataclass
from datetime import date

from assistant.desk.views import Weekly

# Okabe–Ito: eight colours told apart with the common kinds of colour blindness; the legend and the table beside
# the chart carry the same figures for anyone who cannot tell them apart at all.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # "Week of 2 Nov: funding 3" (a tooltip and what a screen reader is told)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) of each gridline
    weeks: list[tuple[float, str]]  # (x centre, "2 Nov") under each bar
    legend: list[tuple[str, str]]  # (colour, category)
    total: int
    summary: str


def _nice_top(peak: int) -> int:
    """The axis top: the peak rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if peak <= multiple * step:
                return multiple * step
        step *= 10


def weekly_bars(weekly: Weekly) -> Chart:
    """The bars, gridlines and labels for the enquiries per category in each week."""
    weeks = [date.fromisoformat(w) for w in weekly.weeks]
    series = weekly.series
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(weeks))]
    top = _nice_top(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(weeks))
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    bars = []
    for i, start in enumerate(weeks):
        base = float(TOP + plot_h)
        for name, counts in series.items():
            if counts[i]:
                height = plot_h * counts[i] / top
                base -= height
                label = f"Week of {start.day} {start:%b}: {name.replace('-', ' ')} {counts[i]}"
                bars.append(Bar(LEFT + i * slot + slot * 0.15, base, slot * 0.7, height, colours[name], label))
    step = max(1, top // 5)  # at most six gridlines, at whole numbers
    ticks = [(TOP + plot_h - plot_h * v / top, v) for v in range(0, top + 1, step)]
    labels = [(LEFT + (i + 0.5) * slot, f"{w.day} {w:%b}") for i, w in enumerate(weeks)]
    total = sum(totals)
    busiest = max(range(len(weeks)), key=lambda i: totals[i]) if weeks and total else None
    summary = f"{total} enquiries in {len(weeks)} weeks"
    if busiest is not None:
        summary += f"; the busiest week began {weeks[busiest].day} {weeks[busiest]:%b} ({totals[busiest]})"
    return Chart(
        WIDTH, HEIGHT, bars, ticks, labels, [(c, n.replace("-", " ")) for n, c in colours.items()], total, summary + "."
    )
