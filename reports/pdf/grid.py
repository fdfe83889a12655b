"""The reports' tables, drawn straight onto the canvas: a shaded bold header repeated on every
page, striped rows, a thin grid, figures right-aligned, long text wrapped inside its cell.

reportlab's Table does this and far more (spans anywhere, flowables in cells, a style per cell),
and pays for the generality cell by cell: about 7 ms for one school's 45 pupils. A report table
is plain text in two fonts, so ``Grid`` lays each row out once when it is made (which cells
wrap, how tall the row is, where each line of text goes) and draws a page of rows as one text
object per font, one path for the grid and a rectangle per stripe. It splits between rows
across pages like Table with ``repeatRows``: each page starts with the header, then white.
Every line of a cell is 1.2 × the size below the last, as Table spaces a string cell's lines
(its Paragraph cells used 10.5 pt, this is 10.2): no row is taller than it was.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.platypus import Flowable

from reports.pdf.page import BOLD, CELL_PAD, CELL_SIZE, FONT, GRID, HEAD, INK, STRIPE
from reports.pdf.text import strings, width, wrap

LEADING = 1.2 * CELL_SIZE   # between the lines of a cell: what Table gives a string cell
PAD_Y = 2.5                 # above and below a cell's text
RULE = 0.3                  # the grid's lines
TOTAL_RULE = 1.0            # the line over a row of totals
FUZZ = 1e-6                 # float sums: a row exactly as tall as the room left fits


@dataclass(frozen=True)
class Head:
    """A header cell: its title and the columns (first to last) and header rows it covers."""
    text: str
    first: int
    last: int | None = None       # None: only the first column
    top: int = 0                  # header rows, from 0
    bottom: int | None = None     # None: only the top row
    align: str = "LEFT"           # or "RIGHT", over a column of figures


def heads(titles: Sequence[str]) -> list[Head]:
    """A one-row header: each title over its column."""
    return [Head(title, column) for column, title in enumerate(titles)]


@dataclass(frozen=True)
class Row:
    """A body row that is not plain (plain rows are just their cells' strings)."""
    cells: Sequence[str]
    shade: Color | None = None    # a fill instead of the stripe: a school that sent nothing
    note_from: int | None = None  # this column's cell runs to the last column, bold, left: a note
    total: bool = False           # bold, under a heavier rule: the pooled figures


# A line of text placed in a block: bold?, x, y from the block's bottom, text, word spacing.
_Placed = tuple[bool, float, float, str, float]


def _cell(text: str, bold: bool, left: float, right: float, align: str) -> list[tuple[float, str, float]]:
    """Where each line of a cell's text starts (x), the line, its word spacing; wrapped if too wide."""
    font = BOLD if bold else FONT
    room = right - left - 2 * CELL_PAD
    wide = width(text, font, CELL_SIZE)
    if wide <= room + FUZZ and text.isprintable():          # a stray line break: wrap it away
        return [(left + CELL_PAD if align == "LEFT" else right - CELL_PAD - wide, text, 0.0)]
    if align == "LEFT":
        return [(left + CELL_PAD, line, spacing) for line, spacing in wrap(text, font, CELL_SIZE, room)]
    return [(right - CELL_PAD - (room if spacing else width(line, font, CELL_SIZE)), line, spacing)
            for line, spacing in wrap(text, font, CELL_SIZE, room)]


def _height(lines: int) -> float:
    return lines * LEADING + 2 * PAD_Y


def _place(bold: bool, lines: list[tuple[float, str, float]], bottom: float, height: float,
           into: list[_Placed]) -> None:
    """Centre a cell's lines in the height from ``bottom`` up, as Table's VALIGN MIDDLE does."""
    y = bottom + (height + len(lines) * LEADING) / 2 - CELL_SIZE
    for x, line, spacing in lines:
        into.append((bold, x, y, line, spacing))
        y -= LEADING


class _Header:
    """The header block, laid out once: its height, its text and its lines (spans left open)."""

    def __init__(self, cells: Sequence[Head], edges: Sequence[float]) -> None:
        columns = len(edges) - 1
        rows = 1 + max((head.top if head.bottom is None else head.bottom for head in cells), default=0)
        heights = [0.0] * rows
        laid = []
        for head in cells:
            last = head.first if head.last is None else head.last
            bottom = head.top if head.bottom is None else head.bottom
            lines = _cell(head.text, True, edges[head.first], edges[last + 1], head.align)
            laid.append((head, last, bottom, lines))
            if bottom == head.top:
                heights[head.top] = max(heights[head.top], _height(len(lines)))
        laid.sort(key=lambda cell: (cell[0].top, cell[0].first))   # reading order, row by row
        for head, _, bottom, lines in laid:            # a cell over several rows: the last grows
            short = _height(len(lines)) - sum(heights[head.top:bottom + 1])
            if short > 0:
                heights[bottom] += short
        tops = [sum(heights[row:]) for row in range(rows + 1)]   # y of each row's top, from the bottom
        self.height = tops[0]
        self.texts: list[_Placed] = []
        owner = [[-1 - column for column in range(columns)] for _ in range(rows)]   # uncovered: own
        for index, (head, last, bottom, lines) in enumerate(laid):
            _place(True, lines, tops[bottom + 1], tops[head.top] - tops[bottom + 1], self.texts)
            for row in range(head.top, bottom + 1):
                owner[row][head.first:last + 1] = [index] * (last + 1 - head.first)
        # Inner lines, where neighbouring cells belong to different heads: (x1, y1, x2, y2).
        self.lines = [(edges[column], tops[row + 1], edges[column], tops[row])
                      for row in range(rows) for column in range(1, columns)
                      if owner[row][column - 1] != owner[row][column]]
        self.lines += [(edges[column], tops[row], edges[column + 1], tops[row])
                       for row in range(1, rows) for column in range(columns)
                       if owner[row - 1][column] != owner[row][column]]


class _Laid:
    """A body row laid out: its height, its text placed from the row's bottom, its look."""
    __slots__ = ("height", "texts", "shade", "open", "total")

    def __init__(self, row: Row | Sequence[str], edges: Sequence[float], right_from: int) -> None:
        if isinstance(row, Row):
            cells, self.shade, note, self.total = row.cells, row.shade, row.note_from, row.total
        else:
            cells, self.shade, note, self.total = row, None, None, False
        columns = len(edges) - 1
        self.open = range(note + 1, columns) if note is not None else range(0)   # no line at these
        found = []
        for column, text in enumerate(cells[:columns]):
            if column == note:
                found.append((True, _cell(text, True, edges[column], edges[-1], "LEFT")))
                break
            if text:
                found.append((self.total, _cell(text, self.total, edges[column], edges[column + 1],
                                                "RIGHT" if column >= right_from else "LEFT")))
        self.height = _height(max((len(lines) for _, lines in found), default=1))
        self.texts: list[_Placed] = []
        for bold, lines in found:
            _place(bold, lines, 0.0, self.height, self.texts)


class Grid(Flowable):
    """A report table: ``head`` over ``rows``, columns ``widths`` wide, from ``right_from`` on
    figures aligned right. Text too wide for its cell wraps, in a word or, failing that, anywhere.
    """

    def __init__(self, head: Sequence[Head], rows: Sequence[Row | Sequence[str]],
                 widths: Sequence[float], *, right_from: int | None = None) -> None:
        super().__init__()
        edges = [0.0]
        for column in widths:
            edges.append(edges[-1] + column)
        self._edges = edges
        self._header = _Header(head, edges)
        right = len(widths) if right_from is None else right_from
        self._rows = [_Laid(row, edges, right) for row in rows]
        self.width = edges[-1]
        self.height = self._header.height + sum(row.height for row in self._rows)

    def __repr__(self) -> str:
        return f"Grid({len(self._edges) - 1} columns, {len(self._rows)} rows)"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """The rows that fit under the header here, and the rest under a header of their own."""
        if self.height <= availHeight + FUZZ:
            return [self]
        room = availHeight - self._header.height
        fits = 0
        for row in self._rows:
            room -= row.height
            if room < -FUZZ:
                break
            fits += 1
        if not fits:
            return []
        return [self._part(self._rows[:fits]), self._part(self._rows[fits:])]

    def _part(self, rows: list[_Laid]) -> Grid:
        """Some of the rows, laid out already; a fresh flowable, free of platypus's marks on this."""
        part = Grid.__new__(Grid)
        Flowable.__init__(part)
        part._edges, part._header, part._rows, part.width = self._edges, self._header, rows, self.width
        part.height = self._header.height + sum(row.height for row in rows)
        return part

    def placed(self) -> list[_Placed]:
        """Every line of text this table (or part of one) draws, in reading order: header, then
        row by row, left to right. Bold or not, x and y from the table's bottom left, the text
        and its word spacing."""
        body = self.height - self._header.height
        found = [(bold, x, body + y, line, spacing)
                 for bold, x, y, line, spacing in self._header.texts]
        for row in self._rows:
            body -= row.height
            found += [(bold, x, body + y, line, spacing) for bold, x, y, line, spacing in row.texts]
        return found

    def draw(self) -> None:
        canvas, header, edges = self.canv, self._header, self._edges
        right, top = self.width, self.height
        body = top - header.height
        canvas.saveState()
        canvas.setFillColor(HEAD)
        canvas.rect(0, body, right, header.height, stroke=0, fill=1)
        lines = [(0, top, right, top), (0, 0, 0, top), (right, 0, right, top)]
        lines += [(x1, body + y1, x2, body + y2) for x1, y1, x2, y2 in header.lines]
        rules = []
        y = body
        for number, row in enumerate(self._rows):
            lines.append((0, y, right, y))
            if row.total:
                rules.append((0, y, right, y))
            y -= row.height
            shade = row.shade or (STRIPE if number % 2 else None)   # every page starts white
            if shade is not None:
                canvas.setFillColor(shade)
                canvas.rect(0, y, right, row.height, stroke=0, fill=1)
        lines.append((0, 0, right, 0))
        for column in range(1, len(edges) - 1):        # inner verticals, open across notes
            x, start, y = edges[column], body, body
            for row in self._rows:
                if column in row.open:
                    if start > y:
                        lines.append((x, y, x, start))
                    start = y - row.height
                y -= row.height
            if start > y:
                lines.append((x, y, x, start))
        runs: list[tuple[bool, list[tuple[float, float, str, float]]]] = []   # one text object
        for bold, x, y, line, spacing in self.placed():                      # per run of a font
            if not runs or runs[-1][0] != bold:
                runs.append((bold, []))
            runs[-1][1].append((x, y, line, spacing))
        for bold, items in runs:
            strings(canvas, BOLD if bold else FONT, CELL_SIZE, INK, items)
        canvas.setLineCap(1)                           # Table's default: round ends
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(RULE)
        self._stroke(lines)
        if rules:
            canvas.setStrokeColor(INK)
            canvas.setLineWidth(TOTAL_RULE)
            self._stroke(rules)
        canvas.restoreState()

    def _stroke(self, lines: list[tuple[float, float, float, float]]) -> None:
        path = self.canv.beginPath()
        for x1, y1, x2, y2 in lines:
            path.moveTo(x1, y1)
            path.lineTo(x2, y2)
        self.canv.drawPath(path, stroke=1, fill=0)
