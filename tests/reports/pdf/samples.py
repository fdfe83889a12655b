"""Sample report data built by hand, and helpers to read PDFs back as text and as pictures.

The measures that fill an Analysis are written elsewhere; these samples pin what the PDFs must
show for figures of every shape: missing values, no national figure, a pupil without prior
attainment, a progress measure with no mean, a school with an awkward name.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports.figures import (
    Analysis,
    Bar,
    Figure,
    HeadlineRow,
    National,
    Progress,
    PupilLine,
    ReportHeader,
    TrustRow,
    TrustSummary,
)
from reports.pdf.page import FONT_FILES, font_directory

SCHOOL = "St Mary & St John <Primary>"
TRUST = "Oak & Ash Learning Trust"
UPLOAD = "Upload #12: ks2-results.xlsx, received 03/07/2026 14:02"
SOURCE = "DfE, Key stage 2 attainment: national headlines, 2024"
SCORES_SOURCE = "DfE, Key stage 2 attainment: scaled scores, 2024 (revised)"
PROGRESS_NOTE = "Two pupils have no KS1 results, so they are not counted in progress."
METHOD_NOTES = [
    "Expected standard: the share of pupils with a scaled score of 100 or more in each subject.",
    "Progress: each pupil's score minus the average of participating pupils with the same KS1 results.",
]
REQUIRE_SERVICES = os.environ.get("ERS_REQUIRE_SERVICES") == "1"

# Names Helvetica (Windows-1252) draws with boxes: Polish, Turkish, Croatian, Vietnamese letters.
WORLD_NAMES = ["Wiśniewski, Łukasz", "Yılmaz, Şule", "Ćosić, Zoë", "Nguyễn, Thị Minh Anh",
               "Đặng-Wiśniewska, Małgorzata Şule Ngọc Ánh Zoë Ćosić Yılmaz Łucja"]   # wraps
WORLD_SCHOOL = "St Łucja & Şule Yılmaz <Primary>"
WORLD_TRUST = "Ćosić & Nguyễn Learning Trust"
REPORT_FONTS = {"DejaVuSans", "DejaVuSans-Bold"}


def header(**changes) -> ReportHeader:
    base = ReportHeader(
        school_name=SCHOOL, dfe="8012001", trust_name=TRUST, collection_key="ks2-2026",
        collection_name="KS2 2026 early results", window_number=2,
        window_closes=datetime(2026, 7, 10, 17, 0), uploads=[UPLOAD],
        generated_at=datetime(2026, 7, 11, 9, 30))
    return replace(base, **changes)


def _figure(key: str, label: str, unit: str, value: float | None, count: int) -> Figure:
    return Figure(key=key, label=label, unit=unit, value=value, count=count)


def headline() -> list[HeadlineRow]:
    return [
        HeadlineRow(_figure("rwm", "Reading, writing and maths: expected standard", "%", 62.5, 16),
                    _figure("rwm", "", "%", 58.25, 480), National(61.0, "2024", SOURCE)),
        HeadlineRow(_figure("reading", "Reading: average scaled score", "score", 104.33, 16),
                    _figure("reading", "", "score", 105.04, 480),
                    National(105.0, "2024", SCORES_SOURCE)),
        HeadlineRow(_figure("gds", "Writing: greater depth", "%", None, 0),
                    _figure("gds", "", "%", 10.2, 480), None),
    ]


def progress() -> list[Progress]:
    return [
        Progress("ks2_reading_progress", "Reading progress", 14, 2, 0.25, -0.104, 0.6),
        Progress("ks2_maths_progress", "Maths progress", 14, 2, -0.4, -0.85, 0.05),
        Progress("ks2_writing_progress", "Writing progress", 0, 16, None, None, None),
    ]


def pupil(number: int) -> PupilLine:
    known = number % 7 != 0
    return PupilLine(
        upn=f"A{801200100000 + number:012d}", name=f"Surname{number:03d}, Forename",
        results=[str(95 + number % 20), str(100 + number % 15), "EXS"],
        prior="KS1 EXS" if known else None,
        estimates=[101.5 + number % 3, 102.25, None] if known else [None, None, None],
        progress=[1.234 - number % 4, -0.4, None] if known else [None, None, None])


def analysis(pupil_count: int = 16, **changes) -> Analysis:
    base = Analysis(
        headline=headline(),
        subject_chart=[("Reading", 75.0, 72.1), ("Writing", 68.8, 70.0), ("Maths", 62.5, None),
                       ("Grammar, punctuation and spelling", None, 70.2)],
        distribution_title="Pupils by reading scaled score",
        distribution=[Bar("Below 90", 1), Bar("90-99", 3), Bar("100-109", 9), Bar("110+", 3)],
        progress=progress(), progress_note=PROGRESS_NOTE,
        pupil_columns=["Reading score", "Maths score", "Writing TA"],
        pupils=[pupil(number) for number in range(pupil_count)],
        method_notes=list(METHOD_NOTES))
    return replace(base, **changes)


def trust_summary(**changes) -> TrustSummary:
    base = TrustSummary(
        trust_name=TRUST, collection_name="KS2 2026 early results", window_number=2,
        window_closes=datetime(2026, 7, 10, 17, 0),
        columns=["RWM expected", "Reading average", "Maths average"],
        rows=[TrustRow(SCHOOL, "8012001", True, 16, ["62.5%", "104.3", "103.9"]),
              TrustRow("Elm Lane Primary", "8012002", False, 0, []),
              TrustRow("Hill Top Academy", "8012003", True, 31, ["71.0%", "106.1", "105.2"])],
        participating=["58.3%", "105.0", "104.6"],
        generated_at=datetime(2026, 7, 11, 9, 30))
    return replace(base, **changes)


def pages_text(data: bytes, password: str | None = None) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    if password is not None:
        reader.decrypt(password)
    return [page.extract_text() for page in reader.pages]


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces, as a reader sees it."""
    return " ".join(text.split())


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def drawn_fonts(data: bytes) -> set[str]:
    """The fonts every drawn piece of text is set in, without the subset tag ("AAAAAA+")."""
    names: set[str] = set()

    def visit(text, _cm, _tm, font, _size) -> None:
        if text.strip() and font is not None:
            names.add(str(font["/BaseFont"]).lstrip("/").split("+")[-1])

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return names


def require_report_fonts() -> None:
    """Skip where DejaVu Sans is not installed, unless ERS_REQUIRE_SERVICES asks for every tool."""
    directory = font_directory()
    if all((directory / file).is_file() for file in FONT_FILES.values()):
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"DejaVu Sans is not in {directory} although ERS_REQUIRE_SERVICES asks for it")
    pytest.skip(f"DejaVu Sans (fonts-dejavu-core) is not in {directory}")


def render_pngs(data: bytes, folder: Path) -> list[Path]:
    """Rasterise every page with poppler's pdftoppm: proof that a real renderer can draw it."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if REQUIRE_SERVICES:
            pytest.fail("pdftoppm is missing although ERS_REQUIRE_SERVICES asks for every tool")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = folder / "report.pdf"
    source.write_bytes(data)
    subprocess.run([pdftoppm, "-png", "-r", "50", str(source), str(folder / "page")],
                   check=True, capture_output=True, timeout=60)
    return sorted(folder.glob("page-*.png"))
