"""The summary report: headline figures with pupil counts and national years, charts, progress, notes."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from reports.pdf import summary_pdf
from reports.pdf.page import (
    FALLBACK,
    FONT_DIR_ENV,
    FONT_FILES,
    SYSTEM_FONT_DIR,
    font_directory,
    fonts,
    number,
    signed,
)
from tests.reports.pdf.samples import (
    METHOD_NOTES,
    PROGRESS_NOTE,
    REPORT_FONTS,
    SCHOOL,
    SCORES_SOURCE,
    SOURCE,
    TRUST,
    UPLOAD,
    WORLD_SCHOOL,
    WORLD_TRUST,
    analysis,
    drawn_fonts,
    flat,
    header,
    page_count,
    pages_text,
    progress,
    render_pngs,
    require_report_fonts,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return summary_pdf(header(), analysis())


@pytest.fixture(scope="module")
def text(pdf: bytes) -> str:
    return flat("\n".join(pages_text(pdf)))


def test_the_summary_is_titled_and_names_the_school_as_written(text: str) -> None:
    assert "Summary report" in text
    assert SCHOOL in text                     # "&" and "<Primary>" survive Paragraph markup


def test_the_headline_table_has_its_four_columns(text: str) -> None:
    assert "Measure This school All participating schools National" in text


def test_each_headline_figure_shows_its_pupil_count(text: str) -> None:
    assert "Reading, writing and maths: expected standard 62.5% (16 pupils) 58.3% (480 pupils)" in text
    assert "104.3 (16 pupils) 105.0 (480 pupils)" in text


def test_a_national_figure_shows_its_year_and_a_footnote_gives_its_source(text: str) -> None:
    assert "61.0% (2024) [1]" in text
    assert "105.0 (2024) [2]" in text
    assert f"[1] {SOURCE}" in text
    assert f"[2] {SCORES_SOURCE}" in text


def test_one_shared_national_source_needs_no_markers() -> None:
    rows = analysis().headline[:1]
    text = flat("\n".join(pages_text(summary_pdf(header(), analysis(headline=rows)))))
    assert "61.0% (2024)" in text and "[1]" not in text
    assert f"National figures: {SOURCE}." in text


def test_a_figure_without_pupils_and_a_missing_national_figure_show_a_dash(text: str) -> None:
    assert "Writing: greater depth – 10.2% (480 pupils) –" in text


def test_the_charts_are_titled_and_labelled(text: str) -> None:
    assert "Subjects: this school and all participating schools" in text
    assert "Grammar, punctuation and spelling" in text
    assert "75.0%" in text and "72.1%" in text
    assert "Pupils by reading scaled score" in text
    assert "100-109" in text


def test_progress_shows_signed_means_with_their_confidence_intervals(text: str) -> None:
    assert "Reading progress 14 2 +0.25 −0.10 to +0.60" in text
    assert "Maths progress 14 2 −0.40 −0.85 to +0.05" in text
    assert "Writing progress 0 16 – –" in text


def test_the_progress_note_is_printed_beside_the_chart(text: str) -> None:
    assert PROGRESS_NOTE in text
    assert "0 = as expected from prior attainment" in text


def test_without_any_progress_mean_the_chart_is_left_out_and_the_note_printed() -> None:
    note = "Progress is not measured for KS1: there is no prior attainment."
    no_means = [p for p in progress() if p.mean is None]
    text = flat("\n".join(pages_text(summary_pdf(header(), analysis(progress=no_means,
                                                                     progress_note=note)))))
    assert note in text
    assert "as expected from prior attainment" not in text
    assert "95% confidence interval" not in text


def test_without_progress_or_a_note_there_is_no_progress_section() -> None:
    text = flat("\n".join(pages_text(summary_pdf(header(), analysis(progress=[],
                                                                     progress_note=None)))))
    assert "Progress" not in text.replace("Progress:", "")


def test_the_method_notes_explain_how_the_figures_are_worked_out(text: str) -> None:
    assert "How these figures are worked out" in text
    for note in METHOD_NOTES:
        assert note in text


def test_every_page_says_whose_figures_from_which_upload_and_window(pdf: bytes) -> None:
    pages = [flat(page) for page in pages_text(pdf)]
    assert len(pages) >= 2
    for number_, page in enumerate(pages, start=1):
        assert f"Page {number_} of {len(pages)}" in page
        assert SCHOOL in page and "DfE 8012001" in page and TRUST in page
        assert "KS2 2026 early results" in page
        assert "Window 2 (closed 10/07/2026 17:00)" in page
        assert UPLOAD in page
        assert "Generated 11/07/2026 09:30" in page


def test_a_school_outside_a_trust_with_two_uploads_lists_both() -> None:
    uploads = [UPLOAD, "Upload #13: ks2-extra.xlsx, received 04/07/2026 09:15"]
    pages = pages_text(summary_pdf(header(trust_name=None, uploads=uploads), analysis()))
    for page in map(flat, pages):
        assert TRUST not in page
        assert all(upload in page for upload in uploads)


def test_every_page_renders_to_png(pdf: bytes, tmp_path) -> None:
    pngs = render_pngs(pdf, tmp_path)
    assert len(pngs) == page_count(pdf)
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in pngs)


def test_a_password_encrypts_the_report(pdf: bytes) -> None:
    data = summary_pdf(header(), analysis(), password="s3cret")
    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert b"St Mary" in pdf and b"St Mary" not in data
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert not PdfReader(io.BytesIO(data)).decrypt("wrong")
    reader = PdfReader(io.BytesIO(data))
    assert reader.decrypt("s3cret")
    assert SCHOOL in reader.pages[0].extract_text()


def test_the_same_figures_give_the_same_bytes(pdf: bytes) -> None:
    assert summary_pdf(header(), analysis()) == pdf


def test_numbers_round_half_up_to_their_places_with_a_real_minus_sign() -> None:
    assert number(58.25, "%") == "58.3%"
    assert number(104.33, "score") == "104.3"
    assert number(None, "%") == "–"
    assert signed(0.25) == "+0.25"
    assert signed(-0.4) == "−0.40"
    assert signed(-0.004) == "0.00"
    assert signed(None) == "–"


def test_a_school_name_outside_western_european_letters_is_drawn_not_boxed() -> None:
    require_report_fonts()
    subjects = [("Reading", 75.0, 72.1), ("Język polski", 50.0, None)]
    data = summary_pdf(header(school_name=WORLD_SCHOOL, trust_name=WORLD_TRUST),
                       analysis(subject_chart=subjects))
    pages = [flat(page) for page in pages_text(data)]
    for page in pages:                                # the band of every page
        assert WORLD_SCHOOL in page and f"DfE 8012001 · {WORLD_TRUST}" in page
    text = " ".join(pages)
    assert f"{WORLD_SCHOOL}: KS2 2026 early results, window 2." in text
    assert "Język polski" in text                     # a chart label
    assert "Maths progress 14 2 −0.40 −0.85 to +0.05" in text
    assert "−1.00" in text and "−0.40" in text        # the progress chart's axis and mean
    assert "Writing progress 0 16 – –" in text


def test_every_piece_of_text_is_set_in_the_report_font() -> None:
    require_report_fonts()
    data = summary_pdf(header(), analysis())         # band, footer, tables, all three charts
    assert drawn_fonts(data) == REPORT_FONTS
    assert b"/Helvetica" not in data                  # not even as the canvas's starting font


def test_the_report_font_folder_can_be_overridden(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(FONT_DIR_ENV, str(tmp_path))
    assert font_directory() == tmp_path
    monkeypatch.delenv(FONT_DIR_ENV)
    assert font_directory() == SYSTEM_FONT_DIR


def test_a_font_folder_without_dejavu_falls_back_to_helvetica(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(FONT_DIR_ENV, str(tmp_path))
    assert fonts(font_directory()) == FALLBACK == ("Helvetica", "Helvetica-Bold")


def test_half_a_family_or_unreadable_font_files_fall_back_to_helvetica(tmp_path) -> None:
    regular_only = tmp_path / "regular-only"
    regular_only.mkdir()
    (regular_only / FONT_FILES["DejaVuSans"]).write_bytes(b"")
    assert fonts(regular_only) == FALLBACK
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in FONT_FILES.values():
        (broken / file).write_bytes(b"not a TrueType font")
    assert fonts(str(broken)) == FALLBACK


FALLBACK_RENDER = """
import sys
from reports.pdf import pupils_pdf, summary_pdf
from reports.pdf.page import BOLD, FONT
from tests.reports.pdf.samples import WORLD_SCHOOL, analysis, header
assert (FONT, BOLD) == ("Helvetica", "Helvetica-Bold"), (FONT, BOLD)
summary = summary_pdf(header(school_name=WORLD_SCHOOL), analysis())
pupils = pupils_pdf(header(), analysis(pupil_count=20))
open(sys.argv[1], "wb").write(summary)
open(sys.argv[2], "wb").write(pupils)
"""


def test_without_the_fonts_the_reports_still_render_in_helvetica(tmp_path) -> None:
    """A fresh interpreter: the font is chosen once, at import."""
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    summary, pupils = tmp_path / "summary.pdf", tmp_path / "pupils.pdf"
    env = {**os.environ, FONT_DIR_ENV: str(empty)}
    done = subprocess.run([sys.executable, "-c", FALLBACK_RENDER, str(summary), str(pupils)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fall back to Helvetica" in done.stderr
    text = flat("\n".join(pages_text(summary.read_bytes())))
    assert "Summary report" in text and "Maths progress 14 2 −0.40 −0.85 to +0.05" in text
    used = drawn_fonts(summary.read_bytes())       # plus Symbol (−) and ZapfDingbats (the boxes)
    assert {"Helvetica", "Helvetica-Bold"} <= used and not used & REPORT_FONTS
    assert "A801200100001 Surname001, Forename" in flat("\n".join(pages_text(pupils.read_bytes())))
