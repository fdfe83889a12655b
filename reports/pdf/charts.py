"""The summary report's charts, drawn as reportlab.graphics vector drawings.

Vector drawings stay sharp when a school prints or zooms, need no image library and render in
milliseconds; each chart is built once per report and handed to platypus as a flowable. A chart
draws its plain shapes itself (``Chart.draw``) rather than through renderPDF.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab import rl_config
from reportlab.graphics.shapes import Circle, Drawing, Line, Path, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.figures import Bar, Progress
from reports.pdf.page import BAND, FONT, GRID, INK, POOLED, SCHOOL, fit, signed
from reports.pdf.text import strings
from reports.pdf.text import width as text_width

LABEL_SIZE = 8
BAR_LABEL_SIZE = 6.5
ROW = 30           # points per subject in the grouped bar chart
BAR = 10           # thickness of one bar; two bars, the gap between them and padding make a ROW
BAR_GAP = 2
TICK = 5           # length of an axis tick
MAX_SUBJECTS = 15  # subjects per chart: 15 rows and the legend fit any page with room to spare
PROGRESS_ROW = 22  # points per measure in the progress chart

# reportlab checks every attribute set on a shape against its type; ours are built by this module
# only, so the checks cost time (about 0.5 ms a summary) and catch nothing the tests do not.
rl_config.shapeChecking = 0

_MOVE, _LINE = 0, 1          # Path.operators: moveTo, lineTo (the only ones _lines() uses)


class Chart(Drawing):
    """A drawing of the plain shapes below, which draws itself straight onto the page.

    renderPDF tracks the full graphics state through a stack for every shape and draws each
    string as a text object of its own: 2.5 ms for a summary's three charts. Here each shape
    is one canvas call, and the strings, drawn last (no shape is drawn over a label), share a
    text object per font, size and colour.
    """

    def draw(self) -> None:
        canvas = self.canv
        labels: dict[tuple[str, float, object], list[tuple[float, float, str]]] = {}
        for shape in self.contents:
            if isinstance(shape, String):
                x = shape.x
                if shape.textAnchor != "start":
                    wide = text_width(shape.text, shape.fontName, shape.fontSize)
                    x -= wide if shape.textAnchor == "end" else wide / 2
                labels.setdefault((shape.fontName, shape.fontSize, shape.fillColor), []).append(
                    (x, shape.y, shape.text))
                continue
            fill = getattr(shape, "fillColor", None)
            stroke = shape.strokeColor if shape.strokeWidth else None
            if fill is not None:
                canvas.setFillColor(fill)
            if stroke is not None:
                canvas.setStrokeColor(stroke)
                canvas.setLineWidth(shape.strokeWidth)
            paint = {"stroke": int(stroke is not None), "fill": int(fill is not None)}
            if isinstance(shape, Rect):
                canvas.rect(shape.x, shape.y, shape.width, shape.height, **paint)
            elif isinstance(shape, Circle):
                canvas.circle(shape.cx, shape.cy, shape.r, **paint)
            elif isinstance(shape, Line):
                canvas.line(shape.x1, shape.y1, shape.x2, shape.y2)
            elif isinstance(shape, Path) and set(shape.operators) <= {_MOVE, _LINE}:
                path = canvas.beginPath()
                for operator, at in zip(shape.operators, range(0, len(shape.points), 2)):
                    (path.moveTo if operator == _MOVE else path.lineTo)(*shape.points[at:at + 2])
                canvas.drawPath(path, stroke=paint["stroke"], fill=0)
            else:
                raise TypeError(f"a chart cannot draw {shape!r}")
        for (font, size, colour), items in labels.items():
            strings(canvas, font, size, colour, items)


def _drawing(width: float, height: float) -> Chart:
    """A chart whose renderer starts in the report font, not reportlab's default Helvetica.

    Every string sets its own ``fontName``; this keeps the renderer from pulling Helvetica
    into the PDF just to set the initial state.
    """
    return Chart(width, height, initialFontName=FONT)


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


def _lines(segments: Sequence[tuple[float, float, float, float]], colour, width: float) -> Path:
    """Straight lines of one colour and width as one path: the same strokes as a Line each, but
    one shape for the renderer to set up instead of a dozen."""
    path = Path(strokeColor=colour, strokeWidth=width, fillColor=None)
    for x1, y1, x2, y2 in segments:
        path.moveTo(x1, y1)
        path.lineTo(x2, y2)
    return path


def _ticks(top: float) -> list[float]:
    """Round ticks from 0 to at most ``top``: steps of 1, 2 or 5 times a power of ten, at most six."""
    if top <= 0:
        return [0.0]
    magnitude = 10 ** math.floor(math.log10(top))
    step = next(s * m for m in (magnitude / 10, magnitude) for s in (1, 2, 5) if top / (s * m) <= 6)
    return [round(step * n, 10) for n in range(int(top / step + 1e-9) + 1)]


def subject_chart(rows: Sequence[tuple[str, float | None, float | None]], width: float) -> Drawing:
    """School against all participating schools, subject by subject, on a 0–100% scale.

    Horizontal bars because subject labels are long; the school's bar above the pooled one in
    each subject, the first subject at the top, as in the table. Drawn from plain shapes: a
    reportlab chart widget costs several milliseconds a report in attribute machinery alone.
    """
    labels = [label for label, _, _ in rows]
    left = _label_width(labels, width)
    height = ROW * len(rows)
    drawing = _drawing(width, height + 44)
    base, plot = 18, width - left - 36
    grid = []
    axes = [(left, base, left + plot, base), (left, base, left, base + height)]
    axes += [(left, base + ROW * n, left - TICK, base + ROW * n) for n in range(len(rows) + 1)]
    for percent in range(0, 101, 20):                     # grid, ticks and labels every 20%
        x = left + plot * percent / 100
        if percent:
            grid.append((x, base, x, base + height))
        axes.append((x, base, x, base - TICK))
        drawing.add(String(x, base - 13, f"{percent}%", fontName=FONT, fontSize=LABEL_SIZE,
                           textAnchor="middle", fillColor=INK))
    drawing.add(_lines(grid, GRID, 0.3))                  # under the bars
    pad = (ROW - 2 * BAR - BAR_GAP) / 2
    for row, (label, school, pooled) in enumerate(rows):
        top = base + height - ROW * row
        drawing.add(String(left - 5, top - ROW / 2 - 3.2, fit(label, FONT, LABEL_SIZE, left - 6),
                           fontName=FONT, fontSize=LABEL_SIZE, textAnchor="end", fillColor=INK))
        for y, value, colour in ((top - pad - BAR, school, SCHOOL),
                                 (top - pad - 2 * BAR - BAR_GAP, pooled, POOLED)):
            if value is None:
                continue
            end = left + plot * min(max(value, 0.0), 100.0) / 100
            if end > left:
                drawing.add(Rect(left, y, end - left, BAR, fillColor=colour, strokeColor=None))
            drawing.add(String(end + 3, y + BAR / 2 - 2.6, f"{value:.1f}%", fontName=FONT,
                               fontSize=BAR_LABEL_SIZE, fillColor=INK))
    drawing.add(_lines(axes, INK, 1))                     # over the bars' ends at zero
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
    left, base, plot, height = 34, 20, width - 40, 120
    top = _nice_ceiling(max(bar.value for bar in bars))
    slot = plot / len(bars)
    grid = []
    axes = [(left, base, left + plot, base), (left, base, left, base + height)]
    axes += [(left + slot * n, base, left + slot * n, base - TICK) for n in range(len(bars) + 1)]
    for tick in _ticks(top):
        y = base + height * tick / top
        if tick:
            grid.append((left, y, left + plot, y))
        axes.append((left - TICK, y, left, y))
        drawing.add(String(left - 5, y - 3.2, _plain(tick), fontName=FONT, fontSize=LABEL_SIZE,
                           textAnchor="end", fillColor=INK))
    drawing.add(_lines(grid, GRID, 0.3))
    bar_width = slot * 2 / 3                       # a third of each slot is the gap between bars
    for index, bar in enumerate(bars):
        middle = left + slot * (index + 0.5)
        drawing.add(String(middle, base - 13, fit(bar.label, FONT, LABEL_SIZE, slot),
                           fontName=FONT, fontSize=LABEL_SIZE, textAnchor="middle", fillColor=INK))
        tall = height * min(max(bar.value, 0.0), top) / top
        if tall > 0:
            drawing.add(Rect(middle - bar_width / 2, base, bar_width, tall, fillColor=SCHOOL,
                             strokeColor=None))
        drawing.add(String(middle, base + tall + 3.4, _plain(bar.value), fontName=FONT,
                           fontSize=BAR_LABEL_SIZE, textAnchor="middle", fillColor=INK))
    drawing.add(_lines(axes, INK, 1))
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

    ticks = (-extent, -extent / 2, 0.0, extent / 2, extent)
    drawing.add(_lines([(x_of(tick), base, x_of(tick), base + height) for tick in ticks if tick],
                       GRID, 0.3))
    drawing.add(Line(x_of(0), base, x_of(0), base + height, strokeColor=INK, strokeWidth=1))
    for tick in ticks:
        drawing.add(String(x_of(tick), base - 10, signed(tick), fontName=FONT,
                           fontSize=LABEL_SIZE - 1, textAnchor="middle", fillColor=INK))
    drawing.add(String(x_of(0), base + height + 6, "0 = as expected from prior attainment",
                       fontName=FONT, fontSize=LABEL_SIZE - 1, textAnchor="middle", fillColor=INK))
    rows = [base + height - PROGRESS_ROW * (row + 0.5) for row in range(len(measures))]
    whiskers = []                                         # every interval, under the dots
    for y, measure in zip(rows, measures):
        if measure.low is not None and measure.high is not None:
            low, high = x_of(measure.low), x_of(measure.high)
            whiskers += [(low, y, high, y), (low, y - 4, low, y + 4), (high, y - 4, high, y + 4)]
    drawing.add(_lines(whiskers, BAND, 1.2))
    for y, measure in zip(rows, measures):
        drawing.add(String(left - 6, y - 3, fit(measure.label, FONT, LABEL_SIZE, left - 6),
                           fontName=FONT, fontSize=LABEL_SIZE, textAnchor="end", fillColor=INK))
        drawing.add(Circle(x_of(measure.mean), y, 3.5, fillColor=SCHOOL, strokeColor=BAND,
                           strokeWidth=0.8))
        drawing.add(String(left + plot + 6, y - 3, signed(measure.mean), fontName=FONT,
                           fontSize=LABEL_SIZE, fillColor=INK))
    return drawing
