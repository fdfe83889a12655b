"""What goes into each PDF file besides the drawing: the font subsets and the compressed streams.

Every school's two reports embed the same few dozen glyphs of DejaVu Sans, yet reportlab cuts
the subset out of the font file and deflates it afresh for each report: about 2 ms a report,
more than drawing its tables. Here a subset is cut once per process and its deflated bytes are
remembered, and each report starts with the same characters in the same order, so most reports
ask for exactly the subset the previous one did. The bytes written do not depend on the cache:
a report whose characters are unusual (a Polish name) cuts and deflates its own subset.

Nothing here changes reportlab for other code: the font class is ours, and the deflating filter
is set on each report's own document as its default, in place of reportlab's level-6 filter
(which also wrapped page streams in ASCII85, a quarter bigger, for 7-bit mail of the 1990s).
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# The characters outside ASCII (which reportlab's subset 0 always holds) that the reports draw
# whatever the data: dash, minus, middle dot, ellipsis, and the method notes' ±, ×, ÷ and √.
# Claimed in this order at the start of every report so the subset comes out the same.
COMMON = "\u2013\u2212\u00b7\u2026\u00b1\u00d7\u00f7\u221a"

# Deflate level 1 is about twice as fast as zlib's default 6; page streams come out ~15% larger,
# 0.3-0.5 KB a page. Font subsets keep level 6: mostly deflated once per process, but not all.
PAGE_LEVEL = 1
FONT_LEVEL = 6


class SubsetCachingTTFont(TTFont):
    """A TrueType font that remembers the last few subsets it cut from its file."""

    def __init__(self, name: str, filename: str, subsets: int = 8) -> None:
        super().__init__(name, filename)
        cut = self.face.makeSubset               # bound to this font's own face, nobody else's

        @lru_cache(maxsize=subsets)
        def cached(codes: tuple[int, ...]) -> bytes:
            return _FontBytes(cut(list(codes)))

        self.face.makeSubset = lambda subset: cached(tuple(subset))


class _FontBytes(bytes):
    """A cut subset, marked so the filter below deflates it once and remembers the result."""


@lru_cache(maxsize=16)
def _deflate_font(data: _FontBytes) -> bytes:
    return zlib.compress(data, FONT_LEVEL)


class _Deflate:
    """reportlab's FlateDecode filter at a faster level; subsets are deflated once, remembered."""

    pdfname = "FlateDecode"

    def encode(self, data: str | bytes) -> bytes:
        if isinstance(data, _FontBytes):
            return _deflate_font(data)
        if isinstance(data, str):
            data = data.encode("utf8")           # as reportlab's own filter does
        return zlib.compress(data, PAGE_LEVEL)

    def decode(self, data: bytes) -> bytes:
        return zlib.decompress(data)


DEFLATE = _Deflate()


def prepare(document: pdfdoc.PDFDocument, fonts: Sequence[str]) -> None:
    """Set up a new report's document: streams deflated by DEFLATE, subsets started with COMMON.

    Call before anything is drawn, on a canvas made with ``pageCompression=0``: reportlab then
    leaves every stream (pages, font files, ToUnicode maps) to the document's default filter.
    """
    document.defaultStreamFilters = [DEFLATE]
    for name in fonts:
        font = pdfmetrics.getFont(name)
        if isinstance(font, TTFont):             # Helvetica, the fallback, has no subsets
            font.splitString(COMMON, document)

