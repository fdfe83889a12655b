"""The summary report: a school's headline figures beside every participating school's and national.

Each figure carries its pupil count because a percentage of 8 pupils and one of 80 mean very
different things; each national figure carries its year and source because they lag by a year.
"""
from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Spacer

from reports.figures import Analysis, Figure, HeadlineRow, National, Progress, ReportHeader
from reports.pdf import charts
from reports.pdf.grid import Grid, heads
from reports.pdf.page import (
    DASH,
    STYLES,
    build,
    frame_width,
    number,
    pupils_count,
    school_chrome,
    signed,
)
from reports.pdf.text import Text

TITLE = "Summary report"


def _figure(figure: Figure | None) -> str:
    """"62.5% (16 pupils)": the value with the pupils it is worked out over."""
    if figure is None or figure.value is None:
        return DASH
    return f"{number(figure.value, figure.unit)} ({pupils_count(figure.count)})"


def _national(national: National | None, unit: str, marker: str) -> str:
    if national is None:
        return DASH
    return f"{number(national.value, unit)} ({national.year}){marker}"


def headline_section(rows: list[HeadlineRow], width: float) -> list[Flowable]:
    """The headline table and the footnote naming where each national figure was published."""
    story: list[Flowable] = [Text("Headline figures", STYLES["h2"])]
    if not rows:
        return [*story, Text("There are no headline figures for this collection.", STYLES["body"])]
    sources: list[str] = []
    for row in rows:
        if row.national is not None and row.national.source not in sources:
            sources.append(row.national.source)
    numbered = len(sources) > 1      # one shared source needs no markers

    def marker(national: National | None) -> str:
        if national is None or not numbered:
            return ""
        return f" [{sources.index(national.source) + 1}]"

    data = [[row.school.label, _figure(row.school), _figure(row.participating),
             _national(row.national, row.school.unit, marker(row.national))] for row in rows]
    share = width * 0.21
    story.append(Grid(heads(["Measure", "This school", "All participating schools", "National"]),
                      data, [width - 3 * share, share, share, share], right_from=1))
    story.append(Spacer(1, 3))
    if len(sources) == 1:
        story.append(Text(f"National figures: {sources[0]}.", STYLES["note"]))
    elif numbered:
        story.append(Text("Sources of national figures:", STYLES["note"]))
        story.extend(Text(f"[{index}] {source}", STYLES["note"])
                     for index, source in enumerate(sources, start=1))
    return story


def _progress_table(progress: list[Progress], width: float) -> Grid:
    data = []
    for measure in progress:
        interval = (DASH if measure.low is None or measure.high is None
                    else f"{signed(measure.low)} to {signed(measure.high)}")
        data.append([measure.label, str(measure.pupils), str(measure.missing), signed(measure.mean),
                     interval])
    share = width * 0.15
    return Grid(heads(["Measure", "Pupils counted", "Without prior attainment", "Average progress",
                       "95% confidence interval"]),
                data, [width - 4 * share, share, share, share, share], right_from=1)


PROGRESS_CAPTION = ("Pupils without prior attainment are not counted: their progress is never "
                    "estimated. The whisker shows the 95% confidence interval: when it crosses zero, "
                    "the school's progress is not clearly different from that of similar pupils "
                    "in participating schools.")


def progress_section(analysis: Analysis, width: float) -> list[Flowable]:
    """The progress chart and table, or only the note when there is no progress to show."""
    heading = Text("Progress", STYLES["h2"])
    note = ([Text(analysis.progress_note, STYLES["body"])]
            if analysis.progress_note else [])
    chart = charts.progress_chart(analysis.progress, width)
    if chart is None:
        return [heading, *note] if note else []
    # Heading, chart, table and caption read as one: a page break inside them would strand a part.
    return [KeepTogether([heading, chart, Spacer(1, 4), _progress_table(analysis.progress, width),
                          Spacer(1, 3), Text(PROGRESS_CAPTION, STYLES["note"]), *note])]


def chart_sections(analysis: Analysis, width: float) -> list[Flowable]:
    story: list[Flowable] = []
    subjects = charts.subject_charts(analysis.subject_chart, width)
    if subjects:
        story += [Text("Subjects: this school and all participating schools", STYLES["h2"]),
                  *subjects]
    distribution = charts.distribution_chart(analysis.distribution, width)
    if distribution is not None:
        story += [Text(analysis.distribution_title, STYLES["h2"]), distribution]
    return story


def summary_pdf(header: ReportHeader, analysis: Analysis, *, password: str | None = None) -> bytes:
    """The school's summary report as PDF bytes; the same input always gives the same bytes."""
    width = frame_width(False)
    story: list[Flowable] = [
        Text(TITLE, STYLES["title"]),
        Text(f"{header.school_name}: {header.collection_name}, window {header.window_number}. "
             "Each figure is shown with the number of pupils it is worked out over.", STYLES["body"]),
    ]
    story += headline_section(analysis.headline, width)
    story += chart_sections(analysis, width)
    story += progress_section(analysis, width)
    if analysis.method_notes:
        story.append(Text("How these figures are worked out", STYLES["h2"]))
        story.extend(Text(note, STYLES["body"]) for note in analysis.method_notes)
    return build(story, school_chrome(header, TITLE), title=f"{TITLE}: {header.school_name}",
                 password=password)
