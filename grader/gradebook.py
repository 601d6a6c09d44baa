"""Gradebook CSVs for an LMS: plain, Canvas and Moodle shaped, from one list of rows.

Stdlib only, so any part of dlgrade (the exam server, class grading) can write them:

- plain: ``id, name, email, <columns...>``, one row per student;
- Canvas: ``Student, ID, SIS User ID, Section, <Title> (<assignment id>)``, the
  columns Canvas's gradebook import matches students on;
- Moodle: ``ID number, Email address, <Title>``, for Moodle's "Import grades: CSV
  file", mapping either identifier to the user field of that name.

A score of ``None`` (the student did not take part) is written as an empty cell,
which both LMSs read as "no grade".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field


@dataclass
class GradeRow:
    """One student's line: who they are and their grade columns (title -> value)."""

    student_id: str
    name: str
    email: str
    score: float | None
    section: str = ""
    lms_id: str = ""  # the LMS's own user id (Canvas's "ID"), where the roster has it
    extra: dict[str, float | int | str | None] = field(default_factory=dict)


def _cell(value: float | int | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.4g}"
    return str(value)


def _write(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def plain_csv(rows: list[GradeRow], grade_column: str = "score") -> str:
    """``id, name, email, section, <grade_column>, <extra columns...>``."""
    extra = sorted({k for r in rows for k in r.extra})
    return _write(
        ["id", "name", "email", "section", grade_column, *extra],
        [
            [r.student_id, r.name, r.email, r.section, _cell(r.score)]
            + [_cell(r.extra.get(k)) for k in extra]
            for r in rows
        ],
    )


def canvas_csv(rows: list[GradeRow], title: str, assignment_id: str) -> str:
    """Canvas's gradebook import: the student columns it matches on, then ``Title (id)``.

    Canvas matches a row by ``ID`` (its own user id) or ``SIS User ID`` (the roster id);
    a column whose id names no Canvas assignment becomes a new one on import."""
    extra = sorted({k for r in rows for k in r.extra})
    column = f"{title} ({assignment_id})" if assignment_id else title  # no id: a new column
    return _write(
        ["Student", "ID", "SIS User ID", "Section", column, *extra],
        [
            [r.name, r.lms_id, r.student_id, r.section, _cell(r.score)]
            + [_cell(r.extra.get(k)) for k in extra]
            for r in rows
        ],
    )


def moodle_csv(rows: list[GradeRow], title: str) -> str:
    """Moodle's grade import: map ``ID number`` (or ``Email address``) to the user field of the
    same name, and the ``title`` column to the grade item."""
    extra = sorted({k for r in rows for k in r.extra})
    return _write(
        ["ID number", "Email address", "Full name", title, *extra],
        [
            [r.student_id, r.email, r.name, _cell(r.score)] + [_cell(r.extra.get(k)) for k in extra]
            for r in rows
        ],
    )


FORMATS = ("plain", "canvas", "moodle")


def gradebook_csv(rows: list[GradeRow], fmt: str, title: str, assignment_id: str) -> str:
    """The CSV of ``rows`` in ``fmt`` (one of FORMATS)."""
    if fmt == "canvas":
        return canvas_csv(rows, title, assignment_id)
    if fmt == "moodle":
        return moodle_csv(rows, title)
    if fmt == "plain":
        return plain_csv(rows)
    raise ValueError(f"unknown gradebook format {fmt!r} (known: {', '.join(FORMATS)})")
