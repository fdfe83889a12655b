"""Plain text straight onto the canvas, and a paragraph flowable for text without markup.

Every string in the reports is plain text in one font: no bold words inside a sentence, no
links. reportlab's Paragraph parses each text as XML markup and its canvas makes a text object
per string; for a school's two reports that was about a third of the time. Here a run of strings
in one font, size and colour becomes one PDF text object, and ``Text`` wraps words the way
Paragraph does (the same greedy breaks, the same 5% allowance for tightening spaces), so pages
break where they did.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

SHRINK = 0.05        # rl_config.spaceShrinkage: how much Paragraph lets a space tighten to fit a word


@lru_cache(maxsize=8192)
def width(text: str, font: str, size: float) -> float:
    """A string's width, remembered: "EXS", "–" or "104.6" recur in every school's tables."""
    return pdfmetrics.stringWidth(text, font, size)


# A line to draw: its text and the word spacing (Tw) that tightens it to its room, usually 0.
Line = tuple[str, float]


def wrap(text: str, font: str, size: float, room: float) -> list[Line]:
    """Break ``text`` into lines at most ``room`` wide, greedily, as Paragraph does.

    Like Paragraph, a line may hold a word that overshoots by up to 5% of a space per gap, and
    is then drawn with its spaces tightened to fit; a word wider than the room on its own is cut
    wherever it must be (a long hyphenated surname in a narrow column), its first piece filling
    the line it would have started.
    """
    space = width(" ", font, size)
    lines: list[Line] = []
    words: list[str] = []
    used = -space                                  # no space before the first word
    for word in text.split():
        wide = width(word, font, size)
        if used + space + wide > room + SHRINK * space * len(words):
            if wide > room:
                first, *middle, word = _cut(word, font, size, used + space, room)
                if first:
                    words.append(first)
                    used += space + width(first, font, size)
                if words:
                    lines.append(_line(words, used, room))
                lines.extend((piece, 0.0) for piece in middle)
                wide = width(word, font, size)
            elif words:
                lines.append(_line(words, used, room))
            words, used = [], -space
        words.append(word)
        used += space + wide
    if words:
        lines.append(_line(words, used, room))
    return lines


def _line(words: list[str], used: float, room: float) -> Line:
    """A finished line, with the (negative) word spacing that pulls an overshoot back in."""
    over = used - room
    return " ".join(words), (-over / (len(words) - 1) if over > 1e-8 and len(words) > 1 else 0.0)


def _cut(word: str, font: str, size: float, start: float, room: float) -> list[str]:
    """A word too wide for ``room``, in pieces: the first fills the line from ``start`` (maybe
    empty), the others fill whole lines, the last starts a line. Paragraph's splitLongWords."""
    pieces, piece, used = [], "", start
    for letter in word:
        wide = pdfmetrics.stringWidth(letter, font, size)
        if used + wide > room and (piece or wide <= room):
            pieces.append(piece)
            piece, used = "", 0.0
        piece += letter
        used += wide
    return [*pieces, piece]


def strings(canvas: Canvas, font: str, size: float, colour: Color,
            items: Iterable[tuple[float, float, str] | tuple[float, float, str, float]]) -> None:
    """Draw each ``(x, y, text[, word spacing])`` baseline-left at x, y in one text object.

    With a TrueType font the operators are written directly: the font splits the text into its
    subsets' codes, as reportlab's own text objects ask it to, and the canvas writes one ``BT``
    block instead of one per string (a string costs a third of ``drawString``). Other fonts
    (the Helvetica fallback, with its Symbol substitutions) go through a reportlab text object.
    """
    canvas.setFillColor(colour)
    face = pdfmetrics.getFont(font)
    if not getattr(face, "_dynamicFont", False):
        text = canvas.beginText()
        text.setFont(font, size)
        for x, y, line, *spacing in items:
            text.setTextOrigin(x, y)
            if spacing and spacing[0]:
                text.setWordSpace(spacing[0])
                text.textOut(line)
                text.setWordSpace(0)
            else:
                text.textOut(line)
        canvas.drawText(text)
        return
    document = canvas._doc
    numbers: dict[float, str] = {}                 # a column's x, a row's y: formatted once
    shown: dict[str, list[tuple[int, str]]] = {}    # "EXS", "–": encoded once per call
    code = ["BT"]
    subset = None
    tf = f" {fp_str(size)} Tf"
    for x, y, line, *spacing in items:
        at_x = numbers.get(x)
        if at_x is None:
            at_x = numbers[x] = fp_str(x)
        at_y = numbers.get(y)
        if at_y is None:
            at_y = numbers[y] = fp_str(y)
        code.append(f"1 0 0 1 {at_x} {at_y} Tm")
        runs = shown.get(line)
        if runs is None:
            runs = shown[line] = [(part, f"({escapePDF(raw)}) Tj")
                                  for part, raw in face.splitString(line, document)]
        if spacing and spacing[0]:
            code.append(f"{fp_str(spacing[0])} Tw")
        for part, show in runs:
            if part != subset:
                subset = part
                code.append(face.getSubsetInternalName(part, document) + tf)
            code.append(show)
        if spacing and spacing[0]:
            code.append("0 Tw")
    if subset is not None:
        canvas.addLiteral("\n".join(code) + "\nET")


class Text(Flowable):
    """A paragraph of plain text in one style: what Paragraph draws for text without markup.

    The style is a ParagraphStyle for its font, size, leading, colour, spacing and keepWithNext;
    alignment and indents are not used (every paragraph in the reports is flush left). Splits
    between lines across pages like Paragraph, which never leaves a lone first line behind.
    """

    def __init__(self, text: str, style: ParagraphStyle) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.spaceBefore = style.spaceBefore
        self.spaceAfter = style.spaceAfter
        self.keepWithNext = getattr(style, "keepWithNext", 0)
        self._room: float | None = None
        self._lines: list[Line] = []

    def __repr__(self) -> str:
        return f"Text({self.text[:40]!r})"

    def lines(self, room: float) -> list[Line]:
        if room != self._room:
            style = self.style
            self._room, self._lines = room, wrap(self.text, style.fontName, style.fontSize, room)
        return self._lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = len(self.lines(availWidth)) * self.style.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        lines = self.lines(availWidth)
        fits = int(availHeight / self.style.leading)
        if fits <= 1:
            return []
        if len(lines) <= fits:
            return [self]
        return [self._part(lines[:fits], availWidth), self._part(lines[fits:], availWidth)]

    def _part(self, lines: list[Line], room: float) -> Text:
        part = Text(" ".join(line for line, _ in lines), self.style)
        part._room, part._lines = room, lines
        return part

    def draw(self) -> None:
        style = self.style
        top = self.height - style.fontSize
        leading = style.leading
        strings(self.canv, style.fontName, style.fontSize, style.textColor,
                [(0, top - leading * number, line, spacing)
                 for number, (line, spacing) in enumerate(self._lines)])
