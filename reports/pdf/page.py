"""The page every report shares: styles, number formats, the header band and the "Page X of Y" footer.

A report is only trustworthy on paper if each sheet says whose figures it shows, from which
upload(s) and window, and how many sheets there are: pages get separated, photocopied and
forwarded. So the band and footer are drawn on every page by the canvas itself, after layout,
when the total page count is known (one layout pass; the canvas keeps each page until ``save``).

All text is set in DejaVu Sans, embedded as a subset, when its files are on the machine: the
built-in Helvetica only knows Windows-1252 and draws "Łukasz", "Şule" or "Nguyễn" with black
boxes. Without the files the reports fall back to Helvetica rather than fail.

The reports draw 16,000 schools' PDFs at each window's close, so the drawing is lean: plain
text goes through reports.pdf.text (not Paragraph), tables through reports.pdf.grid (not
Table), and reports.pdf.embed makes the font subsets and compression cheap.
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

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFError
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.figures import ReportHeader, as_of
from reports.pdf import embed
from reports.pdf.text import strings
from reports.pdf.text import width as text_width

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
        faces = [embed.SubsetCachingTTFont(name, str(path)) for name, path in zip(FONT_FILES, paths)]
    except (OSError, TTFError):
        log.warning("DejaVu Sans in %s cannot be read: report PDFs fall back to Helvetica",
                    directory, exc_info=True)
        return FALLBACK
    for face in faces:
        pdfmetrics.registerFont(face)
    regular, bold = FONT_FILES
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
GREY = colors.HexColor("#444444")      # notes and the footer: there, but quieter than the figures

MARGIN = 14 * mm
BAND_TOP = 10 * mm
BAND_HEIGHT = 19 * mm
FOOT_BOTTOM = 9 * mm
FOOT_SIZE = 7.5
FOOT_LEADING = 9.5
CELL_SIZE = 8.5
CELL_PAD = 4

# The look of each kind of running text, read by reports.pdf.text.Text: font, size, leading,
# colour, the space around it, and whether a heading keeps with what follows.
STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6,
                            textColor=INK),
    "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=11.5, leading=14, spaceBefore=10,
                         spaceAfter=4, textColor=BAND, keepWithNext=1),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4,
                           textColor=INK),
    "note": ParagraphStyle("note", fontName=FONT, fontSize=8, leading=10, spaceAfter=2,
                           textColor=GREY),
}


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
        kind_width = text_width(self.kind, BOLD, 10)
        title = fit(self.title, BOLD, 12, inner - 20 - kind_width)
        # Left before right on each line, so text pulled out of the PDF reads in that order.
        strings(canvas, BOLD, 12, colors.white, [(MARGIN + 6, top - 15, title)])
        strings(canvas, BOLD, 10, colors.white, [(MARGIN + inner - 6 - kind_width, top - 15, self.kind)])
        strings(canvas, FONT, 8.5, colors.white,
                [(MARGIN + 6, top - 27 - 10.5 * number_, fit(line, FONT, 8.5, inner - 12))
                 for number_, line in enumerate(self.lines[:3])])

        label = f"Page {page} of {pages}"
        label_width = text_width(label, BOLD, FOOT_SIZE + 0.5)
        lines = self.footer_lines(inner - label_width - 10)
        y = FOOT_BOTTOM + (len(lines) - 1) * FOOT_LEADING
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + FOOT_LEADING + 1, MARGIN + inner, y + FOOT_LEADING + 1)
        strings(canvas, FONT, FOOT_SIZE, GREY,
                [(MARGIN, y - FOOT_LEADING * number_, line) for number_, line in enumerate(lines)])
        strings(canvas, BOLD, FOOT_SIZE + 0.5, INK, [(MARGIN + inner - label_width, y, label)])
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
    """Holds every finished page until ``save`` so the chrome can say "Page X of Y".

    Its document compresses with embed's filter rather than reportlab's, and starts its font
    subsets with the common characters (see reports.pdf.embed).
    """

    def __init__(self, *args, chrome: Chrome, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "pageCompression": 0})
        embed.prepare(self._doc, (FONT, BOLD))
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
        cells = [text_width(text, FONT, CELL_SIZE) for text in distinct]
        words = [text_width(word, BOLD, CELL_SIZE) for word in header.split()] or [0.0]
        natural = max([*cells, max(words)]) + 2 * CELL_PAD + 1
        if index == flex:
            natural = min(natural, flex_cap)
        widths.append(natural)
    return widths


def spread(widths: Sequence[float], available: float) -> list[float]:
    """Scale natural widths to fill the frame: tables line up with the band above them."""
    total = sum(widths) or 1.0
    return [width * available / total for width in widths]
