"""The pupils report: one row per pupil, with each progress measure's estimate beside the progress.

Teachers check these rows against what they know of each child, so nothing is invented: a pupil
without prior attainment says "Not known", and a progress that cannot be worked out shows "–".
"""
from __future__ import annotations

from reportlab.platypus import Flowable

from reports.figures import Analysis, PupilLine, ReportHeader
from reports.pdf.grid import Grid, Head, heads
from reports.pdf.page import (
    STYLES,
    build,
    column_widths,
    frame_width,
    number,
    school_chrome,
    signed,
    spread,
)
from reports.pdf.text import Text

TITLE = "Pupils report"
NOT_KNOWN = "Not known"
NAME = 1            # the Name column: the one that wraps rather than widen the table


def _cells(pupil: PupilLine, columns: int, measures: int) -> list[str]:
    """A pupil's row as text; short rows are padded so a missing cell shows as blank, not a crash."""
    results = (list(pupil.results) + [""] * columns)[:columns]
    row = [pupil.upn, pupil.name, *results, pupil.prior or NOT_KNOWN]
    for index in range(measures):
        estimate = pupil.estimates[index] if index < len(pupil.estimates) else None
        progress = pupil.progress[index] if index < len(pupil.progress) else None
        row += [number(estimate), signed(progress)]
    return row


def _header(analysis: Analysis) -> list[Head]:
    """One header row, or two when progress measures pair their Estimate and Progress columns."""
    fixed = ["UPN", "Name", *analysis.pupil_columns, "Prior attainment"]
    if not analysis.progress:
        return heads(fixed)
    cells = [Head(title, column, bottom=1) for column, title in enumerate(fixed)]
    for index, measure in enumerate(analysis.progress):
        column = len(fixed) + 2 * index
        cells += [Head(measure.label, column, last=column + 1),
                  Head("Estimate", column, top=1, align="RIGHT"),
                  Head("Progress", column + 1, top=1, align="RIGHT")]
    return cells


def pupil_table(analysis: Analysis, wide_width: float, narrow_width: float) -> tuple[Grid, bool]:
    """The table and whether it needs a landscape page; the header repeats on every page."""
    rows = [_cells(pupil, len(analysis.pupil_columns), len(analysis.progress))
            for pupil in analysis.pupils]
    titles = ["UPN", "Name", *analysis.pupil_columns, "Prior attainment"]
    titles += ["Estimate", "Progress"] * len(analysis.progress)
    natural = column_widths(titles, rows, flex=NAME)
    wide = sum(natural) > narrow_width
    widths = spread(natural, wide_width if wide else narrow_width)
    first_number = len(titles) - 2 * len(analysis.progress)
    return Grid(_header(analysis), rows, widths, right_from=first_number), wide


def pupils_pdf(header: ReportHeader, analysis: Analysis, *, password: str | None = None) -> bytes:
    """The school's pupils report as PDF bytes, landscape when the columns need the width."""
    count = len(analysis.pupils)
    intro = (f"{header.school_name}: {count} pupil{'' if count == 1 else 's'} in "
             f"{header.collection_name}, window {header.window_number}.")
    if analysis.progress:
        intro += (" Estimate: the average outcome of participating pupils with the same prior "
                  "attainment. Progress: the pupil's outcome minus that estimate.")
    story: list[Flowable] = [Text(TITLE, STYLES["title"]), Text(intro, STYLES["body"])]
    if analysis.progress_note:
        story.append(Text(analysis.progress_note, STYLES["body"]))
    wide = False
    if analysis.pupils:
        listing, wide = pupil_table(analysis, frame_width(True), frame_width(False))
        story.append(listing)
    else:
        story.append(Text("There are no pupils in the uploads for this window.", STYLES["body"]))
    return build(story, school_chrome(header, TITLE), title=f"{TITLE}: {header.school_name}",
                 wide=wide, password=password)
