"""The summary report's charts, drawn as reportlab.graphics vector drawings.

Vector drawings stay sharp when a school prints or zooms, need no image library and render in
milliseconds; each chart is built once per report and handed to platypus as a flowable.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.figures import Bar, Progress
from reports.pdf.page import BAND, FONT, GRID, INK, POOLED, SCHOOL, fit, signed

LABEL_SIZE = 8
ROW = 30           # points per subject in the grouped bar chart
MAX_SUBJECTS = 15  # subjects per chart: 15 rows and the legend fit any page with room to spare
PROGRESS_ROW = 22  # points per measure in the progress chart


def _drawing(width: float, height: float) -> Drawing:
    """A drawing whose renderer starts in the report font, not reportlab's default Helvetica.

    Every string sets its own ``fontName``; this keeps the renderer from pulling Helvetica
    into the PDF just to set the initial state.
    """
    return Drawing(width, height, initialFontName=FONT)


def _label_width(labels: Sequence[str], width: float) -> float:
    """Room for category labels: as wide as the longest, but never more than 40% of the chart."""
    widest = max((stringWidth(label, FONT, LABEL_SIZE) for label in labels), default=0.0)
    return min(widest + 6, width * 0.4)


def _legend(drawing: Drawing, x: float, y: float) -> None:
    for colour, name in ((SCHOOL, "This school"), (POOLED, "All participating schools")):
        drawing.add(Rect(x, y, 8, 8, fillColor=colour, strokeColor=None))
        drawing.add(String(x + 11, y + 1, name, fontName=FONT, fontSize=LABEL_SIZE, fillColor=INK))
        x += 22 + stringWidth(name, FONT, LABEL_SIZE)


def subject_charts(rows: Sequence[tuple[str, float | None, float | None]], width: float) -> list[Drawing]:
    """The subject chart, cut into even parts of at most MAX_SUBJECTS so each part fits a page.

    A drawing taller than the page cannot be laid out at all; a KS4 school can have 25 subjects.
    Empty when no subject has a figure.
    """
    if not any(school is not None or pooled is not None for _, school, pooled in rows):
        return []
    parts = math.ceil(len(rows) / MAX_SUBJECTS)
    size = math.ceil(len(rows) / parts)
    return [subject_chart(rows[start:start + size], width) for start in range(0, len(rows), size)]


def subject_chart(rows: Sequence[tuple[str, float | None, float | None]], width: float) -> Drawing:
    """School against all participating schools, subject by subject, on a 0–100% scale.

    Horizontal bars because subject labels are long.
    """
    labels = [label for label, _, _ in rows]
    left = _label_width(labels, width)
    height = ROW * len(rows)
    drawing = _drawing(width, height + 44)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = left, 18, width - left - 36, height
    # Within a group reportlab draws the first series lowest: pooled first puts the school on top.
    chart.data = [[pooled for _, _, pooled in rows], [school for _, school, _ in rows]]
    chart.bars[0].fillColor, chart.bars[1].fillColor = POOLED, SCHOOL
    chart.bars.strokeColor = None
    chart.barSpacing, chart.groupSpacing = 2, 8
    chart.categoryAxis.categoryNames = [fit(label, FONT, LABEL_SIZE, left - 6) for label in labels]
    chart.categoryAxis.reverseDirection = 1          # first subject at the top, as in the table
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = LABEL_SIZE
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.barLabelFormat = lambda value: "" if value is None else f"{value:.1f}%"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    _legend(drawing, left, height + 30)
    return drawing


def _nice_ceiling(value: float) -> float:
    """A round axis top a little above ``value``, leaving room for the label over the tallest bar."""
    target = value * 1.12
    if target <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(target))
    return float(next(step * magnitude for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
                      if step * magnitude >= target))


def _plain(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def distribution_chart(bars: Sequence[Bar], width: float) -> Drawing | None:
    """One bar per category (e.g. pupils per grade), each labelled with its value."""
    if not bars:
        return None
    drawing = _drawing(width, 150)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 34, 20, width - 40, 120
    chart.data = [[bar.value for bar in bars]]
    chart.bars[0].fillColor = SCHOOL
    chart.bars.strokeColor = None
    chart.categoryAxis.categoryNames = [fit(bar.label, FONT, LABEL_SIZE, (width - 40) / len(bars))
                                        for bar in bars]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    top = _nice_ceiling(max(bar.value for bar in bars))
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.labelTextFormat = _plain
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = LABEL_SIZE
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.barLabelFormat = _plain
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _progress_extent(measures: Sequence[Progress]) -> float:
    """Half the axis: the furthest end of any interval, rounded up to a half, at least 0.5."""
    furthest = max(abs(v) for p in measures for v in (p.mean, p.low, p.high) if v is not None)
    return max(0.5, math.ceil(furthest * 2) / 2)


def progress_chart(progress: Sequence[Progress], width: float) -> Drawing | None:
    """Each measure's mean as a dot, its 95% confidence interval as a whisker, around zero.

    Zero is "as much progress as participating pupils with the same prior attainment"; an
    interval that crosses it is not evidence of a difference. None when no measure has a mean.
    """
    measures = [p for p in progress if p.mean is not None]
    if not measures:
        return None
    left = _label_width([p.label for p in measures], width)
    right = 48
    plot = width - left - right
    extent = _progress_extent(measures)
    height = PROGRESS_ROW * len(measures)
    drawing = _drawing(width, height + 24)
    base = 16

    def x_of(value: float) -> float:
        return left + plot * (value + extent) / (2 * extent)

    for tick in (-extent, -extent / 2, 0.0, extent / 2, extent):
        x = x_of(tick)
        drawing.add(Line(x, base, x, base + height, strokeColor=INK if tick == 0 else GRID,
                         strokeWidth=1 if tick == 0 else 0.3))
        drawing.add(String(x, base - 10, signed(tick), fontName=FONT, fontSize=LABEL_SIZE - 1,
                           textAnchor="middle", fillColor=INK))
    drawing.add(String(x_of(0), base + height + 6, "0 = as expected from prior attainment",
                       fontName=FONT, fontSize=LABEL_SIZE - 1, textAnchor="middle", fillColor=INK))
    for row, measure in enumerate(measures):
        y = base + height - PROGRESS_ROW * (row + 0.5)
        drawing.add(String(left - 6, y - 3, fit(measure.label, FONT, LABEL_SIZE, left - 6),
                           fontName=FONT, fontSize=LABEL_SIZE, textAnchor="end", fillColor=INK))
        if measure.low is not None and measure.high is not None:
            low, high = x_of(measure.low), x_of(measure.high)
            drawing.add(Line(low, y, high, y, strokeColor=BAND, strokeWidth=1.2))
            for end in (low, high):
                drawing.add(Line(end, y - 4, end, y + 4, strokeColor=BAND, strokeWidth=1.2))
        drawing.add(Circle(x_of(measure.mean), y, 3.5, fillColor=SCHOOL, strokeColor=BAND,
                           strokeWidth=0.8))
        drawing.add(String(left + plot + 6, y - 3, signed(measure.mean), fontName=FONT,
                           fontSize=LABEL_SIZE, fillColor=INK))
    return drawing
