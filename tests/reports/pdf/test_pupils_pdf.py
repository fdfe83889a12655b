"""The pupils report: a row per pupil with prior attainment, estimates and progress, page after page."""
from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from reports.pdf import pupils_pdf
from tests.reports.pdf.samples import (
    PROGRESS_NOTE,
    REPORT_FONTS,
    SCHOOL,
    UPLOAD,
    WORLD_NAMES,
    WORLD_SCHOOL,
    WORLD_TRUST,
    analysis,
    drawn_fonts,
    flat,
    header,
    page_count,
    pages_text,
    pupil,
    render_pngs,
    require_report_fonts,
)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return pupils_pdf(header(), analysis(pupil_count=16))


@pytest.fixture(scope="module")
def text(pdf: bytes) -> str:
    return flat("\n".join(pages_text(pdf)))


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    return pupils_pdf(header(), analysis(pupil_count=300))


def _is_landscape(data: bytes) -> bool:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return box.width > box.height


def test_the_pupils_report_is_titled_and_counts_its_pupils(text: str) -> None:
    assert "Pupils report" in text
    assert f"{SCHOOL}: 16 pupils in KS2 2026 early results, window 2." in text


def test_the_header_names_each_result_column_and_each_progress_measure(text: str) -> None:
    assert "UPN Name Reading score Maths score Writing TA Prior attainment" in text
    assert ("Reading progress Maths progress Writing progress "
            "Estimate Progress Estimate Progress Estimate Progress") in text


def test_each_pupil_has_a_row_with_results_prior_estimates_and_signed_progress(text: str) -> None:
    assert ("A801200100001 Surname001, Forename 96 101 EXS KS1 EXS 102.5 +0.23 102.3 −0.40 – –"
            in text)


def test_a_pupil_without_prior_attainment_shows_not_known_and_no_progress(text: str) -> None:
    assert "A801200100000 Surname000, Forename 95 100 EXS Not known – – – – – –" in text


def test_the_progress_note_is_printed(text: str) -> None:
    assert PROGRESS_NOTE in text


def test_without_progress_measures_there_are_no_estimate_columns() -> None:
    ks1 = analysis(pupil_count=3, progress=[], progress_note=None)
    ks1 = replace(ks1, pupils=[replace(p, estimates=[], progress=[]) for p in ks1.pupils])
    data = pupils_pdf(header(), ks1)
    text = flat("\n".join(pages_text(data)))
    assert "Estimate" not in text
    assert "A801200100001 Surname001, Forename 96 101 EXS KS1 EXS" in text
    assert not _is_landscape(data)


def test_many_columns_turn_the_page_to_landscape(pdf: bytes) -> None:
    assert _is_landscape(pdf)


def test_a_long_name_wraps_and_is_escaped() -> None:
    long = replace(pupil(1), name="Fotheringham-Smythe & <Co>, Alexandra-Maximiliana Theodora")
    data = pupils_pdf(header(), analysis(pupils=[long]))
    assert "Fotheringham-Smythe & <Co>" in flat("\n".join(pages_text(data)))


def test_names_outside_western_european_letters_are_drawn_not_boxed() -> None:
    require_report_fonts()
    pupils = [replace(pupil(number), name=name) for number, name in enumerate(WORLD_NAMES)]
    data = pupils_pdf(header(school_name=WORLD_SCHOOL, trust_name=WORLD_TRUST),
                      analysis(pupils=pupils))
    text = flat("\n".join(pages_text(data)))
    for number, name in enumerate(WORLD_NAMES):     # a glyph the font lacks would not come back
        assert f"A{801200100000 + number:012d} {name} " in text
    assert f"{WORLD_SCHOOL}: 5 pupils in" in text and f"DfE 8012001 · {WORLD_TRUST}" in text
    assert "−0.40" in text and "– –" in text         # U+2212 minus and U+2013 dash, same font
    assert drawn_fonts(data) == REPORT_FONTS


def test_no_pupils_says_so() -> None:
    text = flat("\n".join(pages_text(pupils_pdf(header(), analysis(pupil_count=0)))))
    assert "There are no pupils in the uploads for this window." in text


def test_300_pupils_paginate_with_the_header_and_page_x_of_n_on_every_page(long_pdf: bytes) -> None:
    pages = [flat(page) for page in pages_text(long_pdf)]
    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert SCHOOL in page and "DfE 8012001" in page
        assert "Window 2 (closed 10/07/2026 17:00)" in page
        assert UPLOAD in page
        assert "UPN Name Reading score" in page           # the table header repeats
    everything = " ".join(pages)
    for number in range(300):
        assert everything.count(f"A{801200100000 + number:012d} ") == 1


def test_every_page_of_300_pupils_renders_to_png(long_pdf: bytes, tmp_path) -> None:
    pngs = render_pngs(long_pdf, tmp_path)
    assert len(pngs) == page_count(long_pdf)
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in pngs)


def test_a_password_encrypts_the_report() -> None:
    data = pupils_pdf(header(), analysis(pupil_count=5), password="s3cret")
    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert b"Surname001" not in data
    assert not PdfReader(io.BytesIO(data)).decrypt("wrong")
    assert reader.decrypt("s3cret")
    assert "Surname001, Forename" in reader.pages[0].extract_text()


def test_the_same_pupils_give_the_same_bytes(long_pdf: bytes) -> None:
    assert pupils_pdf(header(), analysis(pupil_count=300)) == long_pdf
