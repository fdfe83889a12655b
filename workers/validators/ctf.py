"""The Common Transfer File (CTF) XML: safe parsing, header, pupils and stage assessments.

Sources: ../shared/DOMAIN.md sections 1, 3 and 4; ../shared/seeds/ctf-import-guidance.txt and
../shared/seeds/tracker-data-returns-ctf-guidance.txt. Codes live in ``config/ctf.toml``.

Findings use the seeds' wording with the element path as the column and the pupil's position in
the file (1 = the first ``Pupil`` element) as the row, so they do not depend on how the XML is
laid out; header findings have no row.

Safety: a CTF never has a document type declaration, so any ``<!DOCTYPE`` (and so any entity
declaration) is refused before parsing, and the parser itself neither loads DTDs, resolves
entities nor touches the network.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import PureWindowsPath
from typing import Any

from lxml import etree

from config.settings import PACKAGE_DIR
from workers.validators.findings import Findings
from workers.validators.pupil import against_roster, check_upn, report_duplicates
from workers.validators.result import (
    PupilRecord, UnreadableFile, ValidationContext, ValidationResult,
)
from workers.validators.rules import SNIFF_BYTES, dfe_is_valid, name_problem, upn_problem, whole_number
from workers.validators.workbook import DOCTYPE_DECLARATION

FORMAT = "ctf-xml"
PARTS = ("eyfs", "phonics", "mtc", "ks1", "ks2")

ROOT = "CTfile"
SEND_AGAIN = ("Please create the CTF again from your MIS (or download it again from the DfE "
              "portal) and send it without editing it.")
DOCTYPE_MESSAGE = ("The file contains a document type declaration (<!DOCTYPE>), which a Common "
                   "Transfer File never has, so it was refused for safety. " + SEND_AGAIN)
_ROOT_TAG = re.compile(rb"<" + ROOT.encode() + rb"[\s/>]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# StageAssessment child elements read, as (field, element); the first five make the code.
FIELDS = (("subject", "Subject"), ("method", "Method"), ("component", "Component"),
          ("qualifier", "ResultQualifier"), ("locale", "Locale"), ("status", "ResultStatus"),
          ("year", "Year"), ("result", "Result"))
# How an unknown or invalid StageAssessment is named in a finding's column.
PATH_FIELDS = (("Subject", "subject"), ("Component", "component"), ("Method", "method"),
               ("ResultQualifier", "qualifier"))


# --- configuration -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def ctf_config() -> dict[str, Any]:
    """``config/ctf.toml``, loaded once (like ``config.codes.codes``)."""
    config = tomllib.loads((PACKAGE_DIR / "ctf.toml").read_text(encoding="utf-8"))
    unknown = set(config["parts"]) - set(PARTS)
    if unknown:
        raise ValueError(f"ctf.toml names parts the service does not know: {sorted(unknown)}")
    for row in config["assessment"]:
        if row["part"] not in PARTS or row["result"] not in config["results"]:
            raise ValueError(f"ctf.toml assessment row has an unknown part or result kind: {row}")
    return config


@dataclass(frozen=True)
class CodeRow:
    """One line of a year's code list: which StageAssessment codes mean which part and measure."""
    stage: str
    subject: str
    method: str
    component: str
    qualifier: str
    locale: str | None
    status: str | None
    part: str
    measure: str
    code_measure: str
    result: str

    def accepts(self, fields: dict[str, str]) -> bool:
        """Locale and ResultStatus, when the row names them, must match where the file has them."""
        return all(not fields[name] or expected is None or fields[name] == expected
                   for name, expected in (("locale", self.locale), ("status", self.status)))


@lru_cache(maxsize=1)
def code_lists() -> dict[int, dict[tuple[str, ...], list[CodeRow]]]:
    """Assessment year -> (stage, subject, method, component, qualifier) -> rows."""
    lists: dict[int, dict[tuple[str, ...], list[CodeRow]]] = {}
    for raw in ctf_config()["assessment"]:
        row = CodeRow(
            stage=raw["stage"].upper(), subject=raw["subject"].upper(), method=raw["method"].upper(),
            component=raw["component"].upper(), qualifier=raw["qualifier"].upper(),
            locale=raw.get("locale", "").upper() or None, status=raw.get("status", "").upper() or None,
            part=raw["part"], measure=raw["measure"],
            code_measure=raw.get("code_measure", raw["measure"]), result=raw["result"])
        key = (row.stage, row.subject, row.method, row.component, row.qualifier)
        for year in raw["years"]:
            lists.setdefault(int(year), {}).setdefault(key, []).append(row)
    return lists


# --- reading the file safely -------------------------------------------------------------------

def _ascii_view(data: bytes) -> bytes:
    """The bytes with any BOM and NULs removed, so UTF-16/32 markup can be searched as ASCII."""
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if data.startswith(bom):
            data = data[len(bom):]
            break
    return data.replace(b"\x00", b"")


def looks_like(data: bytes) -> bool:
    """A cheap sniff: markup from the start (after any BOM) and a ``<CTfile`` root in the first KB."""
    head = _ascii_view(data[:SNIFF_BYTES])
    return head.lstrip().startswith(b"<") and _ROOT_TAG.search(head) is not None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False)


def parse(data: bytes, max_pupils: int) -> etree._Element:
    """The ``CTfile`` root element, or UnreadableFile saying why the file cannot be read."""
    if not data.strip():
        raise UnreadableFile("The file is empty. " + SEND_AGAIN)
    if DOCTYPE_DECLARATION.search(_ascii_view(data)):
        raise UnreadableFile(DOCTYPE_MESSAGE)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(f"The file is not well-formed XML ({str(exc)[:200]}). "
                             + SEND_AGAIN) from None
    # Belt and braces for encodings the byte scan cannot read: refuse after parsing too.
    if root.getroottree().docinfo.doctype or any(isinstance(node, etree._Entity)
                                                 for node in root.iter()):
        raise UnreadableFile(DOCTYPE_MESSAGE)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = etree.QName(element).localname
    if root.tag != ROOT:
        raise UnreadableFile(f"The file is XML but not a Common Transfer File: its first element is "
                             f"<{root.tag}>, not <{ROOT}>. " + SEND_AGAIN)
    count = len(root.findall("CTFpupilData/Pupil"))
    if count > max_pupils:
        raise UnreadableFile(f"The file has {count} pupils; at most {max_pupils} can be sent in one "
                             "file. Please send a CTF for fewer year groups at a time.")
    return root


def _text(parent: etree._Element | None, tag: str) -> str | None:
    """The stripped text of ``parent/tag``; None when the element is missing."""
    child = parent.find(tag) if parent is not None else None
    return None if child is None else "".join(child.itertext()).strip()


# --- validation --------------------------------------------------------------------------------

@dataclass
class Header:
    source: str | None
    dest: str | None


def validate(data: bytes, context: ValidationContext | None = None, today: date | None = None,
             file_name: str | None = None, parts: frozenset[str] | None = None,
             max_pupils: int = 20000) -> ValidationResult:
    """Validate a CTF; ``parts`` are the parts the school imports (default all of PARTS)."""
    context = context or ValidationContext()
    today = today or date.today()
    chosen = frozenset(PARTS) if parts is None else frozenset(parts)
    if not chosen <= set(PARTS):
        raise ValueError(f"unknown CTF parts {sorted(chosen - set(PARTS))}; known: {PARTS}")
    root = parse(data, max_pupils)
    errors, warnings = Findings(), Findings()
    pupils = root.findall("CTFpupilData/Pupil")

    header = _check_header(root.find("Header"), errors)
    if file_name:
        _check_file_name(file_name, header, warnings)

    school = None
    if header.dest is not None:
        if context.may_submit_for is None or context.may_submit_for(header.dest):
            school = header.dest
        else:
            _other_destination(header, len(pupils), context, errors, warnings)
            return ValidationResult(FORMAT, None, [], errors.grouped(), warnings.grouped())
    if errors:
        return ValidationResult(FORMAT, school, [], errors.grouped(), warnings.grouped())
    if not pupils:
        errors.add("no-pupils", "The file has no pupils (no CTFpupilData/Pupil elements). "
                   + SEND_AGAIN, "CTFpupilData")
        return ValidationResult(FORMAT, school, [], errors.grouped(), warnings.grouped())

    records = [_pupil(element, position, chosen, today, errors, warnings)
               for position, element in enumerate(pupils, start=1)]
    positions: dict[str, list[int]] = {}
    for record in records:
        if record.upn and upn_problem(record.upn) is None:
            positions.setdefault(record.upn, []).append(record.row)
    report_duplicates(positions, errors, "Pupil/UPN", "each pupil must appear once.")
    # A CTF may be partial, so roster pupils missing from it are not warned about.
    against_roster([r for r in records if upn_problem(r.upn) is None], school, context, warnings,
                   keep_unknown=True, rule="pupil-not-on-roster", column="Pupil/UPN",
                   message="Pupil is not on the school's roster; their results are imported anyway.")
    return ValidationResult(FORMAT, school, [] if errors else records, errors.grouped(),
                            warnings.grouped())


def _check_header(header: etree._Element | None, errors: Findings) -> Header:
    config = ctf_config()
    if header is None:
        errors.add("header-missing", "The file has no Header element, so it is not a complete "
                   "Common Transfer File. " + SEND_AGAIN, "Header")
        return Header(None, None)
    name = _text(header, "DocumentName") or ""
    expected = config["document_names"]
    if name.casefold() not in {n.casefold() for n in expected}:
        shown = f"'{name}'" if name else "missing"
        errors.add("document-name", f"DocumentName must be '{expected[0]}' but is {shown}.",
                   "Header/DocumentName")
    version = _text(header, "CTFversion") or ""
    major = whole_number(version.split(".", 1)[0]) if re.fullmatch(r"\d+(\.\d+)?", version) else None
    if major not in config["versions"]:
        accepted = ", ".join(str(v) for v in config["versions"][:-1]) + f" or {config['versions'][-1]}"
        shown = f"'{version}'" if version else "missing"
        errors.add("ctf-version", f"CTFversion must be {accepted} but is {shown}. Please create "
                   "the CTF with an up-to-date MIS or download it again.", "Header/CTFversion")
    return Header(_school_number(header, "SourceSchool", errors),
                  _school_number(header, "DestSchool", errors))


def _school_number(header: etree._Element, element: str, errors: Findings) -> str | None:
    """The DfE number (LEA + Estab) of SourceSchool or DestSchool; None (and an error) if invalid."""
    column = f"Header/{element}"
    school = header.find(element)
    if school is None:
        errors.add("school-missing", f"{element} must be given (LEA and Estab).", column)
        return None
    lea, estab = _text(school, "LEA") or "", _text(school, "Estab") or ""
    dfe = lea + estab
    if len(lea) != 3 or len(estab) != 4 or not dfe_is_valid(dfe):
        errors.add("dfe-invalid", f"Invalid DFE detected: {element} LEA '{lea}' and Estab "
                   f"'{estab}' must be a 3-digit LA code and a 4-digit establishment number.",
                   column)
        return None
    return dfe


def _other_destination(header: Header, pupils: int, context: ValidationContext, errors: Findings,
                       warnings: Findings) -> None:
    """The seed: data for any other school is ignored; as nothing is left to import, an error."""
    ignored = (f"Data for another school is ignored: this file is addressed to school {header.dest} "
               "(DestSchool).")
    for position in range(1, pupils + 1):
        warnings.add("other-destination", ignored, "Header/DestSchool", position)
    if not pupils:
        warnings.add("other-destination", ignored, "Header/DestSchool")
    own_source = header.source is not None and context.may_submit_for is not None \
        and context.may_submit_for(header.source)
    hint = (f"Please create the CTF again with your own school ({header.source}) as the destination."
            if own_source else "Please create the CTF with your own school as the destination school.")
    errors.add("dest-other-school", f"The file is addressed to another school ({header.dest}), so "
               f"nothing in it can be imported. {hint}", "Header/DestSchool")


def _check_file_name(file_name: str, header: Header, warnings: Findings) -> None:
    name = PureWindowsPath(file_name).name  # handles both / and \ separators
    match = re.fullmatch(ctf_config()["file_name_pattern"], name, re.IGNORECASE)
    if match is None:
        warnings.add("file-name", f"The file name '{name}' does not follow the CTF convention "
                     "LLLEEEE_CTF_LLLEEEE_NNN.XML (source DfE number, destination DfE number, "
                     "sequence number). The file is read anyway; please do not rename CTFs.")
    elif None not in (header.source, header.dest) and \
            (match[1], match[2]) != (header.source, header.dest):
        warnings.add("file-name", f"The file name '{name}' says the file is from {match[1]} to "
                     f"{match[2]}, but its header says from {header.source} to {header.dest}.")


def _pupil(element: etree._Element, position: int, chosen: frozenset[str], today: date,
           errors: Findings, warnings: Findings) -> PupilRecord:
    upn = (_text(element, "UPN") or "").upper()
    check_upn(upn, "Pupil/UPN", position, errors)

    names = {}
    for tag in ("Forename", "Surname"):
        names[tag] = _text(element, tag) or ""
        problem = name_problem(tag, names[tag])
        if problem:
            errors.add(*problem, f"Pupil/{tag}", position)

    sex_elements = ctf_config()["sex_elements"]
    tag = next((t for t in sex_elements if element.find(t) is not None), sex_elements[0])
    sex = (_text(element, tag) or "").upper()
    codes = ctf_config()["sex_codes"]
    if sex not in codes:
        errors.add("sex", f"{tag} must be {' or '.join(codes)}.", f"Pupil/{tag}", position)

    dob_text = _text(element, "DOB") or ""
    dob = _iso_date(dob_text)
    if dob is None or dob >= today:
        errors.add("dob", "DOB must be a valid date in the past, written YYYY-MM-DD.", "Pupil/DOB",
                   position)

    nc_year = whole_number(_text(element, "BasicDetails/NCyearActual")
                           or _text(element, "NCyearActual") or "")
    results = _assessments(element, position, chosen, errors, warnings)
    if not results:
        shown = ", ".join(ctf_config()["parts"][p] for p in PARTS if p in chosen)
        warnings.add("no-results", f"No results to import for this pupil in the parts chosen "
                     f"({shown}); the pupil will not be counted in reports.",
                     "Pupil/StageAssessments", position)
    return PupilRecord(position, upn, names["Forename"], names["Surname"],
                       sex if sex in codes else None, dob, nc_year, results)


def _iso_date(text: str) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


def _assessments(pupil: etree._Element, position: int, chosen: frozenset[str], errors: Findings,
                 warnings: Findings) -> dict[str, dict[str, Any]]:
    """Results keyed by part, e.g. ``{"mtc": {"score": 23, "year": 2026}}``.

    A part holds the pupil's latest assessment year only (a Year 2 phonics retake replaces the
    Year 1 mark). Parts not chosen are skipped without a word.
    """
    config = ctf_config()
    stages: dict[str, list[str]] = {s.upper(): p for s, p in config["stages"].items()}
    ignored = {s.upper() for s in config["ignored_stages"]}
    lists = code_lists()
    results: dict[str, dict[str, Any]] = {}
    for key_stage in pupil.iterfind("StageAssessments/KeyStage"):
        stage = (_text(key_stage, "Stage") or "").upper()
        if stage in ignored:
            continue
        if stage not in stages:
            warnings.add("stage-unknown", f"Stage '{stage}' is not one the service imports "
                         f"({', '.join(stages)}); its assessments are not imported.",
                         f"KeyStage Stage={stage}", position)
            continue
        if not chosen & set(stages[stage]):
            continue
        for assessment in key_stage.iterfind("StageAssessment"):
            fields = {name: (_text(assessment, tag) or "").upper() for name, tag in FIELDS}
            path = "StageAssessment " + " ".join(
                [f"Stage={stage}"] + [f"{tag}={fields[name]}" for tag, name in PATH_FIELDS
                                      if fields[name]])
            year = whole_number(fields["year"]) if re.fullmatch(r"\d{4}", fields["year"]) else None
            if year not in lists:
                shown = f"year {fields['year']}" if fields["year"] else "a missing Year"
                warnings.add("code-list-missing", f"There is no code list for {shown}, so these "
                             "results are not imported.",
                             f"StageAssessment Stage={stage} Year={fields['year']}", position)
                continue
            key = (stage, fields["subject"], fields["method"], fields["component"],
                   fields["qualifier"])
            row = next((r for r in lists[year].get(key, []) if r.accepts(fields)), None)
            if row is None:
                warnings.add("code-unknown", f"These codes are not in the {year} code list, so "
                             "this result is not imported.", path, position)
                continue
            if row.part in chosen:
                _store(results, row, year, fields["result"], f"{path} Result", position, errors,
                       warnings)
    return results


def _store(results: dict[str, dict[str, Any]], row: CodeRow, year: int, value: str, column: str,
           position: int, errors: Findings, warnings: Findings) -> None:
    kind = ctf_config()["results"][row.result]
    low, high = kind.get("min"), kind.get("max")
    number = whole_number(value) if re.fullmatch(r"\d+", value) else None
    if number is not None and low is not None and low <= number <= high:
        measure, stored = row.measure, number
    elif value in kind["codes"]:
        measure, stored = row.code_measure, value
    else:
        allowed = f"a whole number from {low} to {high} or " if low is not None else ""
        message = (f"{kind['label']} must be {allowed}one of {', '.join(kind['codes'])}.")
        if kind.get("invalid", "error") == "error":
            errors.add("result-invalid", message, column, position)
        else:
            warnings.add("result-invalid", message + " It is not imported.", column, position)
        return
    entry = results.get(row.part)
    if entry is not None and entry["year"] > year:
        return  # an earlier year's result for a part that already has a later one
    if entry is None or entry["year"] < year:
        entry = results[row.part] = {"year": year}
    overriding = kind.get("overriding_codes", [])
    if measure == row.measure and row.code_measure != row.measure \
            and entry.get(row.code_measure) in overriding:
        return  # a score voided by a code such as Q (maladministration) or H (cheating)
    entry[measure] = stored
    if stored in overriding and row.code_measure != row.measure:
        entry.pop(row.measure, None)
