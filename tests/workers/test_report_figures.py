"""A small world's reports, end to end: the figures read back from the PDFs are the ones worked
out by hand, and every PDF made draws with a real renderer (pdftoppm)."""
from __future__ import annotations

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from conftest import ACORN, BEECH, DALE, contact_of
from helpers import roster_of, valid_ks1, valid_ks2
from intake import demo_world as world
from intake.receive import receive
from models import Report
from reports.templates import ks1_workbook
from tests.reports.pdf.samples import flat, render_pngs
from workers.runner import drain
from workers.scheduler import close_by_hand

# Reading, writing, maths TA for four pupils each (science EXS throughout).
ACORN_TA = [("EXS", "EXS", "GDS"), ("GDS", "EXS", "EXS"), ("WTS", "WTS", "EXS"), ("EXS", "WTS", "PK4")]
DALE_TA = [("EXS", "EXS", "EXS"), ("WTS", "WTS", "EXS"), ("WTS", "WTS", "WTS"), ("WTS", "WTS", "WTS")]


def ks1_file(dfe: str, codes) -> bytes:
    rows = world.results_rows(roster_of(dfe)[:len(codes)])
    for row, (reading, writing, maths) in zip(rows, codes):
        row[7:11] = [reading, writing, maths, "EXS"]
    return ks1_workbook(rows)


def report_text(app, dfe_school_id_key, which: str) -> str:
    key, school_id = dfe_school_id_key
    with app.sessions() as session:
        report = session.scalar(select(Report).where(Report.collection_key == key,
                                                     Report.school_id == school_id))
    path = next(f["copy"] for f in report.files if f["name"].endswith(f"{which}.pdf"))
    return flat(" ".join(page.extract_text() for page in PdfReader(path).pages))


def school_id(app, dfe: str) -> int:
    from models import School
    with app.sessions() as session:
        return session.scalar(select(School.id).where(School.dfe == dfe))


def test_ks1_figures_in_the_pdfs_are_the_hand_computed_ones(app, stub_broker, stub_worker):
    for dfe, codes in ((ACORN, ACORN_TA), (DALE, DALE_TA)):
        receive(app, ks1_file(dfe, codes), file_name=f"{dfe}.xlsx", sender=contact_of(dfe),
                channel="cli")
    drain(stub_broker)
    close_by_hand(app, "ks1-demo", 1, by="test")
    drain(stub_broker)
    acorn = report_text(app, ("ks1-demo", school_id(app, ACORN)), "summary")
    # Acorn reading EXS+ 3 of 4; all participating 4 of 8; national 68% (2023).
    assert "Reading: expected standard or above 75.0% (4 pupils) 50.0% (8 pupils) 68.0% (2023)" \
        in acorn
    # RWM: Acorn's first two pupils of 4; with Dale's first, 3 of 8 over both schools.
    assert "Reading, writing and maths: expected standard or above 50.0% (4 pupils) " \
        "37.5% (8 pupils)" in acorn
    assert "Reading: greater depth 25.0% (4 pupils) 12.5% (8 pupils)" in acorn
    dale = report_text(app, ("ks1-demo", school_id(app, DALE)), "summary")
    assert "Maths: expected standard or above 50.0% (4 pupils) 62.5% (8 pupils) 70.0% (2023)" in dale
    assert "Progress is not measured for KS1" in dale


def test_ks2_progress_uses_ks1_results_where_held_and_says_when_prior_attainment_is_missing(
        app, stub_broker, stub_worker):
    receive(app, valid_ks1(ACORN), file_name="acorn-ks1.xlsx", sender=contact_of(ACORN),
            channel="cli")  # Acorn's pupils' KS1 results are held; Beech's are not
    for dfe in (ACORN, BEECH):
        receive(app, valid_ks2(dfe), file_name=f"{dfe}_KS2.csv", sender=contact_of(dfe),
                channel="cli")
    drain(stub_broker)
    close_by_hand(app, "ks2-demo", 1, by="test")
    drain(stub_broker)
    acorn = report_text(app, ("ks2-demo", school_id(app, ACORN)), "summary")
    beech = report_text(app, ("ks2-demo", school_id(app, BEECH)), "summary")
    beech_pupils = report_text(app, ("ks2-demo", school_id(app, BEECH)), "pupils")
    # Only Acorn's pupils have a KS1 group, so the group means are Acorn's own: its mean is 0.
    assert "Reading progress 24 0 0.00" in acorn and "Maths progress 24 0 0.00" in acorn
    assert "24 pupils have no KS1 teacher assessments" in beech
    assert "not given a progress score" in beech and "Not known" in beech_pupils


def test_every_pdf_a_closing_makes_draws_with_pdftoppm(app, stub_broker, stub_worker, tmp_path):
    for dfe in (ACORN, BEECH, DALE):
        receive(app, valid_ks1(dfe), file_name=f"{dfe}.xlsx", sender=contact_of(dfe), channel="cli")
    drain(stub_broker)
    close_by_hand(app, "ks1-demo", 1, by="test")
    drain(stub_broker)
    pdfs = sorted(app.settings.reports_dir.rglob("*.pdf"))
    assert len(pdfs) == 3 * 2 + 1
    for n, pdf in enumerate(pdfs):
        folder = tmp_path / f"png-{n}"
        folder.mkdir()
        pages = render_pngs(pdf.read_bytes(), folder)
        assert pages and len(pages) == len(PdfReader(pdf).pages), pdf.name


@pytest.mark.parametrize("key", ["ks4-demo", "ctf-demo"])
def test_a_window_nobody_sent_to_still_closes_and_tells_the_trust(app, stub_broker, stub_worker, key):
    closed = close_by_hand(app, key, 1, by="test")
    drain(stub_broker)
    assert closed.schools == 0 and closed.trust_reports == 1
    with app.sessions() as session:
        [bundle] = session.scalars(select(Report).where(Report.collection_key == key)).all()
    assert bundle.status == "released" and bundle.summary["reported"] == 0
