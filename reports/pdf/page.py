"""The page every report shares: styles, number formats, the header band and the "Page X of Y" footer.

A report is only trustworthy on paper if each sheet says whose figures it shows, from which
upload(s) and window, and how many sheets there are: pages get separated, photocopied and
forwarded. So the band and footer are drawn on every page by the canvas itself, after layout,
when the total page count is known (one layout pass; the canvas keeps each page until ``save``).

All text is set in DejaVu Sans, embedded as a subset, when its files are on the machine: the
built-in Helvetica only knows Windows-1252 and draws "Łukasz", "Şule" or "Nguyễn" with black
boxes. Without the files the reports fall back to Helvetica rather than fail.
"""
from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import CellStyle

from reports.figures import ReportHeader, as_of

log = logging.getLogger(__name__)

FONT_DIR_ENV = "ERS_REPORT_FONT_DIR"      # a folder holding the two files below, instead of the system's
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf"}
FALLBACK = ("Helvetica", "Helvetica-Bold")


def font_directory() -> Path:
    """Where the report fonts are looked for: ``ERS_REPORT_FONT_DIR`` when set, else the system's."""
    override = os.environ.get(FONT_DIR_ENV)
    return Path(override) if override else SYSTEM_FONT_DIR


def fonts(directory: str | os.PathLike[str]) -> tuple[str, str]:
    """The regular and bold font names to draw with: DejaVu Sans from ``directory`` when both
    of its files are there and readable, else Helvetica and Helvetica-Bold.

    Both files or neither: a bold Helvetica beside a regular DejaVu would draw one name two ways.
    The PDF embeds only the glyphs a report uses, so the files' size does not reach the reports.
    """
    return _register(Path(directory))


@cache
def _register(directory: Path) -> tuple[str, str]:
    """Load and register the family once per directory (parsing both files takes ~25 ms).

    The names are fixed, so a second directory's files would replace the first's: the reports
    only ever ask for ``font_directory()``, read once at import.
    """
    paths = [directory / file for file in FONT_FILES.values()]
    if not all(path.is_file() for path in paths):
        log.warning("DejaVu Sans is not in %s: report PDFs fall back to Helvetica, which draws "
                    "letters outside Windows-1252 (Ł, ş, ễ) as boxes", directory)
        return FALLBACK
    try:
        faces = [TTFont(name, str(path)) for name, path in zip(FONT_FILES, paths)]
    except (OSError, TTFError):
        log.warning("DejaVu Sans in %s cannot be read: report PDFs fall back to Helvetica",
                    directory, exc_info=True)
        return FALLBACK
    for face in faces:
        pdfmetrics.registerFont(face)
    regular, bold = FONT_FILES
    # <b> in Paragraph markup picks the bold face; there is no italic, so italic stays upright.
    pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold, italic=regular,
                                  boldItalic=bold)
    return regular, bold


FONT, BOLD = fonts(font_directory())   # every style, table, band, footer and chart label
DASH = "\u2013"          # shown where a figure cannot be given
MINUS = "\u2212"         # a real minus sign, so negative progress is not read as a hyphen

INK = colors.HexColor("#1b1b1b")
BAND = colors.HexColor("#1f3a5f")
HEAD = colors.HexColor("#dfe6ee")
STRIPE = colors.HexColor("#f4f6f8")
FLAG = colors.HexColor("#fbe3c8")
SCHOOL = colors.HexColor("#1f77b4")
POOLED = colors.HexColor("#a6a6a6")
GRID = colors.HexColor("#b8c2cc")

MARGIN = 14 * mm
BAND_TOP = 10 * mm
BAND_HEIGHT = 19 * mm
FOOT_BOTTOM = 9 * mm
FOOT_SIZE = 7.5
FOOT_LEADING = 9.5
CELL_SIZE = 8.5
CELL_PAD = 4

STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6,
                            textColor=INK),
    "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=11.5, leading=14, spaceBefore=10,
                         spaceAfter=4, textColor=BAND, keepWithNext=1),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4,
                           textColor=INK),
    "note": ParagraphStyle("note", fontName=FONT, fontSize=8, leading=10, spaceAfter=2,
                           textColor=colors.HexColor("#444444")),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=CELL_SIZE, leading=10.5, textColor=INK),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=CELL_SIZE, leading=10.5, textColor=INK),
}


def esc(text: str) -> str:
    """Escape user text (school names like "St Mary & St John <Primary>") for Paragraph markup."""
    return escape(text)


def heads(titles: Sequence[str]) -> list[Paragraph]:
    """Header cells that wrap inside their column rather than run into the next one."""
    return [Paragraph(esc(title), STYLES["head"]) for title in titles]


def pupils_count(count: int) -> str:
    return f"{count} pupil" if count == 1 else f"{count} pupils"


def rounded(value: float, places: int) -> Decimal:
    """Half away from zero, as people round by hand (58.25 → 58.3), not Python's half to even.

    Going through ``repr`` rounds the number as written, not its binary approximation.
    """
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number(value: float | None, unit: str = "score") -> str:
    """A percentage or an average to 1 dp; the unit of a Figure decides the % sign."""
    if value is None:
        return DASH
    exact = rounded(value, 1)
    text = (MINUS if exact < 0 else "") + f"{abs(exact):.1f}"
    return f"{text}%" if unit == "%" else text


def signed(value: float | None) -> str:
    """Progress to 2 dp with its sign (+0.25, −0.40), never "−0.00"."""
    if value is None:
        return DASH
    exact = rounded(value, 2)
    if exact == 0:
        return "0.00"
    return ("+" if exact > 0 else MINUS) + f"{abs(exact):.2f}"


def fit(text: str, font: str, size: float, width: float) -> str:
    """Shorten a one-line canvas string with an ellipsis rather than let it run off the page."""
    if stringWidth(text, font, size) <= width + 0.01:      # float sums: a label exactly as wide fits
        return text
    while text and stringWidth(text + "\u2026", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


@dataclass(frozen=True)
class Chrome:
    """What the band at the top and the footer of every page say."""
    title: str                    # bold, first line of the band: the school or the trust
    lines: Sequence[str]          # further band lines (DfE and trust, collection and window)
    kind: str                     # "Summary report": right of the band, so a loose page says what it is
    footer: Sequence[str]         # the uploads the figures come from, when they were drawn

    def footer_lines(self, width: float) -> list[str]:
        lines: list[str] = []
        for line in self.footer:
            lines.extend(simpleSplit(line, FONT, FOOT_SIZE, width))
        return lines

    def footer_height(self, width: float) -> float:
        return max(1, len(self.footer_lines(width))) * FOOT_LEADING + 3 * mm

    def draw(self, canvas: Canvas, page: int, pages: int) -> None:
        """Draw the band and footer; called once per page when the page count is known."""
        width, height = canvas._pagesize
        inner = width - 2 * MARGIN
        canvas.saveState()
        top = height - BAND_TOP
        canvas.setFillColor(BAND)
        canvas.rect(MARGIN, top - BAND_HEIGHT, inner, BAND_HEIGHT, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        kind_width = stringWidth(self.kind, BOLD, 10) + 8
        canvas.setFont(BOLD, 10)
        canvas.drawRightString(MARGIN + inner - 6, top - 15, self.kind)
        canvas.setFont(BOLD, 12)
        canvas.drawString(MARGIN + 6, top - 15, fit(self.title, BOLD, 12, inner - 12 - kind_width))
        canvas.setFont(FONT, 8.5)
        for number_, line in enumerate(self.lines[:3]):
            canvas.drawString(MARGIN + 6, top - 27 - 10.5 * number_, fit(line, FONT, 8.5, inner - 12))

        label = f"Page {page} of {pages}"
        label_width = stringWidth(label, BOLD, FOOT_SIZE + 0.5) + 10
        lines = self.footer_lines(inner - label_width)
        y = FOOT_BOTTOM + (len(lines) - 1) * FOOT_LEADING
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + FOOT_LEADING + 1, MARGIN + inner, y + FOOT_LEADING + 1)
        canvas.setFont(BOLD, FOOT_SIZE + 0.5)
        canvas.setFillColor(INK)
        canvas.drawRightString(MARGIN + inner, y, label)
        canvas.setFont(FONT, FOOT_SIZE)
        canvas.setFillColor(colors.HexColor("#444444"))
        for line in lines:
            canvas.drawString(MARGIN, y, line)
            y -= FOOT_LEADING
        canvas.restoreState()


def window_text(number: int, closes: date | datetime) -> str:
    return f"Window {number} (closed {as_of(closes)})"


def school_chrome(header: ReportHeader, kind: str) -> Chrome:
    """Band and footer for a school's report: whose figures, which window, which upload(s)."""
    who = f"DfE {header.dfe}" + (f" \u00b7 {header.trust_name}" if header.trust_name else "")
    uploads = list(header.uploads) or ["no upload"]
    label = "Figures from " if len(uploads) == 1 else "Figures from these uploads: "
    footer = [label + "; ".join(uploads),
              f"Generated {as_of(header.generated_at)} by the early results service"]
    return Chrome(title=header.school_name, kind=kind, footer=footer,
                  lines=[who, f"{header.collection_name} \u00b7 "
                              f"{window_text(header.window_number, header.window_closes)}"])


class _NumberedCanvas(Canvas):
    """Holds every finished page until ``save`` so the chrome can say "Page X of Y"."""

    def __init__(self, *args, chrome: Chrome, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._chrome = chrome
        self._held: list[dict] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        pages = len(self._held)
        for page, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self._chrome.draw(self, page, pages)
            Canvas.showPage(self)
        Canvas.save(self)


def page_size(wide: bool) -> tuple[float, float]:
    return landscape(A4) if wide else A4


def frame_width(wide: bool) -> float:
    return page_size(wide)[0] - 2 * MARGIN


def build(story: list[Flowable], chrome: Chrome, *, title: str, wide: bool = False,
          password: str | None = None) -> bytes:
    """Lay the story out on A4 (landscape when ``wide``) and return the PDF's bytes.

    ``invariant=1`` pins the dates and document ID reportlab would take from the clock, so the
    same figures always give the same bytes: a stored report can be compared, not just trusted.
    A password encrypts the file (128-bit RC4, what reportlab can do without extra packages)
    so it can travel by email; printing and copying stay allowed once it is opened.
    ``initialFontName`` starts each page in the report font, so Helvetica is not pulled in
    unused.
    """
    size = page_size(wide)
    inner = size[0] - 2 * MARGIN
    bottom = FOOT_BOTTOM + chrome.footer_height(inner - 60) + 3 * mm
    top = BAND_TOP + BAND_HEIGHT + 5 * mm
    frame = Frame(MARGIN, bottom, inner, size[1] - top - bottom, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    encrypt = None
    if password is not None:
        encrypt = StandardEncryption(password, canPrint=1, canModify=0, canCopy=1, canAnnotate=0,
                                     strength=128)
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=size, pageTemplates=[PageTemplate("page", [frame])],
                          title=title, author="Early results service",
                          creator="Early results service", subject=chrome.title,
                          invariant=1, encrypt=encrypt, initialFontName=FONT,
                          leftMargin=MARGIN, rightMargin=MARGIN, topMargin=top,
                          bottomMargin=bottom)
    doc.build(story, canvasmaker=partial(_NumberedCanvas, chrome=chrome))
    return out.getvalue()


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], *, flex: int | None = None,
                  flex_cap: float = 160) -> list[float]:
    """Natural column widths: the widest cell, and the header's longest word (headers wrap).

    ``flex`` is a free-text column (a name) whose natural width is capped at ``flex_cap``:
    it wraps instead of pushing the page to landscape.
    """
    widths = []
    for index, header in enumerate(headers):
        distinct = {row[index] for row in rows if index < len(row)}   # "–" and "EXS" repeat a lot
        cells = [stringWidth(text, FONT, CELL_SIZE) for text in distinct]
        words = [stringWidth(word, BOLD, CELL_SIZE) for word in header.split()] or [0.0]
        natural = max([*cells, max(words)]) + 2 * CELL_PAD + 1
        if index == flex:
            natural = min(natural, flex_cap)
        widths.append(natural)
    return widths


def spread(widths: Sequence[float], available: float) -> list[float]:
    """Scale natural widths to fill the frame: tables line up with the band above them."""
    total = sum(widths) or 1.0
    return [width * available / total for width in widths]


def table_style(header_rows: int = 1) -> list[tuple]:
    """The one look every table shares: shaded bold header, light stripes, thin grid."""
    return [
        ("FONT", (0, 0), (-1, -1), FONT, CELL_SIZE),
        ("FONT", (0, 0), (-1, header_rows - 1), BOLD, CELL_SIZE),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD),
        ("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, STRIPE]),
        ("GRID", (0, 0), (-1, -1), 0.3, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]


# The table style commands that set a cell's look (the attribute each sets), and the looks'
# defaults. The others (backgrounds, lines, spans) reportlab keeps per table, not per cell.
_CELL_OPS = {"FONT": "fontname", "FONTNAME": "fontname", "FACE": "fontname", "SIZE": "fontsize",
             "FONTSIZE": "fontsize", "LEADING": "leading", "TEXTCOLOR": "color",
             "ALIGN": "alignment", "ALIGNMENT": "alignment", "VALIGN": "valign",
             "LEFTPADDING": "leftPadding", "RIGHTPADDING": "rightPadding",
             "TOPPADDING": "topPadding", "BOTTOMPADDING": "bottomPadding"}
_DEFAULT_LOOK = {field: getattr(CellStyle, field) for field in dict.fromkeys(_CELL_OPS.values())}
_BLACK = colors.Color(0, 0, 0)


def _restyle(look: dict, op: str, values: Sequence) -> None:
    """Apply one cell command to ``look`` as reportlab's ``_setCellStyle`` applies it to a cell."""
    if op == "FONT":
        look["fontname"] = values[0]
        if len(values) > 1:
            look["fontsize"] = values[1]
            look["leading"] = values[2] if len(values) > 2 else values[1] * 1.2
    elif op == "TEXTCOLOR":
        look["color"] = colors.toColor(values[0], _BLACK)
    else:
        look[_CELL_OPS[op]] = values[0]


def _cell_styles(rows: int, columns: int, commands: Sequence[tuple]) -> list[list[CellStyle]]:
    """One CellStyle per distinct look, shared by every cell that has it.

    Left to itself, reportlab makes a CellStyle per cell and applies each FONT, ALIGN or padding
    command cell by cell (about a millisecond for a 45-pupil table), then compares the styles of
    neighbouring cells while drawing. The commands cut the table into blocks that every command
    covers whole or not at all, so the looks are worked out once a block.
    """
    spans = []
    for op, (sc, sr), (ec, er), *values in commands:
        if isinstance(sr, str) or isinstance(er, str):
            raise ValueError(f"{op}: rows like {sr!r} are not supported for cell styles")
        sc, ec = max(0, sc + columns if sc < 0 else sc), min(columns - 1, ec + columns if ec < 0 else ec)
        sr, er = max(0, sr + rows if sr < 0 else sr), min(rows - 1, er + rows if er < 0 else er)
        spans.append((op, sc, sr, ec, er, values))
    row_cuts = sorted({0, rows, *(sr for _, _, sr, _, _, _ in spans),
                       *(er + 1 for _, _, _, _, er, _ in spans)} & set(range(rows + 1)))
    column_cuts = sorted({0, columns, *(sc for _, sc, _, _, _, _ in spans),
                          *(ec + 1 for _, _, _, ec, _, _ in spans)} & set(range(columns + 1)))
    shared: dict[tuple, CellStyle] = {}
    by_commands: dict[tuple[int, ...], CellStyle] = {}     # the commands covering a block
    grid: list[list[CellStyle]] = []
    for top, bottom in zip(row_cuts, row_cuts[1:]):
        row: list[CellStyle] = []
        for left, right in zip(column_cuts, column_cuts[1:]):
            covering = tuple(index for index, (_, sc, sr, ec, er, _) in enumerate(spans)
                             if sr <= top <= er and sc <= left <= ec)
            style = by_commands.get(covering)
            if style is None:
                look = dict(_DEFAULT_LOOK)
                for index in covering:
                    op, *_, values = spans[index]
                    _restyle(look, op, values)
                key = tuple(look.values())
                style = shared.get(key)
                if style is None:
                    shared[key] = style = CellStyle(f"look {len(shared)}")
                    for field, value in look.items():
                        setattr(style, field, value)
                by_commands[covering] = style
            row += [style] * (right - left)
        grid += [row[:] for _ in range(bottom - top)]
    return grid


def table(data: list[list], widths: Sequence[float], style: Sequence[tuple], *,
          repeat_rows: int = 1) -> Table:
    """A left-aligned Table styled by ``style`` (table_style() and more), with shared cell styles.

    Same drawing as ``Table(...).setStyle(style)``: the cell commands (FONT, TEXTCOLOR, ALIGN,
    VALIGN, padding) are worked out here, the rest (backgrounds, lines, spans) go to reportlab.
    """
    cell = [command for command in style if command[0] in _CELL_OPS]
    columns = max((len(row) for row in data), default=0)
    found = Table(data, colWidths=widths, repeatRows=repeat_rows, hAlign="LEFT",
                  cellStyles=_cell_styles(len(data), columns, cell) if data and columns else None)
    found.setStyle(TableStyle([command for command in style if command[0] not in _CELL_OPS]))
    return found
