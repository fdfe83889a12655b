"""The report tables (Grid), plain paragraphs (Text) and embedded fonts the PDFs are made with."""
from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import Ellipse
from reportlab.platypus import Paragraph

from reports.pdf import charts, pupils_pdf, summary_pdf
from reports.pdf.grid import Grid, Head, heads
from reports.pdf.page import BOLD, CELL_PAD, CELL_SIZE, FONT, STYLES, Chrome, build, frame_width
from reports.pdf.summary import PROGRESS_CAPTION
from reports.pdf.text import Text, width, wrap
from tests.reports.pdf.samples import (
    METHOD_NOTES,
    WORLD_NAMES,
    analysis,
    flat,
    header,
    pages_text,
    require_report_fonts,
)

ROOT = Path(__file__).resolve().parents[3]
CHROME = Chrome(title="Test school", lines=["DfE 8012001"], kind="Test report", footer=["Test"])
LONG_NAME = "Fotheringham-Smythe, Alexandra-Maximiliana Theodora Wolfeschlegelsteinhausenbergerdorff"


def _pdf(*story) -> bytes:
    return build(list(story), CHROME, title="Test")


def _pupils(count: int) -> list[list[str]]:
    return [[f"A{n:05d}", f"Surname{n:03d}, Forename", str(90 + n % 30), f"{n % 7 - 3:+.2f}"]
            for n in range(count)]


def test_200_rows_split_across_pages_with_the_whole_header_on_each() -> None:
    head = [Head("UPN", 0, bottom=1), Head("Name", 1, bottom=1), Head("Reading progress", 2, last=3),
            Head("Score", 2, top=1, align="RIGHT"), Head("Progress", 3, top=1, align="RIGHT")]
    data = _pupils(200)
    pages = [flat(page) for page in pages_text(_pdf(Grid(head, data, [80, 200, 100, 100],
                                                         right_from=2)))]
    assert len(pages) >= 4
    seen = []
    for number, page in enumerate(pages, start=1):
        assert "UPN Name Reading progress Score Progress" in page       # the header, in order
        assert f"Page {number} of {len(pages)}" in page
        seen += [row[0] for row in data if f"{' '.join(row)}" in page]
    assert seen == [row[0] for row in data]                             # each once, in order


def test_a_split_table_fills_each_page_and_starts_each_with_the_header() -> None:
    columns, widths = heads(["UPN", "Name", "Score", "Progress"]), [80, 200, 100, 100]
    header = Grid(columns, [], widths).wrap(480, 400)[1]
    row = Grid(columns, _pupils(1), widths).wrap(480, 400)[1] - header
    fits = int((400 - header) / row)
    first, rest = Grid(columns, _pupils(200), widths, right_from=2).split(480, 400)
    assert first.wrap(480, 400)[1] == pytest.approx(header + fits * row)
    assert rest.wrap(480, 400)[1] == pytest.approx(header + (200 - fits) * row)
    for part in (first, rest):
        texts = [text for _, _, _, text, _ in part.placed()]
        assert texts[:4] == ["UPN", "Name", "Score", "Progress"]
    assert Grid(columns, _pupils(200), widths).split(480, header + row - 1) == []


def _cells(table: Grid) -> dict[str, list[tuple[float, float]]]:
    """Each string the table draws: where it starts and ends across the page."""
    found: dict[str, list[tuple[float, float]]] = {}
    for bold, x, _, text, _ in table.placed():
        found.setdefault(text, []).append((x, x + width(text, BOLD if bold else FONT, CELL_SIZE)))
    return found


def test_figures_are_right_aligned_and_text_left_aligned_in_their_columns() -> None:
    data = [["A1", "Short", "7", "+0.25"], ["A2", "Longer name", "104", "−12.50"]]
    cells = _cells(Grid(heads(["UPN", "Name", "Score", "Progress"]), data, [80, 200, 100, 100],
                        right_from=2))
    assert cells["Short"][0][0] == cells["Longer name"][0][0] == pytest.approx(80 + CELL_PAD)
    assert cells["7"][0][1] == pytest.approx(cells["104"][0][1]) == pytest.approx(380 - CELL_PAD)
    assert cells["+0.25"][0][1] == pytest.approx(cells["−12.50"][0][1]) == pytest.approx(480 - CELL_PAD)
    assert cells["Score"][0][0] == pytest.approx(280 + CELL_PAD)       # headers: left unless told


def test_a_long_name_wraps_inside_its_cell_and_a_long_word_is_cut() -> None:
    table = Grid(heads(["UPN", "Name", "Score"]), [["A1", LONG_NAME, "101"], ["A2", "Short", "99"]],
                 [80, 100, 60], right_from=2)
    lines = [(bold, x, text) for bold, x, _, text, _ in table.placed() if 80 < x < 180]
    name = [text for bold, _, text in lines if not bold and text != "Short"]
    assert len(name) > 3
    assert "".join(name).replace(" ", "") == LONG_NAME.replace(" ", "")   # all of it, in order
    for bold, x, text in lines:                                           # every line in the cell
        assert 80 + CELL_PAD - 0.01 <= x
        assert x + width(text, BOLD if bold else FONT, CELL_SIZE) <= 180 - CELL_PAD + 0.01
    text = flat("\n".join(pages_text(_pdf(table))))
    assert "Fotheringham-Smyth" in text and "Theodora" in text   # cut where Paragraph cuts it


def test_a_wrapped_name_makes_its_row_taller_not_its_neighbours() -> None:
    narrow = Grid(heads(["UPN", "Name"]), [["A1", LONG_NAME], ["A2", "Short"]], [80, 100])
    wide = Grid(heads(["UPN", "Name"]), [["A1", LONG_NAME], ["A2", "Short"]], [80, 600])
    assert narrow.wrap(500, 800)[1] > wide.wrap(500, 800)[1]
    assert len({round(row.height, 3) for row in wide._rows}) == 1


def test_names_outside_western_european_letters_wrap_and_come_back_whole() -> None:
    require_report_fonts()
    data = [[f"A{n}", name] for n, name in enumerate(WORLD_NAMES)]
    text = "".join("".join(pages_text(_pdf(Grid(heads(["UPN", "Name"]), data, [60, 90])))).split())
    for name in WORLD_NAMES:
        assert "".join(name.split()) in text         # every letter, in order, however it wrapped


def test_the_pupils_report_of_200_pupils_repeats_its_two_row_header() -> None:
    pages = [flat(page) for page in pages_text(pupils_pdf(header(), analysis(pupil_count=200)))]
    assert len(pages) > 3
    for page in pages:
        assert ("UPN Name Reading score Maths score Writing TA Prior attainment Reading progress "
                "Maths progress Writing progress Estimate Progress Estimate Progress") in page


@pytest.mark.parametrize("style", ["body", "note", "h2"])
def test_text_breaks_lines_where_paragraph_does(style: str) -> None:
    """Same breaks, so the same pages: including long words cut as Paragraph cuts them."""
    chosen = STYLES[style]
    rng = random.Random(7)
    for text in [*METHOD_NOTES, PROGRESS_CAPTION, LONG_NAME, *WORLD_NAMES]:
        for room in [rng.uniform(20, 560) for _ in range(25)]:
            paragraph = Paragraph(escape(text), chosen)
            paragraph.wrap(room, 1e6)
            expected = [" ".join(words).rstrip() for _, words in paragraph.blPara.lines]
            assert [line for line, _ in wrap(text, chosen.fontName, chosen.fontSize, room)] == expected


def test_a_tight_line_is_drawn_with_its_spaces_closed_up_to_fit() -> None:
    style = STYLES["body"]
    text = "aaaa " * 40
    line = width("aaaa " * 10, style.fontName, style.fontSize) - width(" ", style.fontName, style.fontSize)
    lines = wrap(text, style.fontName, style.fontSize, line - 0.5)      # 10 words overshoot by 0.5
    assert lines[0][0] == ("aaaa " * 10).strip()
    assert lines[0][1] == pytest.approx(-0.5 / 9)


def test_text_splits_between_lines_and_never_leaves_a_first_line_alone() -> None:
    style = STYLES["body"]
    note = Text(" ".join(METHOD_NOTES * 3), style)
    _, height = note.wrap(200, 1000)
    lines = round(height / style.leading)
    assert note.split(200, 1.9 * style.leading) == []
    first, rest = note.split(200, 3.5 * style.leading)
    assert first.wrap(200, 1000)[1] == pytest.approx(3 * style.leading)
    assert rest.wrap(200, 1000)[1] == pytest.approx((lines - 3) * style.leading)
    assert note.split(200, height + 1) == [note]


def test_long_text_runs_on_to_the_next_page_in_full() -> None:
    notes = [Text(note, STYLES["body"]) for note in METHOD_NOTES * 80]
    pages = [flat(page) for page in pages_text(_pdf(*notes))]
    assert len(pages) > 2
    assert " ".join(pages).count(METHOD_NOTES[0]) == 80


def test_a_chart_refuses_a_shape_it_cannot_draw() -> None:
    chart = charts.distribution_chart(analysis().distribution, frame_width(False))
    chart.add(Ellipse(10, 10, 5, 3))
    with pytest.raises(TypeError, match="cannot draw"):
        _pdf(chart)


def _font_files(data: bytes) -> list[bytes]:
    files = []
    for font in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values():
        files.append(font.get_object()["/FontDescriptor"]["/FontFile2"].get_object().get_data())
    return sorted(files)


def test_reports_of_different_schools_embed_the_same_font_subsets() -> None:
    """Common characters are claimed first, so the cut and deflated subsets can be reused."""
    require_report_fonts()
    one = summary_pdf(header(), analysis())
    other = summary_pdf(header(school_name="Elm Lane Primary", trust_name=None),
                        analysis(pupil_count=3, progress_note=None))
    assert _font_files(one) == _font_files(other)
    unusual = pupils_pdf(header(), analysis(pupils=[]), password=None)
    assert "There are no pupils" in flat(pages_text(unusual)[0])


SAME_BYTES = """
import sys
from reports.pdf import pupils_pdf, summary_pdf
from tests.reports.pdf.samples import WORLD_SCHOOL, analysis, header
sys.stdout.buffer.write(summary_pdf(header(school_name=WORLD_SCHOOL), analysis())
                        + pupils_pdf(header(), analysis(pupil_count=40)))
"""


def test_the_bytes_do_not_depend_on_what_the_process_drew_before() -> None:
    """A fresh process (nothing cached) and this one (subsets cut and deflated already) agree."""
    from tests.reports.pdf.samples import WORLD_SCHOOL

    here = (summary_pdf(header(school_name=WORLD_SCHOOL), analysis())
            + pupils_pdf(header(), analysis(pupil_count=40)))
    fresh = subprocess.run([sys.executable, "-c", SAME_BYTES], cwd=ROOT, capture_output=True,
                           timeout=120, env={**os.environ, "PYTHONHASHSEED": "1"})
    assert fresh.returncode == 0, fresh.stderr.decode()
    assert fresh.stdout == here
