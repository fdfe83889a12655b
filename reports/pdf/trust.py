"""The trust summary: every school in a trust on one table, for one collection window.

A school that sent nothing in the window is still listed, shaded and saying so: a trust lead
reading the table must not mistake a missing school for one with nothing to report.
"""
from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from reports.figures import TrustRow, TrustSummary, as_of
from reports.pdf.grid import Grid, Row, heads
from reports.pdf.page import (
    DASH,
    FLAG,
    STYLES,
    Chrome,
    build,
    column_widths,
    frame_width,
    spread,
    window_text,
)
from reports.pdf.text import Text

NO_SUBMISSION = "No submission in this window"
PARTICIPATING = "All participating schools"


def _chrome(summary: TrustSummary) -> Chrome:
    footer = ["Each school's figures come from its current uploads in this window."]
    if summary.generated_at is not None:
        footer.append(f"Generated {as_of(summary.generated_at)} by the early results service")
    return Chrome(title=summary.trust_name, kind="Trust summary", footer=footer,
                  lines=[f"{summary.collection_name} \u00b7 "
                         f"{window_text(summary.window_number, summary.window_closes)}"])


def _row(row: TrustRow, columns: int) -> list[str]:
    if not row.submitted:             # the flag spans the figure columns (or Pupils, if none)
        if not columns:
            return [row.school_name, row.dfe, NO_SUBMISSION]
        return [row.school_name, row.dfe, DASH, NO_SUBMISSION] + [""] * (columns - 1)
    values = (list(row.values) + [""] * columns)[:columns]
    return [row.school_name, row.dfe, str(row.pupils), *values]


def trust_table(summary: TrustSummary, wide_width: float, narrow_width: float) -> tuple[Grid, bool]:
    """One row per school, then the pooled figures; unsubmitted schools shaded and flagged."""
    columns = len(summary.columns)
    titles = ["School", "DfE", "Pupils", *summary.columns]
    cells = [_row(row, columns) for row in summary.rows]
    sized = [["" if text == NO_SUBMISSION else text for text in row] for row in cells]
    flag = 3 if columns else 2
    rows: list[Row | list[str]] = [
        cell if row.submitted else Row(cell, shade=FLAG, note_from=flag)
        for row, cell in zip(summary.rows, cells)]
    if summary.participating:
        pooled = [PARTICIPATING, "", "", *(list(summary.participating) + [""] * columns)[:columns]]
        rows.append(Row(pooled, total=True))
        sized.append(pooled)
    natural = column_widths(titles, sized, flex=0, flex_cap=180)
    wide = sum(natural) > narrow_width
    widths = spread(natural, wide_width if wide else narrow_width)
    return Grid(heads(titles), rows, widths, right_from=2), wide


def trust_pdf(summary: TrustSummary, *, password: str | None = None) -> bytes:
    """The trust's summary as PDF bytes; the same input always gives the same bytes."""
    title = f"{summary.trust_name}: trust summary"
    submitted = sum(1 for row in summary.rows if row.submitted)
    story: list[Flowable] = [
        Text(title, STYLES["title"]),
        Text(f"{summary.collection_name}, "
             f"{window_text(summary.window_number, summary.window_closes)}. "
             f"{submitted} of {len(summary.rows)} schools submitted in this window.",
             STYLES["body"]),
    ]
    wide = False
    if summary.rows or summary.participating:
        schools, wide = trust_table(summary, frame_width(True), frame_width(False))
        story += [schools, Spacer(1, 4)]
        if submitted < len(summary.rows):
            story.append(Text(f"Shaded rows: {NO_SUBMISSION.lower()}, so the school has "
                              "no figures here.", STYLES["note"]))
    else:
        story.append(Text("There are no schools in this trust.", STYLES["body"]))
    return build(story, _chrome(summary), title=title, wide=wide, password=password)
