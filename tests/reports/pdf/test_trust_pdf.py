"""The trust summary: every school in the trust, the ones that sent nothing flagged, then the pool."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.lib.rl_accel import fp_str

from reports.figures import TrustRow
from reports.pdf import trust_pdf
from reports.pdf.page import FLAG
from tests.reports.pdf.samples import (
    REPORT_FONTS,
    SCHOOL,
    TRUST,
    WORLD_SCHOOL,
    WORLD_TRUST,
    drawn_fonts,
    flat,
    page_count,
    pages_text,
    render_pngs,
    require_report_fonts,
    trust_summary,
)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return trust_pdf(trust_summary())


@pytest.fixture(scope="module")
def text(pdf: bytes) -> str:
    return flat("\n".join(pages_text(pdf)))


def test_the_summary_is_titled_with_the_trust_collection_and_window(text: str) -> None:
    assert f"{TRUST}: trust summary" in text
    assert "KS2 2026 early results, Window 2 (closed 10/07/2026 17:00)" in text
    assert "2 of 3 schools submitted in this window." in text


def test_each_school_has_a_row_with_its_dfe_pupils_and_figures(text: str) -> None:
    assert "School DfE Pupils RWM expected Reading average Maths average" in text
    assert f"{SCHOOL} 8012001 16 62.5% 104.3 103.9" in text
    assert "Hill Top Academy 8012003 31 71.0% 106.1 105.2" in text


def test_a_school_without_a_submission_is_flagged_and_shaded(pdf: bytes, text: str) -> None:
    assert "Elm Lane Primary 8012002 – No submission in this window" in text
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()
    assert f"{fp_str(*FLAG.rgb())} rg".encode() in content


def test_the_participating_row_comes_last(text: str) -> None:
    assert text.index("All participating schools 58.3% 105.0 104.6") > text.index("Hill Top Academy")


def test_without_pooled_figures_there_is_no_participating_row() -> None:
    text = flat("\n".join(pages_text(trust_pdf(trust_summary(participating=[])))))
    assert "All participating schools" not in text


def test_a_trust_without_figure_columns_still_flags_the_missing_school() -> None:
    rows = [TrustRow(SCHOOL, "8012001", True, 16, []),
            TrustRow("Elm Lane Primary", "8012002", False, 0, [])]
    text = flat("\n".join(pages_text(trust_pdf(trust_summary(columns=[], rows=rows,
                                                               participating=[])))))
    assert f"{SCHOOL} 8012001 16" in text
    assert "Elm Lane Primary 8012002 No submission in this window" in text


def test_a_large_trust_shows_page_x_of_n_and_the_trust_on_every_page() -> None:
    rows = [TrustRow(f"School {n:03d}", f"80130{n:02d}", n % 5 != 0, 20 + n, ["50.0%", "100.0", "101.0"])
            for n in range(90)]
    pages = [flat(page) for page in pages_text(trust_pdf(trust_summary(rows=rows)))]
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert TRUST in page and "Window 2 (closed 10/07/2026 17:00)" in page
        assert "School DfE Pupils" in page


def test_every_page_renders_to_png(pdf: bytes, tmp_path) -> None:
    pngs = render_pngs(pdf, tmp_path)
    assert len(pngs) == page_count(pdf)
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in pngs)


def test_a_password_encrypts_the_summary() -> None:
    data = trust_pdf(trust_summary(), password="s3cret")
    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert b"Hill Top" not in data
    assert not PdfReader(io.BytesIO(data)).decrypt("wrong")
    assert reader.decrypt("s3cret")
    assert "Hill Top Academy" in reader.pages[0].extract_text()


def test_the_same_summary_gives_the_same_bytes(pdf: bytes) -> None:
    assert trust_pdf(trust_summary()) == pdf


def test_trust_and_school_names_outside_western_european_letters_are_drawn_not_boxed() -> None:
    require_report_fonts()
    rows = [TrustRow(WORLD_SCHOOL, "8012001", True, 16, ["62.5%", "104.3", "103.9"]),
            *trust_summary().rows[1:]]
    data = trust_pdf(trust_summary(trust_name=WORLD_TRUST, rows=rows))
    text = flat("\n".join(pages_text(data)))
    assert f"{WORLD_TRUST}: trust summary" in text
    assert f"{WORLD_SCHOOL} 8012001 16 62.5% 104.3 103.9" in text
    assert drawn_fonts(data) == REPORT_FONTS
