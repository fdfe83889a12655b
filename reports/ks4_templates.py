"""Excel workbooks for the KS4 GCSE and non-GCSE results templates, written with openpyxl.

``ks4_workbook`` writes plain rows under the header (tests build submissions with it);
``ks4_template`` writes the template schools download (see ``reports.templates``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


from reports.templates import (
    data_workbook,
    DOB_MESSAGE,
    GENDER_MESSAGE,
    GENDER_WORDS,
    Column,
    Line,
    build_template,
    heading,
    school_line,
    table_head,
    text,
)
from workers.validators.ks4 import (
    FIXED_COLUMNS,
    FORMATS,
    KS2_COLUMNS,
    TEMPLATE_NAMES,
    grade_message,
    grade_set,
    header,
    ks4_config,
    qualifications,
)


def ks4_workbook(kind: str, rows: Iterable[Sequence[Any]]) -> bytes:
    """The kind's template with the given data rows under its header."""
    return data_workbook(f"KS4 {TEMPLATE_NAMES[kind]} results", header(kind), rows)


# --- the template schools download ------------------------------------------------------------

def ks4_columns(kind: str) -> list[Column]:
    """The kind's header as template columns: codes and grades with drop-down lists."""
    config = ks4_config()
    low, high = config["ks2_scaled_score_min"], config["ks2_scaled_score_max"]
    score_message = f"Range must be between {low} to {high} and be whole numbers. Allows empty field."
    special = {
        "Organisation": Column("Organisation", 28),
        "School DFE": Column("School DFE", 11),
        "Key stage": Column("Key stage", 9, choices=(str(config["key_stage"]),),
                            message=f"Key stage must be {config['key_stage']}."),
        "Year": Column("Year", 7, choices=(str(config["year"]),),
                       message=f"Year must be {config['year']}."),
        "Gender": Column("Gender", 10, choices=("Male", "Female"), message=GENDER_MESSAGE),
        "Date of birth": Column("Date of birth", 13, date=True, message=DOB_MESSAGE),
    }
    special |= {name: Column(name, 12, whole=(low, high), message=score_message)
                for name in KS2_COLUMNS}
    columns = [special.get(name, Column(name)) for name in FIXED_COLUMNS]
    for qualification in qualifications(kind):
        grades = grade_set(qualification["grades"])
        columns.append(Column(qualification["column"], 14, choices=tuple(grades["grades"]),
                              list_name=qualification["grades"],
                              on_list_sheet=bool(grades.get("double_grade")),
                              message=grade_message(grades)))
    return columns


def double_grade_columns(kind: str) -> list[str]:
    return [q["column"] for q in qualifications(kind) if grade_set(q["grades"]).get("double_grade")]


def ks4_guidance(kind: str, dfe: str | None, school_name: str | None, pupils: int) -> list[Line]:
    config = ks4_config()
    name = TEMPLATE_NAMES[kind]
    low, high = config["ks2_scaled_score_min"], config["ks2_scaled_score_max"]
    lines = [
        Line((f"KS4 {name} results template: guidance",), "title"),
        school_line(dfe, school_name, pupils),
        text(""),
        heading("How to fill in the template"),
        text("One row per pupil", f"Enter one row per Year {config['year']} pupil on the first "
             f"sheet, 'KS4 {name} results'. Pupils on roll at the census date are listed already. "
             "You may add a pupil who is missing: they will be processed, so check the UPN."),
        text("Do not change the columns", "Do not add, delete, rename or re-order subject "
             "columns (or any other column): row 1 is locked, and a file whose header row "
             "differs is refused."),
        text("One school per file", "Organisation is the school's name. Every row must have the "
             "same School DFE (7 digits: LA code and establishment number). Each UPN may appear "
             "only once."),
        text("Key stage and Year", f"Key stage must be {config['key_stage']}. "
             f"Year must be {config['year']}."),
        text("Gender", GENDER_MESSAGE),
        text("Date of birth", DOB_MESSAGE),
        text("KS2 scaled scores", f"Reading and maths: whole numbers from {low} to {high}, blank "
             f"if the pupil has none. Range must be between {low} to {high} and be whole numbers. "
             "Allows empty field."),
        text("Grades", "Leave a grade blank if the pupil was not entered for that qualification. "
             "Use U for ungraded or fail. F and X are not used."),
    ]
    for column in double_grade_columns(kind):
        lines.append(text(column, f"{column} is a double grade: two grades equal or one apart, "
                          "written highest first with no space or separator, e.g. 54 (not 5-4, "
                          "5 4, 4/3 or 45)."))
    lines += [
        text("Drop-down lists", "Choose grades from the drop-down lists or type them. Values "
             "pasted in are not checked by Excel, so the service checks every value when the file "
             "is sent."),
        text("Sending the file", "Save as an Excel Workbook (.xlsx) and send it. A new file "
             "replaces the previous one, so always include every pupil."),
        text(""),
        heading(f"Accepted qualifications and grades ({len(qualifications(kind))} subject columns, "
                "in template order)"),
        table_head("Qualification (column)", "Grades accepted", "Every accepted grade"),
    ]
    for qualification in qualifications(kind):
        grades = grade_set(qualification["grades"])
        lines.append(text(qualification["column"],
                          grade_message(grades).removeprefix("Grade must be ").removesuffix("."),
                          ", ".join(grades["grades"])))
    return lines


def ks4_rows(dfe: str | None, school_name: str | None, pupils: Iterable[Any]) -> list[list[Any]]:
    config = ks4_config()
    return [[school_name or "", dfe or getattr(p, "dfe", "") or "", config["key_stage"],
             config["year"], p.upn, p.forename, p.surname, GENDER_WORDS.get(p.gender or "", ""),
             p.dob] for p in pupils]


def ks4_template(kind: str, dfe: str | None, school_name: str | None, pupils: Iterable[Any]) -> bytes:
    """The GCSE or non-GCSE template pre-filled with the school's Year 11 pupils (blank with none).

    Key stage and Year are the template's (4 and 11), whatever the roster says; KS2 scores and
    grades are left for the school.
    """
    if kind not in FORMATS:
        raise ValueError(f"Unknown KS4 template '{kind}': expected one of {', '.join(FORMATS)}.")
    rows = ks4_rows(dfe, school_name, pupils)
    return build_template(f"KS4 {TEMPLATE_NAMES[kind]} results", ks4_columns(kind), rows,
                          ks4_guidance(kind, dfe, school_name, len(rows)), header_height=60)
