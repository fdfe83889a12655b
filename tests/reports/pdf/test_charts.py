"""The summary's charts, drawn from plain shapes."""
from __future__ import annotations

import pytest
from reportlab.graphics.shapes import Circle, Line, Path, Rect, String

from reports.figures import Bar
from reports.pdf import charts
from reports.pdf.charts import MAX_SUBJECTS, distribution_chart, subject_chart, subject_charts
from reports.pdf.page import FONT, POOLED, SCHOOL, frame_width
from tests.reports.pdf.samples import analysis

WIDTH = frame_width(False)
PRIMITIVES = (Rect, Line, Path, String, Circle)


def _strings(drawing) -> list[String]:
    return [shape for shape in drawing.contents if isinstance(shape, String)]


def _bars(drawing, colour) -> list[Rect]:
    return [shape for shape in drawing.contents if isinstance(shape, Rect) and shape.fillColor == colour
            and shape.height > 8]                                    # not the legend's swatches


def test_the_charts_are_plain_shapes_in_the_report_font() -> None:
    found = [*subject_charts(analysis().subject_chart, WIDTH),
             distribution_chart(analysis().distribution, WIDTH),
             charts.progress_chart(analysis().progress, WIDTH)]
    for drawing in found:
        assert drawing.initialFontName == FONT
        assert all(isinstance(shape, PRIMITIVES) for shape in drawing.contents)
        assert {string.fontName for string in _strings(drawing)} == {FONT}


def test_the_subject_chart_puts_the_first_subject_on_top_and_the_school_above_the_pool() -> None:
    rows = [("Reading", 75.0, 72.1), ("Writing", 68.8, 70.0), ("Maths", 62.5, None),
            ("Grammar, punctuation and spelling", None, 70.2)]
    drawing = subject_chart(rows, WIDTH)
    labels = {string.text: string for string in _strings(drawing)}
    heights = [labels[label].y for label, _, _ in rows]
    assert heights == sorted(heights, reverse=True)
    school, pooled = _bars(drawing, SCHOOL), _bars(drawing, POOLED)
    assert len(school) == 3 and len(pooled) == 3                   # none for a missing value
    assert school[0].y > pooled[0].y > school[1].y                  # Reading: school, then pool
    assert school[0].width > school[1].width > school[2].width      # 75.0 > 68.8 > 62.5


def test_the_subject_chart_labels_each_bar_and_its_axis_in_percent() -> None:
    rows = [("Reading", 75.0, 72.1), ("Maths", 0.0, None)]
    drawing = subject_chart(rows, WIDTH)
    texts = [string.text for string in _strings(drawing)]
    for label in ("0%", "20%", "40%", "60%", "80%", "100%", "75.0%", "72.1%", "0.0%",
                  "This school", "All participating schools"):
        assert label in texts
    assert texts.count("0.0%") == 1
    reading = next(string for string in _strings(drawing) if string.text == "75.0%")
    bar = max(_bars(drawing, SCHOOL), key=lambda rect: rect.width)
    assert bar.x + bar.width < reading.x < bar.x + bar.width + 6    # just right of its bar


def test_a_long_subject_is_shortened_to_fit_its_room() -> None:
    long = "English language and literature combined award " * 3
    drawing = subject_chart([(long, 50.0, 40.0)], WIDTH)
    label = next(string for string in _strings(drawing) if string.text.startswith("English"))
    assert label.text.endswith("\u2026") and label.getBounds()[0] >= 0


def test_many_subjects_are_cut_into_even_parts() -> None:
    rows = [(f"Subject {n}", float(n), 50.0) for n in range(25)]
    parts = subject_charts(rows, WIDTH)
    assert len(parts) == 2
    counts = [sum(1 for s in _strings(part) if s.text.startswith("Subject")) for part in parts]
    assert counts == [13, 12] and max(counts) <= MAX_SUBJECTS


def test_the_distribution_chart_has_round_ticks_up_to_a_nice_top_and_labelled_bars() -> None:
    bars = [Bar("Below 90", 1), Bar("90-99", 3), Bar("100-109", 9), Bar("110+", 3)]
    drawing = distribution_chart(bars, WIDTH)
    texts = [string.text for string in _strings(drawing)]
    assert texts[:7] == ["0", "2", "4", "6", "8", "10", "12"]      # the axis, 0 to 12
    for bar in bars:
        assert bar.label in texts
    assert texts.count("9") == 1 and texts.count("3") == 2 and texts.count("1") == 1
    rects = _bars(distribution_chart([Bar("a", 2), Bar("b", 4)], WIDTH), SCHOOL)
    assert rects[1].height == pytest.approx(2 * rects[0].height)


@pytest.mark.parametrize("value", [0.4, 1, 3, 9, 17, 40, 140, 999, 12345])
def test_axis_ticks_are_round_few_and_within_the_top(value: float) -> None:
    top = charts._nice_ceiling(value)
    ticks = charts._ticks(top)
    assert ticks[0] == 0 and ticks[-1] <= top and 3 <= len(ticks) <= 7
    step = ticks[1]
    assert all(t == pytest.approx(n * step) for n, t in enumerate(ticks))
    assert charts._plain(step).strip("0.") in {"1", "2", "5"}      # 0.2, 1, 50, 200 …
